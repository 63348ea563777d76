//! The byte layout of a stored reference: one allocation holding its stamp,
//! its key (hash first) and the seven fields, each followed by a NUL, written
//! front to back through a [`Cursor`].

use crate::container_id::ContainerIdRef;
use crate::reference::{ObjectReferenceRef, FIELD_COUNT};

/// The key's bytes in an entry and in a probe: hash (8), type length (4),
/// type, ID. The hash comes first, so comparing keys compares it first.
const KEY_FIXED: usize = 8 + 4;
/// Where an entry's key starts: after its first word (key length and the
/// NARROW flag) and its stamp.
const KEY_AT: usize = 4 + 8;
/// The bytes of an entry before its key's type bytes (key length word,
/// stamp, hash, type length): where an entry starts relative to its key type.
pub(super) const HEADER: usize = KEY_AT + KEY_FIXED;
/// Set in an entry's first word when every field is shorter than 256 bytes
/// and the field lengths are stored as one byte each (7 bytes instead of 28;
/// with real references this saves a 16- or 32-byte malloc size class).
const NARROW: u32 = 1 << 31;

/// One stored reference, one allocation:
/// `[key len | NARROW u32][stamp u64][hash u64][type len u32][type][id][7 field lens, u8 or u32][field\0 x 7]`.
/// The stamp is written under the shard's write lock, when the entry is
/// stored (see [`RefManager::set_stamped`]).
/// The key (`[hash][type len][type][id]`) is what [`Entry::is`] compares
/// with a caller's container ID.
pub(super) struct Entry(pub(super) Box<[u8]>);

#[inline(always)]
fn read_u32(b: &[u8], at: usize) -> usize {
    u32::from_ne_bytes(b[at..at + 4].try_into().expect("4 bytes")) as usize
}

impl Entry {
    /// An entry for `key` whose field `k` has `lens[k]` bytes, written by
    /// `write(k, buf)`.
    #[inline(always)]
    pub(super) fn new(
        hash: u64,
        id: ContainerIdRef<'_>,
        lens: [usize; FIELD_COUNT],
        mut write: impl FnMut(usize, &mut Cursor),
    ) -> Entry {
        let narrow = lens.iter().all(|&l| l < 256);
        let lens_size = if narrow { 1 } else { 4 } * FIELD_COUNT;
        let key_len = KEY_FIXED + id.typ.len() + id.id.len();
        let size = KEY_AT + key_len + lens_size + lens.iter().sum::<usize>() + FIELD_COUNT;
        let mut b = Cursor::new(size);
        let word = key_len as u32 | if narrow { NARROW } else { 0 };
        b.put(&word.to_ne_bytes());
        // The stamp, set when the entry is stored.
        b.put(&0u64.to_ne_bytes());
        // The key bytes: hash, type length, type, ID.
        b.put(&hash.to_ne_bytes());
        b.put(&(id.typ.len() as u32).to_ne_bytes());
        b.put(id.typ);
        b.put(id.id);
        if narrow {
            b.put(&lens.map(|l| l as u8));
        } else {
            for l in lens {
                b.put(&(l as u32).to_ne_bytes());
            }
        }
        for (k, &l) in lens.iter().enumerate() {
            let start = b.at;
            write(k, &mut b);
            assert_eq!(b.at - start, l, "a field's pieces and length disagree");
            b.put(&[0]);
        }
        Entry(b.finish())
    }

    #[inline(always)]
    fn key_len(&self) -> usize {
        read_u32(&self.0, 0) & !(NARROW as usize)
    }

    /// The entry's stamp (0 until stored).
    #[inline(always)]
    pub(super) fn stamp(&self) -> u64 {
        u64::from_ne_bytes(self.0[4..KEY_AT].try_into().expect("8 bytes"))
    }

    pub(super) fn set_stamp(&mut self, stamp: u64) {
        self.0[4..KEY_AT].copy_from_slice(&stamp.to_ne_bytes());
    }

    /// The manager's hash of the key, stored at its start.
    #[inline(always)]
    pub(super) fn hash(&self) -> u64 {
        key_hash(self.key_bytes())
    }

    /// `[hash][type len][type][id]`
    #[inline(always)]
    fn key_bytes(&self) -> &[u8] {
        &self.0[KEY_AT..KEY_AT + self.key_len()]
    }

    /// Whether this is the entry of `id`, whose hash is `hash`: the hash
    /// first (almost every other entry differs there), then the lengths and
    /// the bytes, compared with the caller's own.
    #[inline(always)]
    pub(super) fn is(&self, hash: u64, id: ContainerIdRef<'_>) -> bool {
        let k = self.key_bytes();
        let tl = id.typ.len();
        key_hash(k) == hash
            && k.len() == KEY_FIXED + tl + id.id.len()
            && read_u32(k, 8) == tl
            && &k[KEY_FIXED..KEY_FIXED + tl] == id.typ
            && &k[KEY_FIXED + tl..] == id.id
    }

    #[inline(always)]
    pub(super) fn key(&self) -> ContainerIdRef<'_> {
        let k = self.key_bytes();
        let (typ, id) = k[KEY_FIXED..].split_at(read_u32(k, 8));
        ContainerIdRef { typ, id }
    }

    #[inline(always)]
    pub(super) fn stored(&self) -> StoredRef<'_> {
        let rest = &self.0[KEY_AT + self.key_len()..];
        let mut lens = [0usize; FIELD_COUNT];
        let blob = if read_u32(&self.0, 0) & NARROW as usize != 0 {
            let (lens_bytes, blob) = rest.split_at(FIELD_COUNT);
            for (l, &b) in lens.iter_mut().zip(lens_bytes) {
                *l = b as usize;
            }
            blob
        } else {
            let (lens_bytes, blob) = rest.split_at(4 * FIELD_COUNT);
            for (k, l) in lens.iter_mut().enumerate() {
                *l = read_u32(lens_bytes, 4 * k);
            }
            blob
        };
        StoredRef {
            blob,
            lens,
            stamp: self.stamp(),
        }
    }
}

/// Writes an entry's bytes into its allocation, front to back: one
/// allocation of the exact size, not zeroed (`calloc` bypasses glibc's
/// thread cache) and with no capacity checks (appending piece by piece to a
/// `Vec` made building an entry most of a set's work).
pub(crate) struct Cursor {
    buf: Box<[std::mem::MaybeUninit<u8>]>,
    at: usize,
}

impl Cursor {
    pub(super) fn new(size: usize) -> Cursor {
        Cursor {
            buf: Box::new_uninit_slice(size),
            at: 0,
        }
    }

    /// Appends `bytes`.
    #[inline(always)]
    pub(crate) fn put(&mut self, bytes: &[u8]) {
        let end = self.at + bytes.len();
        assert!(end <= self.buf.len(), "entry contents longer than computed");
        // SAFETY: `at..end` is inside the allocation; the source is a
        // different allocation (the caller's bytes).
        unsafe {
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                self.buf.as_mut_ptr().add(self.at).cast::<u8>(),
                bytes.len(),
            )
        };
        self.at = end;
    }

    /// The allocation, every byte of which has been written.
    pub(super) fn finish(self) -> Box<[u8]> {
        assert_eq!(
            self.at,
            self.buf.len(),
            "entry contents shorter than computed"
        );
        // SAFETY: `put` wrote bytes `0..at`, and `at` is the whole length.
        unsafe { self.buf.assume_init() }
    }
}

/// A stored reference, borrowed from the manager while its shard is locked.
#[derive(Clone, Copy, Debug)]
pub struct StoredRef<'a> {
    blob: &'a [u8],
    lens: [usize; FIELD_COUNT],
    stamp: u64,
}

impl<'a> StoredRef<'a> {
    /// The seven fields, each followed by a NUL byte, back to back in
    /// upstream order: what a C caller's buffer receives.
    pub fn nul_terminated_fields(&self) -> &'a [u8] {
        self.blob
    }

    /// The stamp of this stored reference (see [`RefManager::set_stamped`]).
    pub fn stamp(&self) -> u64 {
        self.stamp
    }

    /// The length of each field in upstream order (without its NUL).
    pub fn lens(&self) -> [usize; FIELD_COUNT] {
        self.lens
    }

    /// A view of the fields.
    pub fn as_ref(&self) -> ObjectReferenceRef<'a> {
        let mut at = 0;
        let blob = self.blob;
        ObjectReferenceRef::from_fields(self.lens.map(|l| {
            let f = &blob[at..at + l];
            at += l + 1;
            f
        }))
    }
}

/// The hash at the start of key bytes.
#[inline(always)]
fn key_hash(key: &[u8]) -> u64 {
    u64::from_ne_bytes(key[..8].try_into().expect("8 bytes"))
}
