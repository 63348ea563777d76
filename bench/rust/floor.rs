//! The "Rust, no FFI" floor of the benchmark: the same operations
//! and the same data as bench/c/bench.c, calling the safe core directly
//! (for GetRef: `with_ref` plus a `memcpy` into a caller buffer, which is
//! the work `kuberef_get_ref` does without the C boundary).
//!
//! It also measures bounds for the C ABI ("rust-bound get1/get2/setclear"):
//! the same keys and reference bytes in one `hashbrown::HashTable` with no
//! lock and no counters at all. A lookup hashes the caller's key with the
//! library's hash, compares it, and copies the stored fields into a
//! caller's buffer (what `kuberef_get_ref` must deliver); a set copies the
//! key and the fields into a new allocation and inserts it, and a clear
//! finds, removes and frees it (what a store that keeps no pointer into the
//! caller's memory must do). It is safe only because no two threads write
//! and none reads while one writes: a real manager must also keep readers
//! safe from concurrent writers, which costs more.
//!
//! `cargo bench --bench floor -- [--quick] [--reps R] [--sample-ms MS] [--sizes N,N,...]`
//! prints "rust-floor OP STORED NS_PER_OP" and "rust-bound OP STORED NS_PER_OP"
//! lines; no harness.

use std::hash::BuildHasher;
use std::hint::black_box;
use std::sync::Barrier;
use std::time::Instant;

use kuberef::reference::FIELD_COUNT;
use kuberef::{
    generate_container_ref, ContainerIdRef, GenerateOptions, ObjectReference, Pod, RefManager,
};

const IMPL: &str = "rust-floor";
const BOUND: &str = "rust-bound";
const HOT: usize = 1000;
const POOL: usize = 1024;
const EXTRA_BASE: u64 = 1 << 40;
/// The runtime of every key. The loops pass it through `black_box`: a C
/// caller's key is run-time data, and a constant would let the compiler
/// specialize the hash and the key copy for its length.
const TYPE: &[u8] = b"containerd";

/// splitmix64, seeded as in bench/c/workload.h.
struct Rng(u64);

impl Rng {
    fn seed(tag: u64, i: u64) -> Rng {
        Rng((tag << 56) ^ i.wrapping_mul(0xD1B5_4A32_D192_ED03))
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

const NAMESPACES: [&str; 8] = [
    "default",
    "kube-system",
    "monitoring",
    "payments",
    "checkout",
    "search",
    "ingress-nginx",
    "data-pipeline",
];
const APPS: [&str; 8] = [
    "web",
    "api-gateway",
    "checkout",
    "redis",
    "postgres",
    "fluent-bit",
    "coredns",
    "kafka-broker",
];
const ALNUM: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
const HEX: &[u8] = b"0123456789abcdef";

fn id(i: u64) -> Vec<u8> {
    let mut r = Rng::seed(2, i);
    let mut out = Vec::with_capacity(64);
    for _ in 0..4 {
        let v = r.next();
        out.extend((0..16).map(|d| HEX[((v >> (4 * d)) & 15) as usize]));
    }
    out
}

/// Pod i's strings and the container reference i is for.
struct PodData {
    namespace: Vec<u8>,
    name: Vec<u8>,
    uid: Vec<u8>,
    rv: Vec<u8>,
    containers: [&'static [u8]; 2],
    init: [&'static [u8]; 1],
    container: usize,
}

fn pod(i: u64) -> PodData {
    let mut r = Rng::seed(1, i);
    let ns = NAMESPACES[(r.next() % 8) as usize];
    let app = APPS[(r.next() % 8) as usize];
    let mut name = app.as_bytes().to_vec();
    name.push(b'-');
    name.extend((0..10).map(|_| ALNUM[(r.next() % 27) as usize]));
    name.push(b'-');
    name.extend((0..5).map(|_| ALNUM[(r.next() % 27) as usize]));
    let mut uid = Vec::with_capacity(36);
    for _ in 0..2 {
        let v = r.next();
        for d in 0..16 {
            if [8, 13, 18, 23].contains(&uid.len()) {
                uid.push(b'-');
            }
            uid.push(HEX[((v >> (4 * d)) & 15) as usize]);
        }
    }
    let rv = (100_000 + r.next() % 90_000_000).to_string().into_bytes();
    PodData {
        namespace: ns.as_bytes().to_vec(),
        name,
        uid,
        rv,
        containers: [app.as_bytes(), b"istio-proxy"],
        init: [b"istio-init"],
        container: (i % 2) as usize,
    }
}

impl PodData {
    fn pod(&self) -> Pod<'_> {
        Pod {
            kind: b"Pod",
            api_version: b"v1",
            namespace: &self.namespace,
            name: &self.name,
            uid: &self.uid,
            resource_version: &self.rv,
            containers: &self.containers[..],
            init_containers: &self.init[..],
            ephemeral_containers: &[],
        }
    }
    fn container(&self) -> &'static [u8] {
        self.containers[self.container]
    }
}

fn hot_index(j: u64, count: u64, n: u64) -> u64 {
    let stride = n / count;
    j * stride + Rng::seed(3, j).next() % stride
}

fn hot_order(t: u64, n: u64) -> Vec<u64> {
    let mut perm: Vec<u64> = (0..HOT as u64).collect();
    let mut r = Rng::seed(4 + t, n);
    for j in (1..HOT).rev() {
        let x = (r.next() % (j as u64 + 1)) as usize;
        perm.swap(j, x);
    }
    perm.iter().map(|&j| hot_index(j, HOT as u64, n)).collect()
}

/// What a C caller's buffer receives from a get: the seven NUL-terminated
/// fields and their views (here: lengths).
fn get_into(m: &RefManager, id: ContainerIdRef<'_>, buf: &mut [u8; 512]) -> usize {
    let n = m
        .with_ref(id, |s| {
            let blob = s.nul_terminated_fields();
            buf[..blob.len()].copy_from_slice(blob);
            s.lens()[FIELD_COUNT - 1]
        })
        .expect("stored");
    // The caller's buffer is observed, as a C caller's is: without this the
    // copy into a buffer nobody reads could be optimized away.
    black_box(&mut buf[..]);
    n
}

/// What `kuberef_generate_container_ref` writes: the fields into a buffer.
fn generate_into(p: &PodData, buf: &mut [u8; 512]) -> [usize; FIELD_COUNT] {
    let pod = p.pod();
    let g = generate_container_ref(&pod, p.container(), GenerateOptions::default());
    let mut at = 0;
    let mut lens = [0; FIELD_COUNT];
    for (len, f) in lens.iter_mut().zip(g.fields()) {
        let start = at;
        f.pieces(&mut |piece| {
            buf[at..at + piece.len()].copy_from_slice(piece);
            at += piece.len();
        });
        *len = at - start;
        buf[at] = 0;
        at = start + *len + 1;
    }
    lens
}

/// The fields of a buffer written by `generate_into`, as views.
fn views(buf: &[u8], lens: [usize; FIELD_COUNT]) -> [&[u8]; FIELD_COUNT] {
    let mut at = 0;
    lens.map(|l| {
        let f = &buf[at..at + l];
        at += l + 1;
        f
    })
}

/// The GetRef lower bound: entries `[hash u64][type len u32][id len u32]
/// [type][id][the reference's NUL-terminated fields]`, one allocation each,
/// in one table with no lock, hashed with the library's own key hash.
struct Bound {
    seed: [u64; 2],
    table: hashbrown::HashTable<Box<[u8]>>,
}

fn word(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

impl Bound {
    fn new() -> Bound {
        let rs = std::collections::hash_map::RandomState::new();
        Bound {
            seed: [rs.hash_one(7u64) | 1, rs.hash_one(8u64)],
            table: hashbrown::HashTable::new(),
        }
    }

    /// The library's key hash (`kuberef::manager::bench_hash`).
    #[inline(always)]
    fn hash(&self, typ: &[u8], id: &[u8]) -> u64 {
        kuberef::manager::bench_hash(self.seed, typ, id)
    }

    fn insert(&mut self, typ: &[u8], id: &[u8], fields: &[u8]) {
        let h = self.hash(typ, id);
        let mut e = Vec::with_capacity(16 + typ.len() + id.len() + fields.len());
        e.extend_from_slice(&h.to_le_bytes());
        e.extend_from_slice(&(typ.len() as u32).to_le_bytes());
        e.extend_from_slice(&(id.len() as u32).to_le_bytes());
        e.extend_from_slice(typ);
        e.extend_from_slice(id);
        e.extend_from_slice(fields);
        self.table
            .insert_unique(h, e.into_boxed_slice(), |e| word(e, 0));
    }

    /// Removes and frees the entry of (typ, id); whether there was one.
    fn remove(&mut self, typ: &[u8], id: &[u8]) -> bool {
        let h = self.hash(typ, id);
        match self.table.find_entry(h, |e| Bound::is(e, h, typ, id)) {
            Ok(e) => {
                drop(e.remove().0);
                true
            }
            Err(_) => false,
        }
    }

    /// Whether entry `e` holds the key (typ, id) of hash `h`.
    #[inline(always)]
    fn is(e: &[u8], h: u64, typ: &[u8], id: &[u8]) -> bool {
        word(e, 0) == h
            && e[8..12] == (typ.len() as u32).to_le_bytes()
            && e[12..16] == (id.len() as u32).to_le_bytes()
            && &e[16..16 + typ.len()] == typ
            && &e[16 + typ.len()..16 + typ.len() + id.len()] == id
    }

    /// The entry of (typ, id): found by hash and a full key compare.
    #[inline(always)]
    fn find(&self, typ: &[u8], id: &[u8]) -> Option<&[u8]> {
        let h = self.hash(typ, id);
        self.table
            .find(h, |e| Bound::is(e, h, typ, id))
            .map(|e| &e[..])
    }
}

fn measure(sample_ns: f64, mut op: impl FnMut(u64) -> f64) -> f64 {
    let mut n = 16u64;
    let mut per;
    loop {
        let start = Instant::now();
        per = op(n);
        if start.elapsed().as_nanos() as f64 >= sample_ns / 10.0 || n >= 1 << 34 {
            break;
        }
        n *= 4;
    }
    op(((sample_ns / per.max(0.1)) as u64).max(16))
}

/// Runs `op(t, n)` on threads t = 0 and 1 started together; aggregate ns per
/// operation: from the first start to the last end, over both threads' 2n.
fn two_threads(n: u64, op: impl Fn(usize, u64) + Sync) -> f64 {
    let barrier = Barrier::new(2);
    std::thread::scope(|s| {
        let other = s.spawn(|| {
            barrier.wait();
            let t0 = Instant::now();
            op(1, n);
            (t0, Instant::now())
        });
        barrier.wait();
        let t0 = Instant::now();
        op(0, n);
        let t1 = Instant::now();
        let (o0, o1) = other.join().expect("thread");
        (t1.max(o1) - t0.min(o0)).as_nanos() as f64 / (2 * n) as f64
    })
}

fn timed(n: u64, f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    start.elapsed().as_nanos() as f64 / n as f64
}

fn main() {
    let mut sizes = vec![1_000u64, 100_000, 1_000_000];
    let mut reps = 3;
    let mut sample_ns = 50e6;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--bench" => {} // added by `cargo bench`
            "--quick" => {
                sizes = vec![1_000, 5_000];
                reps = 1;
                sample_ns = 1e6;
            }
            "--reps" => reps = args.next().and_then(|v| v.parse().ok()).expect("--reps N"),
            "--sample-ms" => {
                sample_ns = args
                    .next()
                    .and_then(|v| v.parse::<f64>().ok())
                    .expect("--sample-ms MS")
                    * 1e6
            }
            "--sizes" => {
                sizes = args
                    .next()
                    .expect("--sizes N,N")
                    .split(',')
                    .map(|v| v.parse().expect("a number"))
                    .collect()
            }
            other => {
                eprintln!("usage: floor [--quick] [--reps R] [--sample-ms MS] [--sizes N,N,...] ({other}?)");
                std::process::exit(2);
            }
        }
    }

    let m = RefManager::new();
    let bound = std::sync::RwLock::new(Bound::new());
    let extra_ids: Vec<Vec<u8>> = (0..POOL as u64).map(|k| id(EXTRA_BASE + k)).collect();
    let pods: Vec<PodData> = (0..POOL as u64).map(|k| pod(EXTRA_BASE + k)).collect();
    let extra_refs: Vec<ObjectReference> = pods
        .iter()
        .map(|p| {
            generate_container_ref(&p.pod(), p.container(), GenerateOptions::default()).to_owned()
        })
        .collect();
    // The extra references as the bound stores them: fields NUL-terminated.
    let extra_blobs: Vec<Vec<u8>> = pods
        .iter()
        .map(|p| {
            let mut buf = [0u8; 512];
            let lens = generate_into(p, &mut buf);
            buf[..lens.iter().sum::<usize>() + FIELD_COUNT].to_vec()
        })
        .collect();
    let mut stored = 0u64;
    let mut hot: [Vec<Vec<u8>>; 2] = [Vec::new(), Vec::new()];

    let get_loop = |keys: &[Vec<u8>], n: u64| {
        let mut buf = [0u8; 512];
        let (mut acc, mut j) = (0usize, 0usize);
        for _ in 0..n {
            acc += get_into(&m, ContainerIdRef::new(black_box(TYPE), &keys[j]), &mut buf);
            j += 1;
            if j == keys.len() {
                j = 0;
            }
        }
        black_box(acc);
    };

    for &size in &sizes {
        assert!(
            size >= HOT as u64 && size >= stored,
            "sizes must grow and be at least {HOT}"
        );
        let mut buf = [0u8; 512];
        for i in stored..size {
            let p = pod(i);
            let lens = generate_into(&p, &mut buf);
            let f = views(&buf, lens);
            let key = id(i);
            m.set_pieces(
                ContainerIdRef::new(TYPE, &key),
                [&f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6]],
            )
            .expect("fits");
            bound.write().expect("bound").insert(
                TYPE,
                &key,
                &buf[..lens.iter().sum::<usize>() + FIELD_COUNT],
            );
        }
        stored = size;
        assert_eq!(m.len() as u64, stored);
        for (t, keys) in hot.iter_mut().enumerate() {
            *keys = hot_order(t as u64, stored).into_iter().map(id).collect();
        }

        let bound_loop = |keys: &[Vec<u8>], n: u64| {
            let bound = bound.read().expect("bound");
            let mut buf = [0u8; 512];
            let (mut acc, mut j) = (0usize, 0usize);
            for _ in 0..n {
                let e = bound.find(black_box(TYPE), &keys[j]).expect("stored");
                let fields = &e[16 + TYPE.len() + keys[j].len()..];
                buf[..fields.len()].copy_from_slice(fields);
                black_box(&mut buf[..]);
                acc += fields.len();
                j += 1;
                if j == keys.len() {
                    j = 0;
                }
            }
            black_box(acc);
        };

        for _ in 0..reps {
            let get1 = measure(sample_ns, |n| timed(n, || get_loop(&hot[0], n)));
            println!("{IMPL} get1 {stored} {get1:.2}");

            let b1 = measure(sample_ns, |n| timed(n, || bound_loop(&hot[0], n)));
            println!("{BOUND} get1 {stored} {b1:.2}");
            let b2 = measure(sample_ns, |n| two_threads(n, |t, n| bound_loop(&hot[t], n)));
            println!("{BOUND} get2 {stored} {b2:.2}");

            let get2 = measure(sample_ns, |n| two_threads(n, |t, n| get_loop(&hot[t], n)));
            println!("{IMPL} get2 {stored} {get2:.2}");

            let setclear = measure(sample_ns, |n| {
                timed(n, || {
                    let mut k = 0;
                    for _ in 0..n {
                        let id = ContainerIdRef::new(black_box(TYPE), &extra_ids[k]);
                        m.set(id, extra_refs[k].as_ref()).expect("fits");
                        assert!(m.clear(id));
                        k = (k + 1) % POOL;
                    }
                })
            });
            println!("{IMPL} setclear {stored} {setclear:.2}");

            let bound_setclear = measure(sample_ns, |n| {
                let mut bound = bound.write().expect("bound");
                timed(n, || {
                    let mut k = 0;
                    for _ in 0..n {
                        let id = black_box(&extra_ids[k][..]);
                        bound.insert(black_box(TYPE), id, &extra_blobs[k]);
                        assert!(bound.remove(black_box(TYPE), id));
                        k = (k + 1) % POOL;
                    }
                })
            });
            println!("{BOUND} setclear {stored} {bound_setclear:.2}");

            let lifecycle = measure(sample_ns, |n| {
                timed(n, || {
                    let (mut k, mut acc) = (0, 0);
                    let mut rbuf = [0u8; 512];
                    for _ in 0..n {
                        let id = ContainerIdRef::new(black_box(TYPE), &extra_ids[k]);
                        // Stored straight from the generated reference,
                        // which borrows the pod (as the C bench's borrowed
                        // generate does).
                        let pod = pods[k].pod();
                        let g = generate_container_ref(
                            &pod,
                            pods[k].container(),
                            GenerateOptions::default(),
                        );
                        m.set_pieces(id, g.fields()).expect("fits");
                        for _ in 0..3 {
                            acc += get_into(&m, id, &mut rbuf);
                        }
                        assert!(m.clear(id));
                        k = (k + 1) % POOL;
                    }
                    black_box(acc);
                })
            });
            println!("{IMPL} lifecycle {stored} {lifecycle:.2}");

            let generate = measure(sample_ns, |n| {
                timed(n, || {
                    let mut k = 0;
                    let mut gbuf = [0u8; 512];
                    for _ in 0..n {
                        black_box(generate_into(&pods[k], &mut gbuf));
                        black_box(&mut gbuf[..]);
                        k = (k + 1) % POOL;
                    }
                })
            });
            println!("{IMPL} generate 0 {generate:.2}");
        }
        assert_eq!(m.len() as u64, stored);
    }
}
