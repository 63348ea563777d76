//! Enumeration: every (container ID, reference) pair, visited without any
//! manager lock held while the caller's code runs.
//!
//! The manager is copied one shard at a time: the writer lock is taken
//! (writers wait, readers go on), the shard's entries are copied into one
//! buffer, the lock is released, and only then
//! is the caller called for each copied pair. Consistency is per shard:
//! each shard's pairs are one consistent view of that shard, but shards are
//! copied at different moments, so the whole is not a global snapshot. A
//! reference stored during the whole enumeration is visited exactly once; one
//! set or cleared while it runs may or may not be visited (at most once).
//! The caller may call into the same manager (even set or clear) meanwhile.

use std::ops::ControlFlow;

use crate::container_id::{ContainerId, ContainerIdRef};
use crate::manager::RefManager;
use crate::reference::{ObjectReference, ObjectReferenceRef, FIELD_COUNT};

/// The 2 key parts and the 7 fields of a pair.
const PARTS: usize = 2 + FIELD_COUNT;

/// One shard's pairs, copied: every part is followed by a NUL byte in
/// `bytes` (so views of them are NUL-terminated for C).
#[derive(Default)]
pub(crate) struct ShardCopy {
    bytes: Vec<u8>,
    items: Vec<(usize, [u32; PARTS])>,
}

impl ShardCopy {
    /// Replaces the contents with a copy of shard `shard` of `m`.
    pub(crate) fn fill(&mut self, m: &RefManager, shard: usize) {
        self.bytes.clear();
        self.items.clear();
        m.scan_shard(shard, |_, id, r| {
            let start = self.bytes.len();
            let mut lens = [0u32; PARTS];
            lens[0] = id.typ.len() as u32;
            lens[1] = id.id.len() as u32;
            for (l, f) in lens[2..].iter_mut().zip(r.lens()) {
                *l = f as u32;
            }
            self.bytes.extend_from_slice(id.typ);
            self.bytes.push(0);
            self.bytes.extend_from_slice(id.id);
            self.bytes.push(0);
            self.bytes.extend_from_slice(r.nul_terminated_fields());
            self.items.push((start, lens));
        });
    }

    /// The copied pairs; each slice is followed by a NUL byte in memory.
    pub(crate) fn iter(
        &self,
    ) -> impl Iterator<Item = (ContainerIdRef<'_>, ObjectReferenceRef<'_>)> {
        self.items.iter().map(|&(start, lens)| {
            let mut at = start;
            let parts: [&[u8]; PARTS] = lens.map(|l| {
                let p = &self.bytes[at..at + l as usize];
                at += l as usize + 1;
                p
            });
            let [typ, id, fields @ ..] = parts;
            (
                ContainerIdRef { typ, id },
                ObjectReferenceRef::from_fields(fields),
            )
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }
}

impl RefManager {
    /// Calls `f` with every stored (ID, reference) pair, copied one shard at
    /// a time, with no lock held while `f` runs (see the module docs for the
    /// consistency this gives). `f` returns `ControlFlow::Break(())` to stop.
    /// Returns how many pairs `f` was called with.
    pub fn for_each_ref(
        &self,
        mut f: impl FnMut(ContainerIdRef<'_>, ObjectReferenceRef<'_>) -> ControlFlow<()>,
    ) -> usize {
        let mut copy = ShardCopy::default();
        let mut calls = 0;
        for shard in 0..Self::SHARD_COUNT {
            copy.fill(self, shard);
            for (id, r) in copy.iter() {
                calls += 1;
                if f(id, r).is_break() {
                    return calls;
                }
            }
        }
        calls
    }

    /// Every stored pair as owned values (with [`for_each_ref`]'s
    /// consistency), in no particular order.
    ///
    /// [`for_each_ref`]: Self::for_each_ref
    pub fn snapshot(&self) -> Vec<(ContainerId, ObjectReference)> {
        let mut all = Vec::with_capacity(self.len());
        self.for_each_ref(|id, r| {
            all.push((id.to_owned(), r.to_owned()));
            ControlFlow::Continue(())
        });
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(i: usize) -> ContainerId {
        ContainerId::new("containerd", format!("c{i}"))
    }

    fn r(i: usize) -> ObjectReference {
        ObjectReference {
            kind: b"Pod".to_vec(),
            name: format!("pod{i}").into(),
            field_path: format!("spec.containers{{c{i}}}").into(),
            ..Default::default()
        }
    }

    #[test]
    fn snapshot_lists_every_pair_once() {
        let m = RefManager::new();
        for i in 0..1000 {
            m.set(id(i).as_ref(), r(i).as_ref()).unwrap();
        }
        let mut all = m.snapshot();
        assert_eq!(all.len(), 1000);
        all.sort_by_key(|(k, _)| k.id.clone());
        all.dedup_by(|a, b| a.0 == b.0);
        assert_eq!(all.len(), 1000);
        for (k, v) in &all {
            let i: usize = std::str::from_utf8(&k.id[1..]).unwrap().parse().unwrap();
            assert_eq!(*v, r(i));
        }
    }

    #[test]
    fn parts_are_nul_terminated_in_the_copy() {
        let m = RefManager::new();
        m.set(ContainerIdRef::new(b"a\0", b""), r(1).as_ref())
            .unwrap();
        let mut c = ShardCopy::default();
        let mut seen = 0;
        for s in 0..RefManager::SHARD_COUNT {
            c.fill(&m, s);
            for (k, v) in c.iter() {
                seen += 1;
                for p in [k.typ, k.id].into_iter().chain(v.fields()) {
                    // Each part is a slice of the copy's bytes: the byte
                    // after it, read from the copy itself, is a NUL.
                    let at = p.as_ptr() as usize - c.bytes.as_ptr() as usize + p.len();
                    assert_eq!(c.bytes[at], 0);
                }
                assert_eq!(k.typ, b"a\0");
            }
        }
        assert_eq!(seen, 1);
    }

    #[test]
    fn break_stops_and_callers_may_reenter() {
        let m = RefManager::new();
        for i in 0..100 {
            m.set(id(i).as_ref(), r(i).as_ref()).unwrap();
        }
        let calls = m.for_each_ref(|_, _| ControlFlow::Break(()));
        assert_eq!(calls, 1);
        // Clearing (and setting) from inside the visit does not deadlock.
        let calls = m.for_each_ref(|k, _| {
            let k = k.to_owned();
            m.clear(k.as_ref());
            ControlFlow::Continue(())
        });
        assert_eq!(calls, 100);
        assert!(m.is_empty());
    }
}
