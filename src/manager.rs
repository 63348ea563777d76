//! The container reference manager: upstream `RefManager`, a thread-safe map
//! from container ID to object reference.
//!
//! Design (for speed and a small footprint, see the README's Performance
//! section):
//!
//! * 32 shards, each an `RwLock<hashbrown::HashTable<Entry>>` on its own
//!   cache lines, picked by bits of the key's hash, so that readers and
//!   writers of different keys rarely touch the same lock.
//! * Each entry is **one allocation** holding its stamp, the key (its hash
//!   first) and the seven reference strings, each already followed by a NUL.
//!   A lookup hashes the caller's key bytes once with a seeded
//!   folded-multiply hash (no allocation, no per-byte loop), and the table
//!   compares them in place with an entry's (stored hash first); a get to a
//!   C buffer is one `memcpy` of the strings.
//! * New entries are written front to back into one uninitialized
//!   allocation before the lock is taken, and replaced ones are dropped
//!   after it is released, so writers hold a lock only for the table
//!   operation itself.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::container_id::ContainerIdRef;
use crate::reference::{ObjectReference, ObjectReferenceRef, Pieces, FIELD_COUNT};
use crate::stats::{ShardStats, Stats};

/// The largest string (each key part and each reference field) a manager
/// stores, in bytes: 64 MiB.
pub const MAX_STR_LEN: usize = 64 << 20;
const _: () = assert!(MAX_STR_LEN == crate::ffi::types::KUBEREF_MAX_STR_LEN);

/// A string longer than [`MAX_STR_LEN`] was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLong;

impl std::fmt::Display for TooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "string longer than {MAX_STR_LEN} bytes")
    }
}

impl std::error::Error for TooLong {}

/// Panic-injection points inside the shard write lock (test builds only;
/// see `ffi::boundary::inject_panic`).
pub const SET_LOCKED: &str = "RefManager::set (shard write-locked)";
/// See [`SET_LOCKED`].
pub const CLEAR_LOCKED: &str = "RefManager::clear (shard write-locked)";

const SHARD_BITS: u32 = 5;
const SHARDS: usize = 1 << SHARD_BITS;
/// Shard selection uses bits 32..37 of the hash: the table inside a shard
/// uses the low bits for the bucket and the top 7 bits for its tag byte.
const SHARD_SHIFT: u32 = 32;

/// The key's bytes in an entry and in a probe: hash (8), type length (4),
/// type, ID. The hash comes first, so comparing keys compares it first.
const KEY_FIXED: usize = 8 + 4;
/// Where an entry's key starts: after its first word (key length and the
/// NARROW flag) and its stamp.
const KEY_AT: usize = 4 + 8;
/// The bytes of an entry before its key's type bytes (key length word,
/// stamp, hash, type length): where an entry starts relative to its key type.
const HEADER: usize = KEY_AT + KEY_FIXED;
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
struct Entry(Box<[u8]>);

#[inline(always)]
fn read_u32(b: &[u8], at: usize) -> usize {
    u32::from_ne_bytes(b[at..at + 4].try_into().expect("4 bytes")) as usize
}

impl Entry {
    /// An entry for `key` whose field `k` has `lens[k]` bytes, written by
    /// `write(k, buf)`.
    #[inline(always)]
    fn new(
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
    fn stamp(&self) -> u64 {
        u64::from_ne_bytes(self.0[4..KEY_AT].try_into().expect("8 bytes"))
    }

    fn set_stamp(&mut self, stamp: u64) {
        self.0[4..KEY_AT].copy_from_slice(&stamp.to_ne_bytes());
    }

    /// The manager's hash of the key, stored at its start.
    #[inline(always)]
    fn hash(&self) -> u64 {
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
    fn is(&self, hash: u64, id: ContainerIdRef<'_>) -> bool {
        let k = self.key_bytes();
        let tl = id.typ.len();
        key_hash(k) == hash
            && k.len() == KEY_FIXED + tl + id.id.len()
            && read_u32(k, 8) == tl
            && &k[KEY_FIXED..KEY_FIXED + tl] == id.typ
            && &k[KEY_FIXED + tl..] == id.id
    }

    #[inline(always)]
    fn key(&self) -> ContainerIdRef<'_> {
        let k = self.key_bytes();
        let (typ, id) = k[KEY_FIXED..].split_at(read_u32(k, 8));
        ContainerIdRef { typ, id }
    }

    #[inline(always)]
    fn stored(&self) -> StoredRef<'_> {
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
    fn new(size: usize) -> Cursor {
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
    fn finish(self) -> Box<[u8]> {
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

/// The hash of a container ID (stored at the start of its key bytes).
#[inline(always)]
fn key_hash_of(m: &RefManager, id: ContainerIdRef<'_>) -> u64 {
    hash_bytes(hash_bytes(m.seed[0], m.seed[1], id.typ), m.seed[1], id.id)
}

/// The hash at the start of key bytes.
#[inline(always)]
fn key_hash(key: &[u8]) -> u64 {
    u64::from_ne_bytes(key[..8].try_into().expect("8 bytes"))
}

/// A shard's entries. `HashTable` takes the hash and the equality test at
/// each call, so a lookup compares the caller's key bytes with an entry's
/// in place (no key is built) and the stored hash is never recomputed.
type Table = hashbrown::HashTable<Entry>;

/// `len += d` for a shard's count, which changes only under the shard's
/// write lock: a load and a store, not a locked read-modify-write.
#[inline(always)]
fn add_len(len: &AtomicUsize, d: usize) {
    len.store(
        len.load(Ordering::Relaxed).wrapping_add(d),
        Ordering::Relaxed,
    );
}

#[repr(align(128))]
struct Shard {
    table: RwLock<Table>,
    len: AtomicUsize,
    /// How many entries this shard has stored (the source of stamps);
    /// changes only under the write lock.
    stored: AtomicU64,
    /// Counters (src/stats.rs), on the shard's own cache lines.
    stats: ShardStats,
}

/// 128-bit multiply, folded: the mixing step of the key hash.
#[inline(always)]
fn fold_mul(a: u64, b: u64) -> u64 {
    let r = (a as u128).wrapping_mul(b as u128);
    (r as u64) ^ ((r >> 64) as u64)
}

const K0: u64 = 0x243f_6a88_85a3_08d3;

#[inline(always)]
fn read8(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

#[inline(always)]
fn read4(b: &[u8], at: usize) -> u64 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes")) as u64
}

/// Hashes `bytes` into `h` with the secret `s`: 16 bytes per folded multiply,
/// tails read as overlapping words (no copy, no call).
#[inline(always)]
fn hash_bytes(mut h: u64, s: u64, bytes: &[u8]) -> u64 {
    let len = bytes.len();
    h ^= (len as u64).wrapping_mul(K0);
    let (a, b) = if len <= 16 {
        if len >= 8 {
            (read8(bytes, 0), read8(bytes, len - 8))
        } else if len >= 4 {
            (read4(bytes, 0), read4(bytes, len - 4))
        } else if len > 0 {
            let (x, y, z) = (
                bytes[0] as u64,
                bytes[len / 2] as u64,
                bytes[len - 1] as u64,
            );
            ((x << 16) | (y << 8) | z, 0)
        } else {
            (0, 0)
        }
    } else {
        let mut at = 0;
        while len - at > 16 {
            h = fold_mul(read8(bytes, at) ^ s, read8(bytes, at + 8) ^ h);
            at += 16;
        }
        (read8(bytes, len - 16), read8(bytes, len - 8))
    };
    fold_mul(a ^ s, b ^ h)
}

/// The container reference manager (upstream `RefManager`). All methods take
/// `&self` and are safe to call from any number of threads.
pub struct RefManager {
    seed: [u64; 2],
    shards: Box<[Shard]>,
    /// The change counter (see [`changes`](Self::changes)), on its own
    /// cache lines: readers load it, writers of every shard add to it.
    changes: Changes,
}

#[repr(align(128))]
struct Changes(AtomicU64);

/// A shard's write lock. Dropping it counts one change in the manager's
/// change counter, while the lock is still held: after whatever the holder
/// changed, and before any reader can see that change (also when the holder
/// unwinds).
struct Writing<'a> {
    table: RwLockWriteGuard<'a, Table>,
    changes: &'a AtomicU64,
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        self.changes.fetch_add(1, Ordering::Release);
    }
}

impl Deref for Writing<'_> {
    type Target = Table;
    fn deref(&self) -> &Table {
        &self.table
    }
}

impl DerefMut for Writing<'_> {
    fn deref_mut(&mut self) -> &mut Table {
        &mut self.table
    }
}

impl Default for RefManager {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for RefManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefManager")
            .field("len", &self.len())
            .finish()
    }
}

fn check_len(parts: &[usize]) -> Result<(), TooLong> {
    if parts.iter().any(|&l| l > MAX_STR_LEN) {
        Err(TooLong)
    } else {
        Ok(())
    }
}

impl RefManager {
    /// An empty manager (upstream `NewRefManager`). Each manager has its own
    /// random hash seed.
    pub fn new() -> Self {
        let rs = RandomState::new();
        let seed = [rs.hash_one(0u64) | 1, rs.hash_one(1u64)];
        let shards = (0..SHARDS)
            .map(|_| Shard {
                table: RwLock::new(Table::default()),
                len: AtomicUsize::new(0),
                stored: AtomicU64::new(0),
                stats: ShardStats::default(),
            })
            .collect();
        RefManager {
            seed,
            shards,
            changes: Changes(AtomicU64::new(0)),
        }
    }

    fn shard_index(hash: u64) -> usize {
        ((hash >> SHARD_SHIFT) as usize) & (SHARDS - 1)
    }

    fn shard(&self, hash: u64) -> &Shard {
        &self.shards[Self::shard_index(hash)]
    }

    fn read(shard: &Shard) -> RwLockReadGuard<'_, Table> {
        // A panic cannot leave a table half-updated (each operation is one
        // std call), so a poisoned lock is safe to keep using.
        shard.table.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write<'a>(&'a self, shard: &'a Shard) -> Writing<'a> {
        Writing {
            table: shard.table.write().unwrap_or_else(PoisonError::into_inner),
            changes: &self.changes.0,
        }
    }

    /// The change counter: a number that grows by at least one with every
    /// change to the stored references (each set and clear, and each batch
    /// of a bulk removal or load; a clear of an absent key may count too).
    /// It grows before the change can be seen by any reader, so if two
    /// loads return the same value, no change that a lookup between them
    /// could have seen was made between them: a caller that copied a
    /// reference after seeing value `v` may keep using its copy for as long
    /// as the counter is still `v` (a cache that skips the lookup).
    pub fn changes(&self) -> u64 {
        self.changes.0.load(Ordering::Acquire)
    }

    /// The change counter itself (see [`changes`](Self::changes)), for the
    /// C ABI, whose callers load it without a call.
    pub(crate) fn changes_counter(&self) -> &AtomicU64 {
        &self.changes.0
    }

    /// Stores a copy of `reference` under `id`, replacing any earlier one
    /// (upstream `SetRef`). Fails only if a string exceeds [`MAX_STR_LEN`].
    pub fn set(
        &self,
        id: ContainerIdRef<'_>,
        reference: ObjectReferenceRef<'_>,
    ) -> Result<(), TooLong> {
        self.set_stamped(id, reference).map(drop)
    }

    /// [`set`](Self::set), returning the new entry's stamp: a nonzero number
    /// that no other reference stored in this manager has had or will have.
    /// [`stamp`](Self::stamp) returns it as long as this reference stays
    /// stored, so a caller can cache what it built from a stored reference
    /// and know, without copying it again, whether it is still current.
    pub fn set_stamped(
        &self,
        id: ContainerIdRef<'_>,
        reference: ObjectReferenceRef<'_>,
    ) -> Result<u64, TooLong> {
        let f = reference.fields();
        self.insert(id, f.map(<[u8]>::len), |k, b| b.put(f[k]))
    }

    /// Like [`set`](Self::set), with fields given as pieces (for example a
    /// [`GeneratedRef`](crate::reference::GeneratedRef)'s, without building
    /// an owned reference first).
    pub fn set_pieces(
        &self,
        id: ContainerIdRef<'_>,
        fields: [&dyn Pieces; FIELD_COUNT],
    ) -> Result<(), TooLong> {
        self.insert(id, fields.map(|f| f.byte_len()), |k, b| {
            fields[k].pieces(&mut |p| b.put(p))
        })
        .map(drop)
    }

    #[inline(always)]
    fn insert(
        &self,
        id: ContainerIdRef<'_>,
        lens: [usize; FIELD_COUNT],
        write: impl FnMut(usize, &mut Cursor),
    ) -> Result<u64, TooLong> {
        check_len(&[id.typ.len(), id.id.len()])?;
        check_len(&lens)?;
        // No stack copy of the key: the entry is built from the caller's bytes.
        let hash = key_hash_of(self, id);
        let mut entry = Entry::new(hash, id, lens, write);
        debug_assert!(entry.key() == id);
        let size = entry.0.len();
        let index = Self::shard_index(hash);
        let shard = &self.shards[index];
        let (old, stamp) = {
            let mut t = self.write(shard);
            // Unique in the manager: the shard's store count, tagged with
            // the shard (a load and a store: the count changes only here,
            // under this lock).
            let n = shard.stored.load(Ordering::Relaxed) + 1;
            shard.stored.store(n, Ordering::Relaxed);
            let stamp = (n << SHARD_BITS) | index as u64;
            entry.set_stamp(stamp);
            // Test builds can panic here, with the write lock held, to show
            // that a poisoned shard keeps working (tests/panic_injection.rs).
            crate::ffi::boundary::injection_point(SET_LOCKED);
            // One probe for both cases.
            let old = match t.entry(hash, |e| e.is(hash, id), Entry::hash) {
                hashbrown::hash_table::Entry::Occupied(mut o) => {
                    Some(std::mem::replace(o.get_mut(), entry))
                }
                hashbrown::hash_table::Entry::Vacant(v) => {
                    v.insert(entry);
                    None
                }
            };
            if old.is_none() {
                add_len(&shard.len, 1);
            }
            shard.stats.on_set(size, old.as_ref().map(|e| e.0.len()));
            (old, stamp)
        };
        drop(old);
        Ok(stamp)
    }

    /// Calls `f` with the reference stored under `id` while its shard is
    /// read-locked, and returns what `f` returns; `None` if there is none.
    /// `f` must be short: writers of the same shard wait for it.
    pub fn with_ref<R>(
        &self,
        id: ContainerIdRef<'_>,
        f: impl FnOnce(StoredRef<'_>) -> R,
    ) -> Option<R> {
        let hash = key_hash_of(self, id);
        let shard = self.shard(hash);
        let t = Self::read(shard);
        let found = t.find(hash, |e| e.is(hash, id));
        shard.stats.on_get(found.is_some());
        found.map(|e| f(e.stored()))
    }

    /// A copy of the reference stored under `id` (upstream `GetRef`).
    pub fn get(&self, id: ContainerIdRef<'_>) -> Option<ObjectReference> {
        self.with_ref(id, |s| s.as_ref().to_owned())
    }

    /// The stamp of the reference stored under `id` (see
    /// [`set_stamped`](Self::set_stamped)), without copying it; `None` if
    /// there is none.
    pub fn stamp(&self, id: ContainerIdRef<'_>) -> Option<u64> {
        self.with_ref(id, |s| s.stamp())
    }

    /// Whether a reference is stored under `id`.
    pub fn contains(&self, id: ContainerIdRef<'_>) -> bool {
        self.with_ref(id, |_| ()).is_some()
    }

    /// Forgets the reference stored under `id` (upstream `ClearRef`);
    /// returns whether there was one.
    pub fn clear(&self, id: ContainerIdRef<'_>) -> bool {
        self.clear_stamped(id).is_some()
    }

    /// [`clear`](Self::clear), returning the stamp of the reference it
    /// removed (see [`set_stamped`](Self::set_stamped)), so that a caller
    /// can drop what it cached for it; `None` if there was none.
    pub fn clear_stamped(&self, id: ContainerIdRef<'_>) -> Option<u64> {
        let hash = key_hash_of(self, id);
        let shard = self.shard(hash);
        let old = {
            let mut t = self.write(shard);
            crate::ffi::boundary::injection_point(CLEAR_LOCKED);
            let old = t
                .find_entry(hash, |e| e.is(hash, id))
                .ok()
                .map(|o| o.remove().0);
            if let Some(e) = &old {
                add_len(&shard.len, 1usize.wrapping_neg());
                shard.stats.on_clear(e.0.len());
            }
            old
        };
        // Freed with the lock released.
        old.map(|e| e.stamp())
    }

    /// The number of stored references. Exact when no writer runs
    /// concurrently; otherwise a value the count had during the call.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.len.load(Ordering::Relaxed))
            .sum()
    }

    /// Whether no reference is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

// --- Hooks for the modules beyond upstream ----------------------------------
//
// Leak control (src/leak.rs), enumeration and persistence (src/snapshot.rs,
// src/persist.rs) and counters (src/stats.rs) work shard by shard through
// these few primitives, so that no lock is held while caller code runs and a
// write lock is held only for the removals themselves.

/// Keys chosen for removal from one shard: hashes and key bytes copied out
/// of the shard (under its read lock) into one arena.
#[derive(Default)]
pub(crate) struct Doomed {
    keys: Vec<u8>,
    /// Hash, type length, ID length, and where the entry's key was at the
    /// scan (only a prefetch hint: never dereferenced).
    items: Vec<(u64, usize, usize, usize)>,
}

impl Doomed {
    /// Notes `id` (whose manager hash is `hash`) for removal.
    pub(crate) fn push(&mut self, hash: u64, id: ContainerIdRef<'_>) {
        self.keys.extend_from_slice(id.typ);
        self.keys.extend_from_slice(id.id);
        self.items
            .push((hash, id.typ.len(), id.id.len(), id.typ.as_ptr() as usize));
    }

    /// Forgets every noted key, keeping the memory.
    pub(crate) fn clear(&mut self) {
        self.keys.clear();
        self.items.clear();
    }

    fn iter(&self) -> impl Iterator<Item = (u64, ContainerIdRef<'_>)> {
        let mut at = 0;
        self.items.iter().map(move |&(hash, t, i, _)| {
            let typ = &self.keys[at..at + t];
            let id = &self.keys[at + t..at + t + i];
            at += t + i;
            (hash, ContainerIdRef { typ, id })
        })
    }
}

/// A prefetch hint for the cache line holding address `addr`, which need not
/// be valid (a prefetch has no effect on memory and never faults).
#[inline(always)]
fn prefetch_addr(addr: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: _mm_prefetch only hints the cache; it dereferences nothing.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(addr as *const i8)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = addr;
}

/// Asks the CPU to start loading the first 192 bytes of `bytes` (the header,
/// the key and the first fields of an entry) into the cache.
#[inline(always)]
fn prefetch(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    for off in (0..bytes.len().min(192)).step_by(64) {
        // SAFETY: prefetching is a hint with no effect on memory; the address
        // is inside `bytes`.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                bytes.as_ptr().add(off).cast(),
            )
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
}

/// The most removals a bulk removal makes per write-lock hold.
pub(crate) const REMOVE_BATCH: usize = 256;

/// Each shard's store count at one moment (see [`RefManager::store_marks`]).
pub(crate) struct StoreMarks([u64; SHARDS]);

impl StoreMarks {
    /// Whether the reference with `stamp`, in shard `shard`, was stored
    /// before these marks were taken.
    pub(crate) fn covers(&self, shard: usize, stamp: u64) -> bool {
        stamp >> SHARD_BITS <= self.0[shard]
    }
}

impl RefManager {
    /// The number of shards (the unit of the bulk operations' consistency).
    pub(crate) const SHARD_COUNT: usize = SHARDS;

    /// Each shard's store count now: every reference stored from now on has
    /// a stamp the marks do not cover (see [`StoreMarks::covers`]).
    pub(crate) fn store_marks(&self) -> StoreMarks {
        StoreMarks(std::array::from_fn(|i| {
            self.shards[i].stored.load(Ordering::Relaxed)
        }))
    }

    /// The manager's hash of a key, as stored in its entry.
    pub(crate) fn key_hash(&self, id: ContainerIdRef<'_>) -> u64 {
        key_hash_of(self, id)
    }

    /// Calls `f(hash, id, reference)` for every entry of shard `shard` while
    /// it is read-locked (one consistent view of that shard). `f` must be
    /// short and must not call into this manager.
    pub(crate) fn scan_shard(
        &self,
        shard: usize,
        mut f: impl FnMut(u64, ContainerIdRef<'_>, StoredRef<'_>),
    ) {
        /// How many entries ahead of the one being looked at to prefetch:
        /// entries are separate allocations, so a scan of a large manager
        /// is one cache miss after another without it.
        const AHEAD: usize = 8;
        let t = Self::read(&self.shards[shard]);
        let mut ahead = t.iter();
        for e in ahead.by_ref().take(AHEAD) {
            prefetch(&e.0);
        }
        for e in t.iter() {
            if let Some(next) = ahead.next() {
                prefetch(&next.0);
            }
            f(e.hash(), e.key(), e.stored());
        }
    }

    /// Removes from shard `shard` each key in `doomed` whose entry still
    /// satisfies `still` (checked under the write lock, so a reference
    /// replaced since the scan is judged afresh); counted as pruned. The
    /// write lock is taken for at most [`REMOVE_BATCH`] removals at a time
    /// and the removed entries are freed after it is released, so readers
    /// and writers of the shard wait for one batch at most. Returns how many
    /// were removed.
    pub(crate) fn remove_doomed(
        &self,
        shard: usize,
        doomed: &Doomed,
        mut still: impl FnMut(StoredRef<'_>) -> bool,
    ) -> usize {
        let s = &self.shards[shard];
        let mut probes = doomed.iter().peekable();
        // Entries are separate allocations: start loading the ones a few
        // removals ahead (their addresses at the scan; a stale one costs
        // nothing, a prefetch never faults).
        let mut hints = doomed.items.iter().map(|it| it.3).skip(8);
        let mut removed = Vec::with_capacity(doomed.items.len().min(REMOVE_BATCH));
        let mut total = 0;
        while probes.peek().is_some() {
            {
                let mut t = self.write(s);
                for (hash, id) in probes.by_ref().take(REMOVE_BATCH) {
                    if let Some(h) = hints.next() {
                        prefetch_addr(h.wrapping_sub(HEADER));
                        prefetch_addr(h);
                    }
                    // One probe; a reference replaced since the scan is
                    // judged again.
                    if let Ok(o) = t.find_entry(hash, |e| e.is(hash, id)) {
                        if still(o.get().stored()) {
                            removed.push(o.remove().0);
                        }
                    }
                }
                let bytes = removed.iter().map(|e: &Entry| e.0.len()).sum();
                add_len(&s.len, removed.len().wrapping_neg());
                s.stats.on_prune(removed.len(), bytes);
            }
            total += removed.len();
            removed.clear(); // frees the entries, with the lock released
        }
        total
    }

    /// The counters, summed over the shards (each shard's table is
    /// read-locked briefly to size its slots).
    pub fn stats(&self) -> Stats {
        let mut total = Stats::default();
        for s in self.shards.iter() {
            let slots = Self::read(s).capacity();
            let table_bytes = slots * (std::mem::size_of::<Entry>() + 1);
            total.add_shard(&s.stats, s.len.load(Ordering::Relaxed), table_bytes);
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container_id::ContainerId;
    use std::sync::Arc;

    fn r(name: &str) -> ObjectReference {
        ObjectReference {
            kind: b"Pod".to_vec(),
            namespace: b"ns".to_vec(),
            name: name.as_bytes().to_vec(),
            uid: b"uid-1".to_vec(),
            api_version: b"v1".to_vec(),
            resource_version: b"7".to_vec(),
            field_path: b"spec.containers{c}".to_vec(),
        }
    }

    #[test]
    fn set_get_clear_len() {
        let m = RefManager::new();
        let id = ContainerId::new("containerd", "abc");
        assert_eq!(m.get(id.as_ref()), None);
        m.set(id.as_ref(), r("a").as_ref()).unwrap();
        assert_eq!(m.get(id.as_ref()), Some(r("a")));
        assert_eq!(m.len(), 1);
        m.set(id.as_ref(), r("b").as_ref()).unwrap();
        assert_eq!(m.get(id.as_ref()), Some(r("b")), "overwrites silently");
        assert_eq!(m.len(), 1);
        assert!(m.clear(id.as_ref()));
        assert!(!m.clear(id.as_ref()), "clearing an absent key is a no-op");
        assert_eq!(m.get(id.as_ref()), None);
        assert!(m.is_empty());
    }

    #[test]
    fn stamps_identify_stored_references() {
        let m = RefManager::new();
        let a = ContainerId::new("containerd", "a");
        let b = ContainerId::new("containerd", "b");
        assert_eq!(m.stamp(a.as_ref()), None);
        let sa = m.set_stamped(a.as_ref(), r("x").as_ref()).unwrap();
        let sb = m.set_stamped(b.as_ref(), r("x").as_ref()).unwrap();
        assert_ne!(sa, 0);
        assert_ne!(sa, sb, "unique across keys, even for equal references");
        assert_eq!(m.stamp(a.as_ref()), Some(sa));
        assert_eq!(m.with_ref(a.as_ref(), |s| s.stamp()), Some(sa));
        // Every store is a new stamp, even of the same reference.
        let sa2 = m.set_stamped(a.as_ref(), r("x").as_ref()).unwrap();
        assert_ne!(sa2, sa);
        assert_eq!(m.stamp(a.as_ref()), Some(sa2));
        assert!(m.clear(a.as_ref()));
        assert_eq!(m.stamp(a.as_ref()), None);
        let sa3 = m.set_stamped(a.as_ref(), r("x").as_ref()).unwrap();
        assert!(![sa, sb, sa2].contains(&sa3), "never reused");
        assert_eq!(m.stamp(b.as_ref()), Some(sb), "others unchanged");
        // Many keys across every shard: all distinct.
        let mut seen = std::collections::HashSet::new();
        for i in 0..5000 {
            let id = ContainerId::new("docker", format!("{i}"));
            assert!(seen.insert(m.set_stamped(id.as_ref(), r("y").as_ref()).unwrap()));
        }
        assert!(seen.insert(sa3) && seen.insert(sb) && seen.insert(sa2));
    }

    #[test]
    fn the_change_counter_grows_with_every_change_and_only_then() {
        let m = RefManager::new();
        let a = ContainerId::new("containerd", "a");
        let b = ContainerId::new("containerd", "b");
        let c0 = m.changes();
        m.set(a.as_ref(), r("x").as_ref()).unwrap();
        let c1 = m.changes();
        assert!(c1 > c0, "a set counts");
        // Lookups, hits and misses, change nothing.
        for _ in 0..3 {
            assert!(m.get(a.as_ref()).is_some());
            assert!(m.stamp(b.as_ref()).is_none());
            assert!(m.contains(a.as_ref()));
        }
        let _ = (m.len(), m.stats(), m.snapshot());
        assert_eq!(m.changes(), c1, "reads do not count");
        m.set(a.as_ref(), r("x").as_ref()).unwrap();
        let c2 = m.changes();
        assert!(c2 > c1, "replacing with an equal reference counts");
        assert!(m.clear(a.as_ref()));
        let c3 = m.changes();
        assert!(c3 > c2, "a clear counts");
        // Bulk removals count too.
        m.set(a.as_ref(), r("x").as_ref()).unwrap();
        m.set(b.as_ref(), r("y").as_ref()).unwrap();
        let c4 = m.changes();
        assert_eq!(m.clear_pod(b"uid-1"), 2);
        let c5 = m.changes();
        assert!(c5 > c4, "clear_pod counts");
        m.set(a.as_ref(), r("x").as_ref()).unwrap();
        let c6 = m.changes();
        assert_eq!(m.retain([b.as_ref()]), 1);
        assert!(m.changes() > c6, "retain counts");
    }

    #[test]
    fn the_change_counter_is_seen_by_readers_that_see_a_change() {
        // A reader that finds a writer's reference and then loads the
        // counter never sees the value from before that write.
        let m = RefManager::new();
        let id = ContainerId::new("containerd", "k");
        std::thread::scope(|s| {
            s.spawn(|| {
                for i in 0..20_000u32 {
                    m.set(id.as_ref(), r(&i.to_string()).as_ref()).unwrap();
                }
            });
            let mut last_seen: Option<(Vec<u8>, u64)> = None;
            for _ in 0..200_000 {
                let before = m.changes();
                let got = m.get(id.as_ref()).map(|g| g.name);
                let after = m.changes();
                assert!(after >= before);
                if let (Some(name), Some((prev, at))) = (&got, &last_seen) {
                    // Same counter as an earlier read: same reference.
                    if *at == before && before == after {
                        assert_eq!(name, prev);
                    }
                }
                if let Some(name) = got {
                    if before == after {
                        last_seen = Some((name, after));
                    }
                }
            }
        });
    }

    #[test]
    fn keys_compare_both_fields_byte_for_byte() {
        let m = RefManager::new();
        let ids = [
            ContainerId::new("a", "bc"),
            ContainerId::new("ab", "c"),
            ContainerId::new("", "abc"),
            ContainerId::new("abc", ""),
            ContainerId::new("", ""),
            ContainerId::new("a\0", "bc"),
            ContainerId::new("a", "\0bc"),
            ContainerId::new("docker", "abc"),
            ContainerId::new("containerd", "abc"),
        ];
        for (i, id) in ids.iter().enumerate() {
            m.set(id.as_ref(), r(&i.to_string()).as_ref()).unwrap();
        }
        assert_eq!(m.len(), ids.len());
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(m.get(id.as_ref()).unwrap().name, i.to_string().as_bytes());
        }
    }

    #[test]
    fn empty_fields_and_embedded_nuls_round_trip() {
        let m = RefManager::new();
        let id = ContainerId::new("x", "y");
        let weird = ObjectReference {
            kind: vec![],
            namespace: b"a\0b".to_vec(),
            name: vec![0xff, 0xfe],
            ..Default::default()
        };
        m.set(id.as_ref(), weird.as_ref()).unwrap();
        assert_eq!(m.get(id.as_ref()), Some(weird.clone()));
        let blob = m
            .with_ref(id.as_ref(), |s| s.nul_terminated_fields().to_vec())
            .unwrap();
        assert_eq!(blob, b"\0a\0b\0\xff\xfe\0\0\0\0\0");
    }

    #[test]
    fn keys_of_every_length_up_to_and_past_the_inline_probe() {
        // Every tail shape of the hash (0..3, 4..7, 8..16, blocks) and both
        // probe kinds (stack up to 128 key bytes, heap beyond).
        let m = RefManager::new();
        let ids: Vec<ContainerId> = (0..300)
            .map(|n| ContainerId::new(vec![b't'; n % 7], vec![b'x'; n]))
            .collect();
        for (i, id) in ids.iter().enumerate() {
            m.set(id.as_ref(), r(&i.to_string()).as_ref()).unwrap();
        }
        assert_eq!(m.len(), ids.len());
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(m.get(id.as_ref()).unwrap().name, i.to_string().as_bytes());
        }
        for id in ids.iter().step_by(3) {
            assert!(m.clear(id.as_ref()));
            assert!(!m.contains(id.as_ref()));
        }
        assert_eq!(m.len(), 200);
    }

    #[test]
    fn field_lengths_either_side_of_the_narrow_header() {
        let m = RefManager::new();
        for (i, n) in [0usize, 1, 254, 255, 256, 257, 70_000]
            .into_iter()
            .enumerate()
        {
            let id = ContainerId::new("containerd", i.to_string());
            let mut want = r("a");
            want.field_path = vec![b'p'; n];
            want.kind = vec![b'k'; 255usize.saturating_sub(n)];
            m.set(id.as_ref(), want.as_ref()).unwrap();
            assert_eq!(m.get(id.as_ref()), Some(want.clone()), "field of {n} bytes");
            let blob = m
                .with_ref(id.as_ref(), |s| s.nul_terminated_fields().len())
                .unwrap();
            assert_eq!(
                blob,
                want.as_ref().fields().iter().map(|f| f.len() + 1).sum()
            );
        }
    }

    #[test]
    fn managers_are_independent() {
        let a = RefManager::new();
        let b = RefManager::new();
        let id = ContainerId::new("t", "i");
        a.set(id.as_ref(), r("a").as_ref()).unwrap();
        assert_eq!(b.get(id.as_ref()), None);
        assert_eq!(b.len(), 0);
    }

    #[test]
    fn too_long_is_rejected_without_change() {
        let m = RefManager::new();
        let big = vec![b'x'; MAX_STR_LEN + 1];
        let id = ContainerId::new("t", "i");
        let mut bad = r("a");
        bad.uid = big.clone();
        assert_eq!(m.set(id.as_ref(), bad.as_ref()), Err(TooLong));
        assert_eq!(
            m.set(ContainerIdRef::new(&big, b"i"), r("a").as_ref()),
            Err(TooLong)
        );
        assert!(m.is_empty());
        let mut ok = r("a");
        ok.uid = vec![b'x'; MAX_STR_LEN];
        m.set(id.as_ref(), ok.as_ref()).unwrap();
        assert_eq!(m.get(id.as_ref()).unwrap().uid.len(), MAX_STR_LEN);
    }

    #[test]
    fn many_keys_spread_over_shards() {
        let m = RefManager::new();
        for i in 0..10_000 {
            let id = ContainerId::new("containerd", format!("{i:064x}"));
            m.set(id.as_ref(), r(&i.to_string()).as_ref()).unwrap();
        }
        assert_eq!(m.len(), 10_000);
        let used = m
            .shards
            .iter()
            .filter(|s| s.len.load(Ordering::Relaxed) > 0)
            .count();
        assert_eq!(used, SHARDS);
        for i in (0..10_000).step_by(7) {
            let id = ContainerId::new("containerd", format!("{i:064x}"));
            assert!(m.clear(id.as_ref()));
        }
        assert_eq!(m.len(), 10_000 - (0..10_000).step_by(7).count());
    }

    #[test]
    fn concurrent_readers_see_whole_references() {
        let m = Arc::new(RefManager::new());
        let id = ContainerId::new("containerd", "shared");
        m.set(id.as_ref(), r("a").as_ref()).unwrap();
        let writer = {
            let (m, id) = (m.clone(), id.clone());
            std::thread::spawn(move || {
                for i in 0..20_000 {
                    let name = if i % 2 == 0 { "bbbbbbbb" } else { "a" };
                    m.set(id.as_ref(), r(name).as_ref()).unwrap();
                    if i % 100 == 0 {
                        m.clear(id.as_ref());
                    }
                }
            })
        };
        for _ in 0..20_000 {
            if let Some(got) = m.get(id.as_ref()) {
                assert!(got == r("a") || got == r("bbbbbbbb"), "torn read: {got:?}");
            }
        }
        writer.join().unwrap();
    }
}
