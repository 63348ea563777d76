//! The bulk operations at scale (`make bench-bulk`):
//!
//! * leak control on a manager with 1,000,000 references (1,000,000
//!   containers in 100,000 pods, kubelet-shaped IDs and references), through
//!   the C exports: `kuberef_clear_pod` of one pod, `kuberef_retain` with
//!   90% and 100% of the IDs live; with the worst GetRef and SetRef latency a
//!   concurrent thread saw during each call;
//! * save and load of the 1,000,000 references;
//! * GetRef through the C export with 1,000 references stored (`get` mode
//!   runs only this).
//!
//! Times are the calling thread's CPU time (wall time is printed too): the
//! machines this runs on are shared and noisy.
//!
//! `cargo bench --bench bulk -- [get|leak] [N]`

use std::os::raw::c_char;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kuberef::ffi::*;

fn s(b: &[u8]) -> kuberef_str {
    kuberef_str {
        ptr: b.as_ptr().cast(),
        len: b.len(),
    }
}

fn key(i: usize) -> Vec<u8> {
    format!("{:064x}", (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)).into_bytes()
}

fn pod_uid(p: usize) -> Vec<u8> {
    format!("7d0b5a3c-2f55-4f6e-{:04x}-{:012x}", p % 0xffff, p).into_bytes()
}

struct Refs {
    keys: Vec<Vec<u8>>,
}

fn fill(m: *mut kuberef_manager, n: usize, per_pod: usize) -> Refs {
    let keys: Vec<Vec<u8>> = (0..n).map(key).collect();
    for (i, k) in keys.iter().enumerate() {
        let uid = pod_uid(i / per_pod);
        let name = format!("web-{}", i / per_pod);
        let fp = format!("spec.containers{{app-{}}}", i % per_pod);
        let id = kuberef_container_id {
            r#type: s(b"containerd"),
            id: s(k),
        };
        let r = kuberef_object_reference {
            kind: s(b"Pod"),
            namespace_: s(b"default"),
            name: s(name.as_bytes()),
            uid: s(&uid),
            api_version: s(b"v1"),
            resource_version: s(b"123456"),
            field_path: s(fp.as_bytes()),
        };
        // SAFETY: valid views for the call.
        assert_eq!(unsafe { kuberef_set_ref(m, &id, &r) }, KUBEREF_OK);
    }
    Refs { keys }
}

/// A thread doing GetRef (or SetRef) on keys `probe` in a loop while `f`
/// runs; returns `f`'s result, its time and the worst latency seen.
fn with_prober<R>(
    m: *mut kuberef_manager,
    probe: Vec<u8>,
    write: bool,
    f: impl FnOnce() -> R,
) -> (R, Duration, Duration) {
    let stop = Arc::new(AtomicBool::new(false));
    let mp = m as usize;
    let t = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let m = mp as *mut kuberef_manager;
            let mut worst = Duration::ZERO;
            let mut buf = vec![0 as c_char; 512];
            let id = kuberef_container_id {
                r#type: s(b"containerd"),
                id: s(&probe),
            };
            let r = kuberef_object_reference {
                kind: s(b"Pod"),
                namespace_: s(b""),
                name: s(b"probe"),
                uid: s(b"probe"),
                api_version: s(b""),
                resource_version: s(b""),
                field_path: s(b""),
            };
            let mut out = std::mem::MaybeUninit::<kuberef_object_reference>::uninit();
            while !stop.load(Ordering::Relaxed) {
                let t0 = Instant::now();
                // SAFETY: valid arguments; the manager outlives the thread.
                unsafe {
                    if write {
                        kuberef_set_ref(m, &id, &r);
                    } else {
                        kuberef_get_ref(
                            m,
                            &id,
                            out.as_mut_ptr(),
                            buf.as_mut_ptr(),
                            512,
                            std::ptr::null_mut(),
                        );
                    }
                }
                worst = worst.max(t0.elapsed());
            }
            worst
        })
    };
    std::thread::sleep(Duration::from_millis(20));
    let c0 = thread_cpu();
    let t0 = Instant::now();
    let r = f();
    let took = t0.elapsed();
    let cpu = thread_cpu() - c0;
    stop.store(true, Ordering::Relaxed);
    println!("    (wall {}, thread CPU {})", ms(took), ms(cpu));
    (r, cpu, t.join().unwrap())
}

#[repr(C)]
struct Timespec {
    sec: i64,
    nsec: i64,
}

extern "C" {
    fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
}

/// This thread's CPU time (CLOCK_THREAD_CPUTIME_ID): what a call cost
/// whatever else the machine was doing.
fn thread_cpu() -> Duration {
    let mut t = Timespec { sec: 0, nsec: 0 };
    // SAFETY: a valid out pointer; 3 is CLOCK_THREAD_CPUTIME_ID on Linux.
    unsafe { clock_gettime(3, &mut t) };
    Duration::new(t.sec as u64, t.nsec as u32)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn leak(n: usize) {
    let per_pod = 10;
    println!(
        "leak control: {n} references, {} pods, {per_pod} containers each",
        n / per_pod
    );
    let m = kuberef_manager_new();
    let t0 = Instant::now();
    let refs = fill(m, n, per_pod);
    println!("  fill:                         {}", ms(t0.elapsed()));
    // SAFETY: m is live.
    let len = || unsafe { kuberef_len(m) };

    for (what, write) in [("GetRef", false), ("SetRef", true)] {
        let uid = pod_uid(n / per_pod / 2 + write as usize);
        let ((st, removed), took, worst) = with_prober(m, refs.keys[1].clone(), write, || {
            let mut removed = 0;
            // SAFETY: valid arguments.
            (
                unsafe { kuberef_clear_pod(m, s(&uid), &mut removed) },
                removed,
            )
        });
        assert_eq!((st, removed), (KUBEREF_OK, per_pod));
        println!(
            "  clear_pod (1 pod, {removed} refs):   {}   worst concurrent {what}: {}",
            ms(took),
            ms(worst)
        );
    }

    let ids: Vec<kuberef_container_id> = refs
        .keys
        .iter()
        .map(|k| kuberef_container_id {
            r#type: s(b"containerd"),
            id: s(k),
        })
        .collect();
    let before = len();
    let ((st, removed), took, worst) = with_prober(m, refs.keys[3].clone(), false, || {
        let mut removed = 0;
        // SAFETY: valid arguments.
        (
            unsafe { kuberef_retain(m, ids.as_ptr(), ids.len(), &mut removed) },
            removed,
        )
    });
    assert_eq!((st, removed, len()), (KUBEREF_OK, 0, before));
    println!(
        "  retain (all {} live, 0 removed): {}   worst concurrent GetRef: {}",
        ids.len(),
        ms(took),
        ms(worst)
    );

    let live: Vec<kuberef_container_id> = ids
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 10 != 5)
        .map(|(_, v)| *v)
        .collect();
    let ((st, removed), took, worst) = with_prober(m, refs.keys[3].clone(), true, || {
        let mut removed = 0;
        // SAFETY: valid arguments.
        (
            unsafe { kuberef_retain(m, live.as_ptr(), live.len(), &mut removed) },
            removed,
        )
    });
    assert_eq!(st, KUBEREF_OK);
    println!(
        "  retain ({} live, {removed} removed): {}   worst concurrent SetRef: {}",
        live.len(),
        ms(took),
        ms(worst)
    );

    // The leak clean-up case: a kubelet that leaked for long keeps 1,000.
    let few: Vec<kuberef_container_id> = live
        .iter()
        .step_by(live.len() / 1000)
        .take(1000)
        .copied()
        .collect();
    let ((st, removed), took, worst) = with_prober(m, refs.keys[3].clone(), false, || {
        let mut removed = 0;
        // SAFETY: valid arguments.
        (
            unsafe { kuberef_retain(m, few.as_ptr(), few.len(), &mut removed) },
            removed,
        )
    });
    assert!(st == KUBEREF_OK && len() <= 1000);
    println!(
        "  retain (1000 live, {removed} removed): {}   worst concurrent GetRef: {}",
        ms(took),
        ms(worst)
    );
    // Refill for save and load.
    let refs = fill(m, n * 9 / 10, per_pod);
    let _ = refs;

    let path = std::env::temp_dir().join(format!("kuberef-bench-{}", std::process::id()));
    let p = path.as_os_str().as_encoded_bytes();
    let t0 = Instant::now();
    let mut saved = 0;
    // SAFETY: valid arguments.
    assert_eq!(unsafe { kuberef_save(m, s(p), &mut saved) }, KUBEREF_OK);
    let took = t0.elapsed();
    let size = std::fs::metadata(&path).unwrap().len();
    println!(
        "  save ({saved} refs, {:.0} MB):     {}",
        size as f64 / 1e6,
        ms(took)
    );
    let m2 = kuberef_manager_new();
    let t0 = Instant::now();
    let mut loaded = 0;
    // SAFETY: valid arguments.
    assert_eq!(
        unsafe { kuberef_load(m2, s(p), 0, &mut loaded) },
        KUBEREF_OK
    );
    println!("  load into an empty manager:   {}", ms(t0.elapsed()));
    let _ = std::fs::remove_file(&path);
    let mut st = kuberef_stats {
        size: std::mem::size_of::<kuberef_stats>() as u32,
        ..Default::default()
    };
    // SAFETY: valid arguments.
    unsafe { kuberef_get_stats(m, &mut st) };
    println!(
        "  stats: count {} bytes {} ({:.0} B/ref) pruned {}",
        st.count,
        st.bytes,
        st.bytes as f64 / st.count as f64,
        st.pruned
    );
    // SAFETY: managers from kuberef_manager_new.
    unsafe {
        kuberef_manager_free(m);
        kuberef_manager_free(m2);
    }
}

fn get(n: usize) {
    let m = kuberef_manager_new();
    let refs = fill(m, n, 10);
    let ids: Vec<kuberef_container_id> = refs
        .keys
        .iter()
        .map(|k| kuberef_container_id {
            r#type: s(b"containerd"),
            id: s(k),
        })
        .collect();
    let mut buf = vec![0 as c_char; 512];
    let mut out = std::mem::MaybeUninit::<kuberef_object_reference>::uninit();
    let iters = 5_000_000;
    let mut samples = Vec::new();
    for _ in 0..9 {
        let t0 = Instant::now();
        for i in 0..iters {
            let id = &ids[i % n];
            // SAFETY: valid arguments.
            let st = unsafe {
                kuberef_get_ref(
                    m,
                    id,
                    out.as_mut_ptr(),
                    buf.as_mut_ptr(),
                    512,
                    std::ptr::null_mut(),
                )
            };
            debug_assert_eq!(st, KUBEREF_OK);
            std::hint::black_box(st);
        }
        samples.push(t0.elapsed().as_nanos() as f64 / iters as f64);
    }
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("GetRef via C export, {n} refs, 1 thread: median {:.1} ns/op (min {:.1}, max {:.1}, 9 runs of {iters})", samples[4], samples[0], samples[8]);
    // SAFETY: from kuberef_manager_new.
    unsafe { kuberef_manager_free(m) };
}

fn main() {
    // `cargo bench` adds --bench.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let mode = args.first().map(String::as_str).unwrap_or("all");
    let n = args.get(1).and_then(|a| a.parse().ok());
    match mode {
        "get" => get(n.unwrap_or(1000)),
        "leak" => leak(n.unwrap_or(1_000_000)),
        _ => {
            get(1000);
            leak(n.unwrap_or(1_000_000));
        }
    }
}
