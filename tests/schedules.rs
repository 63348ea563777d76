//! Schedule exploration of the manager's lock-free parts: readers that pin
//! the epoch domain and probe a shard's table while writers replace, remove,
//! rehash and free. Built with the `shuttle` feature (make schedule-test),
//! so that every atomic access and mutex of the epoch domain, the tables and
//! the shards' writers is a point where Shuttle's scheduler may switch
//! threads; each test runs many schedules, random and PCT (which finds bugs
//! that need a few badly placed switches). The build shrinks what the
//! schedules must get through: 2 shards, tables of 4 slots, 2 dedicated and
//! 2 borrowed epoch slots, a collection every 2 retired objects.
//!
//! Shuttle's memory is sequentially consistent, so these schedules check
//! the logic (who frees what when, what a reader may return), not the
//! memory orderings: those rest on the SeqCst argument in
//! src/manager/epoch.rs.
//!
//! What a reader checks, for each lookup between two loads of the change
//! counter, `c0` before and `c1` after (it moves by [`STEP`] per change):
//! * the reference it got is the one the writers' history had under that key
//!   after some change `t` with `c0 / STEP <= t <= c1 / STEP` (linearizable,
//!   and never a change the counter has not counted);
//! * its bytes are whole: every field names its key and its change, so an
//!   entry freed and reused while a reader held it shows up as a mismatch
//!   (and as an invalid read when this test runs under valgrind).

use kuberef::{ContainerIdRef, ObjectReference, RefManager};
use shuttle::sync::Arc;
use shuttle::thread;

const KEYS: usize = 6;
/// How far one change moves the change counter (src/manager/writer.rs).
const STEP: u64 = 2;

fn id(k: usize) -> Vec<u8> {
    format!("container-{k}").into_bytes()
}

fn key(id: &[u8]) -> ContainerIdRef<'_> {
    ContainerIdRef::new(b"containerd", id)
}

/// The reference change `step` stores under key `k`: every field tells both,
/// and the lengths vary so that entries differ in size.
fn reference(k: usize, step: u64) -> ObjectReference {
    let tag = format!("k{k}-s{step}");
    let pad = "x".repeat((step as usize * 7 + k) % 23);
    ObjectReference {
        kind: b"Pod".to_vec(),
        namespace: format!("ns-{tag}").into_bytes(),
        name: format!("{tag}-{pad}").into_bytes(),
        uid: format!("uid-{tag}").into_bytes(),
        api_version: b"v1".to_vec(),
        resource_version: step.to_string().into_bytes(),
        field_path: format!("spec.containers{{{tag}}}").into_bytes(),
    }
}

/// One writer's history: change `s` (1-based) sets key `k` to change `s`'s
/// reference, or clears it. Every change counts exactly one in the change
/// counter (a clear only of a stored key).
#[derive(Clone, Copy)]
enum Change {
    Set(usize),
    Clear(usize),
}

fn history(steps: u64) -> Vec<Change> {
    let mut stored = [false; KEYS];
    (1..=steps)
        .map(|s| {
            let k = (s as usize * 5) % KEYS;
            if stored[k] && s % 3 == 0 {
                stored[k] = false;
                Change::Clear(k)
            } else {
                stored[k] = true;
                Change::Set(k)
            }
        })
        .collect()
}

/// What key `k` held after the first `t` changes of `h`: the step that set
/// it, or None.
fn state_after(h: &[Change], k: usize, t: u64) -> Option<u64> {
    let mut v = None;
    for (i, c) in h.iter().take(t as usize).enumerate() {
        match *c {
            Change::Set(j) if j == k => v = Some(i as u64 + 1),
            Change::Clear(j) if j == k => v = None,
            _ => {}
        }
    }
    v
}

fn apply(m: &RefManager, s: u64, c: Change) {
    match c {
        Change::Set(k) => m.set(key(&id(k)), reference(k, s).as_ref()).unwrap(),
        Change::Clear(k) => assert!(m.clear(key(&id(k)))),
    }
}

/// One lookup of key `k`, checked against the history (see the module docs).
fn check_lookup(m: &RefManager, h: &[Change], k: usize) {
    let c0 = m.changes();
    let got = m.get(key(&id(k)));
    let c1 = m.changes();
    let step = got.as_ref().map(|r| {
        let s: u64 = std::str::from_utf8(&r.resource_version)
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(*r, reference(k, s), "a torn or foreign entry");
        s
    });
    let (t0, t1) = (c0 / STEP, c1 / STEP);
    assert!(
        (t0..=t1).any(|t| state_after(h, k, t) == step),
        "key {k}: got change {step:?}, which no state between changes {t0} and {t1} had"
    );
}

/// A writer running `h` against readers that look every key up `rounds`
/// times, each reader from its own thread.
fn readers_and_a_writer(readers: usize, steps: u64, rounds: usize) {
    let m = Arc::new(RefManager::new());
    let h = Arc::new(history(steps));
    let writer = {
        let (m, h) = (m.clone(), h.clone());
        thread::spawn(move || {
            for (i, c) in h.iter().enumerate() {
                apply(&m, i as u64 + 1, *c);
            }
        })
    };
    let readers: Vec<_> = (0..readers)
        .map(|r| {
            let (m, h) = (m.clone(), h.clone());
            thread::spawn(move || {
                for round in 0..rounds {
                    for j in 0..KEYS {
                        check_lookup(&m, &h, (j + r + round) % KEYS);
                    }
                }
            })
        })
        .collect();
    writer.join().unwrap();
    for r in readers {
        r.join().unwrap();
    }
    // The end state is the history's, and every reader is done: the manager
    // frees what is left in its limbo when dropped.
    for k in 0..KEYS {
        let want = state_after(&h, k, steps).map(|s| reference(k, s));
        assert_eq!(m.get(key(&id(k))), want);
    }
    assert_eq!(m.changes(), steps * STEP);
}

/// Schedules per test: KUBEREF_SCHEDULES, or 20,000.
fn iterations() -> usize {
    std::env::var("KUBEREF_SCHEDULES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

#[test]
fn readers_see_whole_counted_references_random() {
    shuttle::check_random(|| readers_and_a_writer(2, 14, 2), iterations());
}

#[test]
fn readers_see_whole_counted_references_pct() {
    shuttle::check_pct(|| readers_and_a_writer(2, 14, 2), iterations(), 3);
}

/// More readers than dedicated epoch slots: two borrow, and wait for each
/// other when both borrowed slots are taken.
#[test]
fn readers_beyond_the_dedicated_slots() {
    shuttle::check_random(|| readers_and_a_writer(4, 8, 1), iterations());
}

/// A reader that pins again inside a lookup's callback (a `with_ref` that
/// reads another manager) keeps the first reference alive, while writers
/// clear both managers and the epoch moves on.
#[test]
fn nested_pins_keep_the_outer_reference() {
    shuttle::check_random(nested_pins, iterations());
}

fn nested_pins() {
    let a = Arc::new(RefManager::new());
    let b = Arc::new(RefManager::new());
    for k in 0..KEYS {
        a.set(key(&id(k)), reference(k, 1).as_ref()).unwrap();
        b.set(key(&id(k)), reference(k, 2).as_ref()).unwrap();
    }
    let writer = {
        let (a, b) = (a.clone(), b.clone());
        thread::spawn(move || {
            for k in 0..KEYS {
                a.set(key(&id(k)), reference(k, 3).as_ref()).unwrap();
                assert!(b.clear(key(&id(k))));
                assert!(a.clear(key(&id(k))));
            }
        })
    };
    let reader = {
        let (a, b) = (a.clone(), b.clone());
        thread::spawn(move || {
            for k in 0..KEYS {
                a.with_ref(key(&id(k)), |outer| {
                    let inner = b.get(key(&id(k)));
                    assert!(inner.is_none() || inner == Some(reference(k, 2)));
                    // Still whole after the inner pin was dropped.
                    let r = outer.as_ref().to_owned();
                    assert!(r == reference(k, 1) || r == reference(k, 3));
                });
            }
        })
    };
    writer.join().unwrap();
    reader.join().unwrap();
    assert!(a.is_empty() && b.is_empty());
}

/// One bulk removal of every key (several in each shard's batch) against a
/// reader that counts the keys it finds between two loads of the change
/// counter: when both loads agree, exactly one key is gone per change since
/// the removal began, as each removal is a change of its own.
#[test]
fn bulk_removal_is_one_change_per_removal() {
    shuttle::check_random(bulk_removal_counted, iterations());
    shuttle::check_pct(bulk_removal_counted, iterations(), 3);
}

fn bulk_removal_counted() {
    let m = Arc::new(RefManager::new());
    for k in 0..KEYS {
        let mut r = reference(k, 1);
        r.uid = b"doomed".to_vec();
        m.set(key(&id(k)), r.as_ref()).unwrap();
    }
    let start = m.changes();
    let pruner = {
        let m = m.clone();
        thread::spawn(move || m.clear_pod(b"doomed"))
    };
    for _ in 0..3 {
        let c0 = m.changes();
        let present = (0..KEYS).filter(|&k| m.contains(key(&id(k)))).count();
        let c1 = m.changes();
        if c0 == c1 {
            assert_eq!(c0 % STEP, 0);
            let gone = ((c0 - start) / STEP) as usize;
            assert_eq!(present, KEYS - gone, "{gone} removals counted");
        }
    }
    assert_eq!(pruner.join().unwrap(), KEYS);
    assert_eq!(m.changes(), start + KEYS as u64 * STEP);
}

/// Bulk removal (clear_pod: scan, then remove batch by batch) against
/// readers and a writer that re-adds some of the pod's keys meanwhile.
#[test]
fn bulk_removal_against_readers_and_a_writer() {
    shuttle::check_random(bulk_removal, iterations());
}

fn bulk_removal() {
    let m = Arc::new(RefManager::new());
    let pod = |k: usize| format!("uid-k{k}-s1").into_bytes();
    for k in 0..KEYS {
        m.set(key(&id(k)), reference(k, 1).as_ref()).unwrap();
    }
    let pruner = {
        let m = m.clone();
        thread::spawn(move || m.clear_pod(&pod(0)) + m.clear_pod(&pod(1)))
    };
    let writer = {
        let m = m.clone();
        thread::spawn(move || m.set(key(&id(0)), reference(0, 2).as_ref()).unwrap())
    };
    let reader = {
        let m = m.clone();
        thread::spawn(move || {
            for k in 0..KEYS {
                if let Some(r) = m.get(key(&id(k))) {
                    assert!(r == reference(k, 1) || (k == 0 && r == reference(0, 2)));
                }
            }
        })
    };
    let removed = pruner.join().unwrap();
    writer.join().unwrap();
    reader.join().unwrap();
    // Key 1 is gone. Key 0 holds change 2 either way: set after
    // the pruner removed change 1, or set before, and then not
    // removed, as its pod UID is change 2's (the pruner checks again
    // under the shard's mutex what it chose in its scan).
    assert!(m.get(key(&id(1))).is_none());
    assert_eq!(m.get(key(&id(0))), Some(reference(0, 2)));
    assert!((1..=2).contains(&removed));
    assert_eq!(m.len(), KEYS - 1);
}

/// A replacing load against a writer that sets every key again once the
/// load has begun removing (the marks are taken before any removal): each
/// key it set is one stored after the marks, so the load keeps it, even if
/// the load's scan of that key's shard chose the key's earlier reference.
#[test]
fn replacing_load_keeps_what_is_set_after_it_began() {
    let path = std::env::temp_dir().join(format!("kuberef-schedules-{}", std::process::id()));
    let p = path.clone();
    shuttle::check_random(move || replacing_load(&p), iterations());
    let _ = std::fs::remove_file(&path);
}

fn replacing_load(path: &std::path::Path) {
    // An empty file, written once per test run.
    if !path.exists() {
        RefManager::new().save(path).unwrap();
    }
    let m = Arc::new(RefManager::new());
    for k in 0..KEYS {
        m.set(key(&id(k)), reference(k, 1).as_ref()).unwrap();
    }
    let writer = {
        let m = m.clone();
        thread::spawn(move || {
            while m.len() == KEYS {
                thread::yield_now();
            }
            for k in 0..KEYS {
                m.set(key(&id(k)), reference(k, 2).as_ref()).unwrap();
            }
        })
    };
    assert_eq!(m.load(path, kuberef::LoadMode::Replace).unwrap(), 0);
    writer.join().unwrap();
    for k in 0..KEYS {
        assert_eq!(m.get(key(&id(k))), Some(reference(k, 2)), "key {k}");
    }
}
