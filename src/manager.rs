//! The container reference manager: upstream `RefManager`, a thread-safe map
//! from container ID to object reference.
//!
//! Design (for speed and a small footprint, see the README's Performance
//! section):
//!
//! * 32 shards, each an `RwLock<HashSet<Entry>>` on its own cache lines, picked
//!   by bits of the key's hash, so that readers and writers of different keys
//!   rarely touch the same lock.
//! * Each entry is **one allocation** holding the key's hash, the lengths, the
//!   key bytes and the seven reference strings, each already followed by a NUL.
//!   A lookup hashes the borrowed key bytes once (no key allocation) and a
//!   get to a C buffer is one `memcpy` of the strings.
//! * New entries are built before the lock is taken and replaced ones are
//!   dropped after it is released, so writers hold a lock only for the table
//!   operation itself.

use std::borrow::Borrow;
use std::collections::hash_map::RandomState;
use std::collections::HashSet;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
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

/// Header: hash (8), key type length (4), key ID length (4), 7 field lengths (4 each).
const HEADER: usize = 8 + 4 + 4 + 4 * FIELD_COUNT;

/// One stored reference: `[hash][lens][type][id][field\0 x 7]`.
struct Entry(Box<[u8]>);

fn read_u32(b: &[u8], at: usize) -> usize {
    u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize
}

impl Entry {
    fn new(hash: u64, id: ContainerIdRef<'_>, fields: [&dyn Pieces; FIELD_COUNT]) -> Entry {
        let lens = fields.map(|f| f.byte_len());
        let size = HEADER + id.typ.len() + id.id.len() + lens.iter().sum::<usize>() + FIELD_COUNT;
        let mut b = Vec::with_capacity(size);
        b.extend_from_slice(&hash.to_ne_bytes());
        b.extend_from_slice(&(id.typ.len() as u32).to_ne_bytes());
        b.extend_from_slice(&(id.id.len() as u32).to_ne_bytes());
        for l in lens {
            b.extend_from_slice(&(l as u32).to_ne_bytes());
        }
        b.extend_from_slice(id.typ);
        b.extend_from_slice(id.id);
        for f in fields {
            f.pieces(&mut |p| b.extend_from_slice(p));
            b.push(0);
        }
        debug_assert_eq!(b.len(), size);
        Entry(b.into_boxed_slice())
    }

    fn hash(&self) -> u64 {
        u64::from_ne_bytes(self.0[..8].try_into().expect("8 bytes"))
    }

    fn key(&self) -> ContainerIdRef<'_> {
        let t = read_u32(&self.0, 8);
        let i = read_u32(&self.0, 12);
        ContainerIdRef {
            typ: &self.0[HEADER..HEADER + t],
            id: &self.0[HEADER + t..HEADER + t + i],
        }
    }

    fn stored(&self) -> StoredRef<'_> {
        let start = HEADER + read_u32(&self.0, 8) + read_u32(&self.0, 12);
        let mut lens = [0usize; FIELD_COUNT];
        for (k, l) in lens.iter_mut().enumerate() {
            *l = read_u32(&self.0, 16 + 4 * k);
        }
        StoredRef {
            blob: &self.0[start..],
            lens,
        }
    }
}

/// A stored reference, borrowed from the manager while its shard is locked.
#[derive(Clone, Copy, Debug)]
pub struct StoredRef<'a> {
    blob: &'a [u8],
    lens: [usize; FIELD_COUNT],
}

impl<'a> StoredRef<'a> {
    /// The seven fields, each followed by a NUL byte, back to back in
    /// upstream order: what a C caller's buffer receives.
    pub fn nul_terminated_fields(&self) -> &'a [u8] {
        self.blob
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

/// The lookup key as a trait object, so that a `HashSet<Entry>` can be
/// searched with a borrowed `(hash, type, id)` probe.
trait Key {
    fn hash(&self) -> u64;
    fn key(&self) -> ContainerIdRef<'_>;
}

struct Probe<'a> {
    hash: u64,
    id: ContainerIdRef<'a>,
}

impl Key for Probe<'_> {
    fn hash(&self) -> u64 {
        self.hash
    }
    fn key(&self) -> ContainerIdRef<'_> {
        self.id
    }
}

impl Key for Entry {
    fn hash(&self) -> u64 {
        Entry::hash(self)
    }
    fn key(&self) -> ContainerIdRef<'_> {
        Entry::key(self)
    }
}

impl Hash for dyn Key + '_ {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(Key::hash(self));
    }
}

impl PartialEq for dyn Key + '_ {
    fn eq(&self, other: &Self) -> bool {
        Key::hash(self) == Key::hash(other) && self.key() == other.key()
    }
}

impl Eq for dyn Key + '_ {}

impl<'a> Borrow<dyn Key + 'a> for Entry {
    fn borrow(&self) -> &(dyn Key + 'a) {
        self
    }
}

impl Hash for Entry {
    fn hash<H: Hasher>(&self, state: &mut H) {
        Hash::hash(self as &dyn Key, state)
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self as &dyn Key) == (other as &dyn Key)
    }
}

impl Eq for Entry {}

/// The tables hash with the hash already stored in each entry.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unreachable!("only u64 hashes are written")
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n
    }
}

type Table = HashSet<Entry, BuildHasherDefault<PassThrough>>;

#[repr(align(128))]
struct Shard {
    table: RwLock<Table>,
    len: AtomicUsize,
    /// Counters (src/stats.rs), on the shard's own cache lines.
    stats: ShardStats,
}

/// 128-bit multiply, folded: the mixing step of the key hash.
#[inline]
fn fold_mul(a: u64, b: u64) -> u64 {
    let r = (a as u128).wrapping_mul(b as u128);
    (r as u64) ^ ((r >> 64) as u64)
}

const K0: u64 = 0x243f_6a88_85a3_08d3;
const K1: u64 = 0x1319_8a2e_0370_7344;

#[inline]
fn hash_bytes(mut h: u64, seed: u64, bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(16);
    for c in &mut chunks {
        let a = u64::from_le_bytes(c[..8].try_into().expect("8"));
        let b = u64::from_le_bytes(c[8..].try_into().expect("8"));
        h = fold_mul(h ^ a ^ seed, b ^ K0);
    }
    let rest = chunks.remainder();
    let mut tail = [0u8; 16];
    tail[..rest.len()].copy_from_slice(rest);
    let a = u64::from_le_bytes(tail[..8].try_into().expect("8"));
    let b = u64::from_le_bytes(tail[8..].try_into().expect("8"));
    fold_mul(h ^ a ^ seed, b ^ K1 ^ bytes.len() as u64)
}

/// The container reference manager (upstream `RefManager`). All methods take
/// `&self` and are safe to call from any number of threads.
pub struct RefManager {
    seed: [u64; 2],
    shards: Box<[Shard]>,
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
                stats: ShardStats::default(),
            })
            .collect();
        RefManager { seed, shards }
    }

    fn hash(&self, id: ContainerIdRef<'_>) -> u64 {
        let h = hash_bytes(self.seed[0], self.seed[1], id.typ);
        hash_bytes(h ^ K1, self.seed[1], id.id)
    }

    fn shard(&self, hash: u64) -> &Shard {
        &self.shards[((hash >> SHARD_SHIFT) as usize) & (SHARDS - 1)]
    }

    fn read(shard: &Shard) -> RwLockReadGuard<'_, Table> {
        // A panic cannot leave a table half-updated (each operation is one
        // std call), so a poisoned lock is safe to keep using.
        shard.table.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(shard: &Shard) -> RwLockWriteGuard<'_, Table> {
        shard.table.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores a copy of `reference` under `id`, replacing any earlier one
    /// (upstream `SetRef`). Fails only if a string exceeds [`MAX_STR_LEN`].
    pub fn set(
        &self,
        id: ContainerIdRef<'_>,
        reference: ObjectReferenceRef<'_>,
    ) -> Result<(), TooLong> {
        let f = reference.fields();
        self.set_pieces(id, [&f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6]])
    }

    /// Like [`set`](Self::set), with fields given as pieces (for example a
    /// [`GeneratedRef`](crate::reference::GeneratedRef)'s, without building
    /// an owned reference first).
    pub fn set_pieces(
        &self,
        id: ContainerIdRef<'_>,
        fields: [&dyn Pieces; FIELD_COUNT],
    ) -> Result<(), TooLong> {
        check_len(&[id.typ.len(), id.id.len()])?;
        check_len(&fields.map(|f| f.byte_len()))?;
        let hash = self.hash(id);
        let entry = Entry::new(hash, id, fields);
        let size = entry.0.len();
        let shard = self.shard(hash);
        let old = {
            let mut t = Self::write(shard);
            // Test builds can panic here, with the write lock held, to show
            // that a poisoned shard keeps working (tests/panic_injection.rs).
            crate::ffi::boundary::injection_point(SET_LOCKED);
            let old = t.replace(entry);
            if old.is_none() {
                shard.len.fetch_add(1, Ordering::Relaxed);
            }
            shard.stats.on_set(size, old.as_ref().map(|e| e.0.len()));
            old
        };
        drop(old);
        Ok(())
    }

    /// Calls `f` with the reference stored under `id` while its shard is
    /// read-locked, and returns what `f` returns; `None` if there is none.
    /// `f` must be short: writers of the same shard wait for it.
    pub fn with_ref<R>(
        &self,
        id: ContainerIdRef<'_>,
        f: impl FnOnce(StoredRef<'_>) -> R,
    ) -> Option<R> {
        let hash = self.hash(id);
        let shard = self.shard(hash);
        let t = Self::read(shard);
        let probe = Probe { hash, id };
        let found = t.get(&probe as &dyn Key);
        shard.stats.on_get(found.is_some());
        found.map(|e| f(e.stored()))
    }

    /// A copy of the reference stored under `id` (upstream `GetRef`).
    pub fn get(&self, id: ContainerIdRef<'_>) -> Option<ObjectReference> {
        self.with_ref(id, |s| s.as_ref().to_owned())
    }

    /// Whether a reference is stored under `id`.
    pub fn contains(&self, id: ContainerIdRef<'_>) -> bool {
        self.with_ref(id, |_| ()).is_some()
    }

    /// Forgets the reference stored under `id` (upstream `ClearRef`);
    /// returns whether there was one.
    pub fn clear(&self, id: ContainerIdRef<'_>) -> bool {
        let hash = self.hash(id);
        let shard = self.shard(hash);
        let probe = Probe { hash, id };
        let old = {
            let mut t = Self::write(shard);
            crate::ffi::boundary::injection_point(CLEAR_LOCKED);
            let old = t.take(&probe as &dyn Key);
            if let Some(e) = &old {
                shard.len.fetch_sub(1, Ordering::Relaxed);
                shard.stats.on_clear(e.0.len());
            }
            old
        };
        old.is_some()
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

    fn iter(&self) -> impl Iterator<Item = Probe<'_>> {
        let mut at = 0;
        self.items.iter().map(move |&(hash, t, i, _)| {
            let typ = &self.keys[at..at + t];
            let id = &self.keys[at + t..at + t + i];
            at += t + i;
            Probe {
                hash,
                id: ContainerIdRef { typ, id },
            }
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

impl RefManager {
    /// The number of shards (the unit of the bulk operations' consistency).
    pub(crate) const SHARD_COUNT: usize = SHARDS;

    /// The manager's hash of a key, as stored in its entry.
    pub(crate) fn key_hash(&self, id: ContainerIdRef<'_>) -> u64 {
        self.hash(id)
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
                let mut t = Self::write(s);
                for probe in probes.by_ref().take(REMOVE_BATCH) {
                    if let Some(h) = hints.next() {
                        prefetch_addr(h.wrapping_sub(HEADER));
                        prefetch_addr(h);
                    }
                    // One probe: take it, and put it back in the rare case
                    // it was replaced by one that no longer qualifies.
                    if let Some(e) = t.take(&probe as &dyn Key) {
                        if still(e.stored()) {
                            removed.push(e);
                        } else {
                            t.insert(e);
                        }
                    }
                }
                let bytes = removed.iter().map(|e: &Entry| e.0.len()).sum();
                s.len.fetch_sub(removed.len(), Ordering::Relaxed);
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
