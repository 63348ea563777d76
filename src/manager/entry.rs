//! The byte layout of a stored reference: one allocation holding its stamp,
//! its key (hash first) and the seven fields, each followed by a NUL, written
//! front to back through a [`Cursor`].

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::mem::ManuallyDrop;
use std::ptr::NonNull;

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
/// The stamp is written under the writer lock, when the entry is
/// stored (see [`RefManager::set_stamped`]).
/// The key (`[hash][type len][type][id]`) is what [`EntryRef::at_is`]
/// compares with a caller's container ID. The allocation is aligned to
/// [`ENTRY_ALIGN`].
pub(super) struct Entry(Block);

/// The alignment of an entry's allocation: a table slot keeps 4 bits of the
/// key's hash below the entry's address (see table.rs), so that the slot
/// still points into the entry (which leak checkers follow).
pub(super) const ENTRY_ALIGN: usize = 16;

/// An allocation of `len` (> 0) bytes aligned to [`ENTRY_ALIGN`], owned.
struct Block {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: a Block owns plain bytes.
unsafe impl Send for Block {}
// SAFETY: as above; shared access only reads.
unsafe impl Sync for Block {}

impl Block {
    fn layout(len: usize) -> Layout {
        Layout::from_size_align(len, ENTRY_ALIGN).expect("an entry's size fits a layout")
    }

    /// `len` uninitialized bytes.
    fn uninit(len: usize) -> Block {
        debug_assert!(len > 0);
        // SAFETY: the layout's size is not zero (an entry has a header).
        let p = unsafe { alloc(Self::layout(len)) };
        let Some(ptr) = NonNull::new(p) else {
            handle_alloc_error(Self::layout(len))
        };
        Block { ptr, len }
    }

    /// The bytes (all written: see [`Cursor::finish`]).
    #[inline(always)]
    fn bytes(&self) -> &[u8] {
        // SAFETY: `len` initialized bytes owned by the block.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    #[inline(always)]
    fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as above, uniquely owned.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        // SAFETY: allocated in `uninit` with this layout.
        unsafe { dealloc(self.ptr.as_ptr(), Self::layout(self.len)) };
    }
}

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

    pub(super) fn set_stamp(&mut self, stamp: u64) {
        self.0.bytes_mut()[4..KEY_AT].copy_from_slice(&stamp.to_ne_bytes());
    }

    /// The entry's size in bytes.
    pub(super) fn len(&self) -> usize {
        self.0.len
    }

    /// A view of the entry.
    #[inline(always)]
    pub(super) fn as_ref(&self) -> EntryRef<'_> {
        EntryRef(self.0.bytes())
    }

    /// The entry as a thin pointer (aligned to [`ENTRY_ALIGN`]), for a table
    /// slot; [`Entry::from_raw`] takes it back.
    pub(super) fn into_raw(self) -> NonNull<u8> {
        ManuallyDrop::new(self).0.ptr
    }

    /// The entry whose thin pointer [`Entry::into_raw`] returned, of
    /// `len` bytes (its `bytes().len()`), without reading it.
    ///
    /// # Safety
    /// `p` came from `into_raw`, `len` is the entry's length, and `p` is not
    /// used again.
    pub(super) unsafe fn from_raw_parts(p: NonNull<u8>, len: usize) -> Entry {
        Entry(Block { ptr: p, len })
    }

    /// The entry whose thin pointer [`Entry::into_raw`] returned.
    ///
    /// # Safety
    /// `p` came from `into_raw` and is not used again.
    pub(super) unsafe fn from_raw(p: NonNull<u8>) -> Entry {
        // SAFETY: forwarded; the length is the entry's own, read from it.
        let len = unsafe { EntryRef::from_raw(p.as_ptr()) }.0.len();
        Entry(Block { ptr: p, len })
    }
}

/// A stored entry, borrowed: from a table slot while pinned, or under the
/// writer lock.
#[derive(Clone, Copy)]
pub(super) struct EntryRef<'a>(&'a [u8]);

impl<'a> EntryRef<'a> {
    /// The entry at `p`, its length read from its own header and lengths.
    ///
    /// # Safety
    /// `p` came from [`Entry::into_raw`], and the entry is not freed for
    /// `'a` (the caller is pinned, or holds the writer lock).
    #[inline(always)]
    pub(super) unsafe fn from_raw(p: *const u8) -> EntryRef<'a> {
        // SAFETY: the header and the field lengths are inside the entry;
        // they give its exact length.
        unsafe {
            let word = std::ptr::read_unaligned(p.cast::<u32>()) as usize;
            let key_len = word & !(NARROW as usize);
            let lens_at = p.add(KEY_AT + key_len);
            let (lens_size, fields) = if word & NARROW as usize != 0 {
                let l = std::slice::from_raw_parts(lens_at, FIELD_COUNT);
                (FIELD_COUNT, l.iter().map(|&b| b as usize).sum::<usize>())
            } else {
                let mut sum = 0;
                for k in 0..FIELD_COUNT {
                    sum += std::ptr::read_unaligned(lens_at.add(4 * k).cast::<u32>()) as usize;
                }
                (4 * FIELD_COUNT, sum)
            };
            let len = KEY_AT + key_len + lens_size + fields + FIELD_COUNT;
            EntryRef(std::slice::from_raw_parts(p, len))
        }
    }

    /// The entry's bytes.
    #[inline(always)]
    pub(super) fn bytes(self) -> &'a [u8] {
        self.0
    }

    #[inline(always)]
    fn key_len(self) -> usize {
        read_u32(self.0, 0) & !(NARROW as usize)
    }

    /// The entry's stamp (0 until stored).
    #[inline(always)]
    pub(super) fn stamp(self) -> u64 {
        u64::from_ne_bytes(self.0[4..KEY_AT].try_into().expect("8 bytes"))
    }

    /// The manager's hash of the key, stored at its start.
    #[inline(always)]
    pub(super) fn hash(self) -> u64 {
        key_hash(self.key_bytes())
    }

    /// `[hash][type len][type][id]`
    #[inline(always)]
    fn key_bytes(self) -> &'a [u8] {
        &self.0[KEY_AT..KEY_AT + self.key_len()]
    }

    /// Whether the entry at `p` is the entry of `id`, whose hash is `hash`,
    /// reading only its first word and its key (compared with the caller's
    /// bytes in place).
    ///
    /// # Safety
    /// As for [`from_raw`](Self::from_raw).
    #[inline(always)]
    pub(super) unsafe fn at_is(p: *const u8, hash: u64, id: ContainerIdRef<'_>) -> bool {
        // SAFETY: the first word and the key are inside the entry.
        let k = unsafe {
            let word = std::ptr::read_unaligned(p.cast::<u32>()) as usize;
            std::slice::from_raw_parts(p.add(KEY_AT), word & !(NARROW as usize))
        };
        key_is(k, hash, id)
    }

    #[inline(always)]
    pub(super) fn key(self) -> ContainerIdRef<'a> {
        let k = self.key_bytes();
        let (typ, id) = k[KEY_FIXED..].split_at(read_u32(k, 8));
        ContainerIdRef { typ, id }
    }

    #[inline(always)]
    pub(super) fn stored(self) -> StoredRef<'a> {
        let rest = &self.0[KEY_AT + self.key_len()..];
        let mut lens = [0usize; FIELD_COUNT];
        let blob = if read_u32(self.0, 0) & NARROW as usize != 0 {
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
    buf: Block,
    at: usize,
}

impl Cursor {
    pub(super) fn new(size: usize) -> Cursor {
        Cursor {
            buf: Block::uninit(size),
            at: 0,
        }
    }

    /// Appends `bytes`.
    #[inline(always)]
    pub(crate) fn put(&mut self, bytes: &[u8]) {
        let end = self.at + bytes.len();
        assert!(end <= self.buf.len, "entry contents longer than computed");
        // SAFETY: `at..end` is inside the allocation; the source is a
        // different allocation (the caller's bytes).
        unsafe {
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                self.buf.ptr.as_ptr().add(self.at),
                bytes.len(),
            )
        };
        self.at = end;
    }

    /// The allocation, every byte of which has been written (checked: only
    /// then may the block's bytes be read).
    fn finish(self) -> Block {
        assert_eq!(
            self.at, self.buf.len,
            "entry contents shorter than computed"
        );
        self.buf
    }
}

/// A stored reference, borrowed from the manager while the reader is pinned
/// (a lookup) or the writer lock is held (a scan).
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

/// Whether key bytes `k` (`[hash][type len][type][id]`) are `id`'s, whose
/// hash is `hash`: the hash first (almost every other key differs there),
/// then the lengths and the bytes.
#[inline(always)]
fn key_is(k: &[u8], hash: u64, id: ContainerIdRef<'_>) -> bool {
    let tl = id.typ.len();
    key_hash(k) == hash
        && k.len() == KEY_FIXED + tl + id.id.len()
        && read_u32(k, 8) == tl
        && short_eq(&k[KEY_FIXED..KEY_FIXED + tl], id.typ)
        && &k[KEY_FIXED + tl..] == id.id
}

/// `a == b`, without a call to `memcmp` for a runtime name of 8 to 16
/// bytes (such as `containerd`): two overlapping 8-byte words.
#[inline(always)]
fn short_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() || !(8..=16).contains(&n) {
        return a == b;
    }
    let w = |s: &[u8], at: usize| u64::from_ne_bytes(s[at..at + 8].try_into().expect("8 bytes"));
    ((w(a, 0) ^ w(b, 0)) | (w(a, n - 8) ^ w(b, n - 8))) == 0
}

/// The hash at the start of key bytes.
#[inline(always)]
fn key_hash(key: &[u8]) -> u64 {
    u64::from_ne_bytes(key[..8].try_into().expect("8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::short_eq;

    #[test]
    fn short_eq_is_slice_equality() {
        let a: Vec<u8> = (0..40u8)
            .map(|i| i.wrapping_mul(37).wrapping_add(11))
            .collect();
        for n in 0..=a.len() {
            let x = &a[..n];
            // Equal bytes at another address.
            let copy = x.to_vec();
            assert!(short_eq(x, &copy), "{n} equal bytes");
            for flip in 0..n {
                let mut y = x.to_vec();
                y[flip] ^= 0x20;
                assert!(!short_eq(x, &y), "{n} bytes, byte {flip} differs");
            }
            if n > 0 {
                assert!(!short_eq(x, &a[..n - 1]), "{n} against {} bytes", n - 1);
            }
        }
    }
}
