//! Fuzzes the C ABI: each input is decoded into a sequence of calls to the
//! `extern "C"` exports (the same functions libkuberef.so exports) on two
//! managers, with views that may be NULL, dangling-but-empty, over-long or
//! slices of the input itself (up to the whole rest of it), random pods and
//! flags, random text to parse, and output buffers of every interesting size.
//!
//! After every call it checks the documented contract against a simple model
//! (a `HashMap` per manager and independent re-implementations of parse,
//! format and GenerateContainerRef):
//! * the status is one the header documents for that situation (argument
//!   errors may come in any order when several apply);
//! * `kuberef_len` equals the model's size, for both managers, after every call;
//! * a get returns exactly the bytes last set; outputs (`out`, `buf`,
//!   `*needed`) are untouched on error, except `*needed` on
//!   `KUBEREF_BUFFER_TOO_SMALL`; on success `*needed` is exact, every output
//!   view points into `buf` and is followed by a NUL, and nothing past
//!   `*needed` bytes of `buf` is written;
//! * parse's views point at bytes of the text, an empty part too (at its
//!   offset, or at the last byte when that is the end); the borrowed
//!   generate's point into the pod, except an empty one: the pod's own
//!   pointer when its field is empty and not NULL, else the library's
//!   static empty string (one address, a NUL byte);
//! * an error leaves the manager as the model says it was;
//! * each manager's change counter never goes down, stays put across calls
//!   that only read, and grows across every call that changed the model.
//!
//! A failed check panics, which libFuzzer reports as a crash with the input.

#![no_main]

use std::collections::{HashMap, HashSet};
use std::ffi::CStr;
use std::os::raw::c_char;
use std::sync::OnceLock;

use kuberef::ffi::*;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| run(data));

/// Reads the input as a stream of numbers; zeros once it is exhausted.
struct Input<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Input<'a> {
    fn done(&self) -> bool {
        self.at >= self.data.len()
    }
    fn u8(&mut self) -> u8 {
        let b = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn u64(&mut self) -> u64 {
        (self.u32() as u64) | ((self.u32() as u64) << 32)
    }
}

/// Keys and names that collide often, so that gets hit and overwrite.
const DICT: &[&[u8]] = &[
    b"",
    b"a",
    b"ab",
    b"bc",
    b"c",
    b"a\0",
    b"\0",
    b"containerd",
    b"docker",
    b"0123abcd",
    b"app",
    b"\"",
    b"://",
    b"x://y",
    b"\"\"docker://abc\"",
    b"v1",
    b"apps/v1",
    b"a/b/c",
    b"/",
    b"Pod",
    b"\xff\xfe",
];

const SENTINEL: u8 = 0xA5;
const NEEDED_SENTINEL: usize = 0x5EED_5EED;

/// A generated view: the C value, and its bytes when it is valid.
#[derive(Clone, Copy)]
struct View<'a> {
    c: kuberef_str,
    bytes: Option<&'a [u8]>,
}

fn dangling() -> *const c_char {
    std::ptr::NonNull::<c_char>::dangling().as_ptr()
}

/// The library's static empty string, learnt from the namespace the
/// borrowed generate returns for a pod whose namespace is `{NULL, 0}`: not
/// NULL, and a NUL byte.
fn static_empty() -> *const c_char {
    static ADDR: OnceLock<usize> = OnceLock::new();
    let addr = *ADDR.get_or_init(|| {
        let none = kuberef_str {
            ptr: std::ptr::null(),
            len: 0,
        };
        let pod = kuberef_pod {
            kind: none,
            api_version: none,
            namespace_: none,
            name: none,
            uid: none,
            resource_version: none,
            containers: std::ptr::null(),
            containers_len: 0,
            init_containers: std::ptr::null(),
            init_containers_len: 0,
            ephemeral_containers: std::ptr::null(),
            ephemeral_containers_len: 0,
        };
        let mut out = sentinel_ref();
        let mut buf = [0u8; 64];
        let st = unsafe {
            kuberef_generate_container_ref_borrowed(
                &pod,
                none,
                0,
                &mut out,
                buf.as_mut_ptr().cast(),
                buf.len(),
                std::ptr::null_mut(),
            )
        };
        assert_eq!(st, KUBEREF_OK);
        let p = out.namespace_.ptr;
        assert!(
            out.namespace_.len == 0 && !p.is_null(),
            "empty namespace view"
        );
        assert_eq!(unsafe { *p }, 0, "the static empty string is not a NUL");
        p as usize
    });
    addr as *const c_char
}

fn view<'a>(r: &mut Input<'a>) -> View<'a> {
    let pool = r.data;
    let ok = |b: &'a [u8]| View {
        c: kuberef_str {
            ptr: b.as_ptr().cast(),
            len: b.len(),
        },
        bytes: Some(b),
    };
    match r.u8() % 16 {
        0..=7 => ok(DICT[r.u8() as usize % DICT.len()]),
        8..=11 => {
            // A slice of the input itself: up to all of the rest of it.
            let off = r.u32() as usize % (pool.len() + 1);
            let rest = pool.len() - off;
            let len = if r.u8() & 1 == 0 {
                rest
            } else {
                r.u8() as usize % (rest + 1)
            };
            ok(&pool[off..off + len])
        }
        12 => View {
            c: kuberef_str {
                ptr: std::ptr::null(),
                len: 0,
            },
            bytes: Some(&[]),
        },
        13 => View {
            // Non-NULL but not readable: valid only because len is 0.
            c: kuberef_str {
                ptr: dangling(),
                len: 0,
            },
            bytes: Some(&[]),
        },
        14 => View {
            c: kuberef_str {
                ptr: std::ptr::null(),
                len: 1 + r.u32() as usize,
            },
            bytes: None,
        },
        _ => {
            // Longer than KUBEREF_MAX_STR_LEN: rejected without being read
            // (the pointer is valid for far fewer bytes).
            let extra = r.u64() as usize % (usize::MAX - KUBEREF_MAX_STR_LEN);
            View {
                c: kuberef_str {
                    ptr: pool.as_ptr().cast(),
                    len: KUBEREF_MAX_STR_LEN + 1 + extra,
                },
                bytes: None,
            }
        }
    }
}

type Key = (Vec<u8>, Vec<u8>);
type Fields = [Vec<u8>; 7];

/// Argument errors that apply to a call; any one of them is a correct status.
#[derive(Default)]
struct ArgErrors(Vec<kuberef_status>);

impl ArgErrors {
    fn add(&mut self, cond: bool, status: kuberef_status) {
        if cond {
            self.0.push(status);
        }
    }
    fn any(&self) -> bool {
        !self.0.is_empty()
    }
    fn check(&self, got: kuberef_status, what: &str) {
        assert!(
            self.0.contains(&got),
            "{what}: status {got}, want one of {:?}",
            self.0
        );
    }
}

/// A container ID argument: NULL, or two views.
struct IdArg<'a> {
    c: Option<Box<kuberef_container_id>>,
    key: Option<(View<'a>, View<'a>)>,
}

impl<'a> IdArg<'a> {
    fn gen(r: &mut Input<'a>) -> Self {
        if r.u8() % 16 == 0 {
            return IdArg { c: None, key: None };
        }
        let (t, i) = (view(r), view(r));
        IdArg {
            c: Some(Box::new(kuberef_container_id {
                r#type: t.c,
                id: i.c,
            })),
            key: Some((t, i)),
        }
    }
    fn ptr(&self) -> *const kuberef_container_id {
        self.c
            .as_deref()
            .map_or(std::ptr::null(), |c| c as *const _)
    }
    /// NULL and INVALID errors this argument contributes.
    fn errors(&self, e: &mut ArgErrors) {
        match &self.key {
            None => e.add(true, KUBEREF_NULL_ARGUMENT),
            Some((t, i)) => e.add(
                t.bytes.is_none() || i.bytes.is_none(),
                KUBEREF_INVALID_ARGUMENT,
            ),
        }
    }
    fn key(&self) -> Option<Key> {
        let (t, i) = self.key?;
        Some((t.bytes?.to_vec(), i.bytes?.to_vec()))
    }
}

/// An output buffer as the call sees it (`ptr`, `len`) and the memory behind it.
struct Buf {
    mem: Vec<u8>,
    ptr: *mut c_char,
    len: usize,
    valid: bool,
}

impl Buf {
    /// A buffer sized around `need` (what a successful call needs, if known).
    fn gen(r: &mut Input<'_>, need: usize) -> Buf {
        let real = |n: usize| {
            let mut mem = vec![SENTINEL; n];
            let ptr = if n == 0 {
                std::ptr::null_mut()
            } else {
                mem.as_mut_ptr().cast()
            };
            Buf {
                mem,
                ptr,
                len: n,
                valid: true,
            }
        };
        match r.u8() % 10 {
            0 => real(0),
            1 => Buf {
                mem: Vec::new(),
                ptr: dangling() as *mut c_char,
                len: 0,
                valid: true,
            },
            2 | 3 => real(need),
            4 => real(need.saturating_sub(1 + r.u8() as usize % 4)),
            5 => real(need + r.u8() as usize % 16),
            6 => real(r.u16() as usize % 1024),
            7 => Buf {
                mem: Vec::new(),
                ptr: std::ptr::null_mut(),
                len: 1 + r.u8() as usize,
                valid: false,
            },
            8 => {
                // A length no buffer can have: rejected before any write.
                let mut b = real(16);
                b.len = isize::MAX as usize + 1 + (r.u32() as usize);
                b.valid = false;
                b
            }
            _ => real(need + 1),
        }
    }
    fn untouched(&self) -> bool {
        self.mem.iter().all(|&b| b == SENTINEL)
    }
    /// The view `v` lies inside the buffer and is followed by a NUL; its bytes.
    fn view_bytes(&self, v: kuberef_str, what: &str) -> &[u8] {
        let base = self.mem.as_ptr() as usize;
        let p = v.ptr as usize;
        assert!(!v.ptr.is_null(), "{what}: NULL output view");
        assert!(
            p >= base && p + v.len < base + self.mem.len(),
            "{what}: output view outside buf"
        );
        let at = p - base;
        assert_eq!(
            self.mem[at + v.len],
            0,
            "{what}: output view not NUL-terminated"
        );
        &self.mem[at..at + v.len]
    }
    /// Nothing past `need` bytes was written.
    fn tail_untouched(&self, need: usize) -> bool {
        self.mem[need.min(self.mem.len())..]
            .iter()
            .all(|&b| b == SENTINEL)
    }
}

/// `needed`: NULL or a sentinel-filled slot.
struct Needed {
    slot: Box<usize>,
    null: bool,
}

impl Needed {
    fn gen(r: &mut Input<'_>) -> Needed {
        Needed {
            slot: Box::new(NEEDED_SENTINEL),
            null: r.u8() % 4 == 0,
        }
    }
    fn ptr(&mut self) -> *mut usize {
        if self.null {
            std::ptr::null_mut()
        } else {
            &mut *self.slot
        }
    }
    fn untouched(&self) -> bool {
        *self.slot == NEEDED_SENTINEL
    }
    fn is(&self, n: usize) -> bool {
        if self.null {
            self.untouched()
        } else {
            *self.slot == n
        }
    }
}

fn sentinel_ref() -> kuberef_object_reference {
    let v = kuberef_str {
        ptr: 0x5A5A_5A5A as *const c_char,
        len: 0xA5A5_A5A5,
    };
    kuberef_object_reference {
        kind: v,
        namespace_: v,
        name: v,
        uid: v,
        api_version: v,
        resource_version: v,
        field_path: v,
    }
}

fn ref_views(r: &kuberef_object_reference) -> [kuberef_str; 7] {
    [
        r.kind,
        r.namespace_,
        r.name,
        r.uid,
        r.api_version,
        r.resource_version,
        r.field_path,
    ]
}

fn is_sentinel_ref(r: &kuberef_object_reference) -> bool {
    ref_views(r)
        .iter()
        .all(|v| v.ptr as usize == 0x5A5A_5A5A && v.len == 0xA5A5_A5A5)
}

/// Checks a successful reference output: each view in `buf`, NUL-terminated,
/// equal to `want`; `*needed` exact; nothing written past it.
fn check_ref_out(
    out: &kuberef_object_reference,
    buf: &Buf,
    needed: &Needed,
    want: &Fields,
    what: &str,
) {
    let need = want.iter().map(|f| f.len() + 1).sum::<usize>();
    assert!(needed.is(need), "{what}: *needed is not {need}");
    for (k, v) in ref_views(out).into_iter().enumerate() {
        assert_eq!(buf.view_bytes(v, what), &want[k][..], "{what}: field {k}");
    }
    assert!(buf.tail_untouched(need), "{what}: wrote past *needed bytes");
}

/// The error checks shared by every buffer-protocol call once argument
/// errors are ruled out: `BUFFER_TOO_SMALL` with only `*needed` written.
fn check_too_small(
    st: kuberef_status,
    buf: &Buf,
    needed: &Needed,
    out_untouched: bool,
    need: usize,
    what: &str,
) -> bool {
    if buf.len < need {
        assert_eq!(st, KUBEREF_BUFFER_TOO_SMALL, "{what}: {} < {need}", buf.len);
        assert!(needed.is(need), "{what}: *needed on BUFFER_TOO_SMALL");
        assert!(
            out_untouched && buf.untouched(),
            "{what}: output written on BUFFER_TOO_SMALL"
        );
        true
    } else {
        assert_eq!(st, KUBEREF_OK, "{what}");
        false
    }
}

/// Upstream ParseString, re-implemented from its description: trim every
/// leading/trailing `"`, then exactly two parts around `://` (Go's
/// strings.Split counts non-overlapping occurrences from the left).
fn model_parse(text: &[u8]) -> Option<(usize, usize, usize, usize)> {
    let start = text.iter().take_while(|&&b| b == b'"').count();
    let end = text.len()
        - text[start..]
            .iter()
            .rev()
            .take_while(|&&b| b == b'"')
            .count();
    let t = &text[start..end];
    let mut hits = Vec::new();
    let mut i = 0;
    while i + 3 <= t.len() {
        if &t[i..i + 3] == b"://" {
            hits.push(i);
            i += 3;
        } else {
            i += 1;
        }
    }
    match hits[..] {
        [at] => Some((start, at, start + at + 3, t.len() - at - 3)),
        _ => None,
    }
}

/// Upstream GenerateContainerRef, re-implemented from its description.
fn model_generate(pod: &[&[u8]; 6], lists: [&[&[u8]]; 3], name: &[u8], eph: bool) -> Fields {
    let [kind, api_version, namespace, pod_name, uid, rv] = *pod;
    let prefixes = [
        "spec.containers",
        "spec.initContainers",
        "spec.ephemeralContainers",
    ];
    let searched = if eph { 3 } else { 2 };
    let mut field_path = None;
    for (prefix, list) in prefixes.iter().zip(lists).take(searched) {
        if let Some(i) = list.iter().position(|n| *n == name) {
            let mut p = prefix.as_bytes().to_vec();
            if name.is_empty() {
                p.extend_from_slice(format!("[{i}]").as_bytes());
            } else {
                p.push(b'{');
                p.extend_from_slice(name);
                p.push(b'}');
            }
            field_path = Some(p);
            break;
        }
    }
    let field_path =
        field_path.unwrap_or_else(|| [&b"implicitly required container "[..], name].concat());
    // ParseGroupVersion, with FromAPIVersionAndKind dropping it on error.
    let slashes = api_version.iter().filter(|&&b| b == b'/').count();
    let (group, version): (&[u8], &[u8]) = if api_version.is_empty() || api_version == b"/" {
        (b"", b"")
    } else if slashes == 0 {
        (b"", api_version)
    } else if slashes == 1 {
        let at = api_version.iter().position(|&b| b == b'/').unwrap();
        (&api_version[..at], &api_version[at + 1..])
    } else {
        (b"", b"")
    };
    let (kind, group, version): (&[u8], &[u8], &[u8]) =
        if kind.is_empty() && group.is_empty() && version.is_empty() {
            (b"Pod", b"", b"v1")
        } else {
            (kind, group, version)
        };
    let api = if group.is_empty() {
        version.to_vec()
    } else {
        [group, b"/", version].concat()
    };
    [
        kind.to_vec(),
        namespace.to_vec(),
        pod_name.to_vec(),
        uid.to_vec(),
        api,
        rv.to_vec(),
        field_path,
    ]
}

/// An array argument of names: the C pointer and length, and the names if valid.
struct Names<'a> {
    _mem: Vec<kuberef_str>,
    ptr: *const kuberef_str,
    len: usize,
    names: Option<Vec<&'a [u8]>>,
}

impl<'a> Names<'a> {
    fn gen(r: &mut Input<'a>) -> Names<'a> {
        match r.u8() % 8 {
            0 => Names {
                _mem: Vec::new(),
                ptr: std::ptr::null(),
                len: 0,
                names: Some(Vec::new()),
            },
            1 => Names {
                _mem: Vec::new(),
                ptr: std::ptr::null(),
                len: 1 + r.u8() as usize,
                names: None,
            },
            2 => Names {
                // More elements than any array can have: rejected unread.
                _mem: Vec::new(),
                ptr: std::ptr::NonNull::<kuberef_str>::dangling().as_ptr(),
                len: usize::MAX - r.u32() as usize,
                names: None,
            },
            _ => {
                let n = r.u8() as usize % 6;
                let views: Vec<View<'a>> = (0..n).map(|_| view(r)).collect();
                let mem: Vec<kuberef_str> = views.iter().map(|v| v.c).collect();
                let names = views.iter().map(|v| v.bytes).collect::<Option<Vec<_>>>();
                let ptr = if n == 0 && r.u8() & 1 == 0 {
                    std::ptr::null()
                } else {
                    mem.as_ptr()
                };
                Names {
                    len: n,
                    ptr,
                    _mem: mem,
                    names,
                }
            }
        }
    }
}

/// The checks of a call that writes bytes under the buffer protocol: on an
/// argument error (`e`) nothing written; else `KUBEREF_BUFFER_TOO_SMALL`
/// with only `*needed`, or exactly `want` (its NUL included), `*needed`
/// its length, and nothing past it.
fn check_bytes_out(
    st: kuberef_status,
    e: &ArgErrors,
    buf: &Buf,
    needed: &Needed,
    want: Option<&[u8]>,
    what: &str,
) {
    if e.any() {
        e.check(st, what);
        assert!(
            buf.untouched() && needed.untouched(),
            "{what}: output written on error"
        );
        return;
    }
    let want = want.expect("a call without argument errors has an output");
    if !check_too_small(st, buf, needed, true, want.len(), what) {
        assert!(needed.is(want.len()), "{what}: *needed");
        assert_eq!(&buf.mem[..want.len()], want, "{what}");
        assert!(buf.tail_untouched(want.len()), "{what}: wrote past *needed");
    }
}

/// A container ID argument over a model key's bytes.
fn key_id(t: &[u8], i: &[u8]) -> kuberef_container_id {
    let v = |b: &[u8]| kuberef_str {
        ptr: b.as_ptr().cast(),
        len: b.len(),
    };
    kuberef_container_id {
        r#type: v(t),
        id: v(i),
    }
}

/// A `*stamp` argument: NULL, or `stamp` (holding [`STAMP_SENTINEL`]).
fn stamp_arg(null: bool, stamp: &mut u64) -> *mut u64 {
    if null {
        std::ptr::null_mut()
    } else {
        stamp
    }
}

/// A reference argument over seven generated views.
fn ref_arg(fields: &[View<'_>]) -> kuberef_object_reference {
    kuberef_object_reference {
        kind: fields[0].c,
        namespace_: fields[1].c,
        name: fields[2].c,
        uid: fields[3].c,
        api_version: fields[4].c,
        resource_version: fields[5].c,
        field_path: fields[6].c,
    }
}

struct Fuzz {
    m: [*mut kuberef_manager; 2],
    model: [HashMap<Key, Fields>; 2],
    /// The stamp of each stored reference whose stamp a call returned (a
    /// stamped set, or a stamped get or clear of a reference set plainly).
    stamps: [HashMap<Key, u64>; 2],
    /// Every stamp a manager returned: a new reference's must be new.
    issued: [HashSet<u64>; 2],
}

/// What a `*stamp` output holds until the library writes it.
const STAMP_SENTINEL: u64 = 0x5717_5717_5717_5717;

impl Fuzz {
    /// A manager argument: one of the two, or NULL.
    fn pick(&self, r: &mut Input<'_>) -> (Option<usize>, *mut kuberef_manager) {
        match r.u8() % 8 {
            0..=3 => (Some(0), self.m[0]),
            4..=6 => (Some(1), self.m[1]),
            _ => (None, std::ptr::null_mut()),
        }
    }

    fn check_lens(&self) {
        for k in 0..2 {
            let got = unsafe { kuberef_len(self.m[k]) };
            assert_eq!(got, self.model[k].len(), "kuberef_len of manager {k}");
        }
    }

    /// Every reference the model holds is stored, exactly.
    fn check_all(&self, k: usize) {
        for ((t, i), fields) in &self.model[k] {
            let id = key_id(t, i);
            let need = fields.iter().map(|f| f.len() + 1).sum::<usize>();
            let mut buf = vec![SENTINEL; need];
            let mut out = sentinel_ref();
            let mut needed = 0usize;
            let st = unsafe {
                kuberef_get_ref(
                    self.m[k],
                    &id,
                    &mut out,
                    buf.as_mut_ptr().cast(),
                    need,
                    &mut needed,
                )
            };
            assert_eq!(st, KUBEREF_OK, "stored reference missing");
            assert_eq!(needed, need);
            let b = Buf {
                ptr: buf.as_mut_ptr().cast(),
                len: need,
                mem: buf,
                valid: true,
            };
            for (n, v) in ref_views(&out).into_iter().enumerate() {
                assert_eq!(b.view_bytes(v, "check_all"), &fields[n][..]);
            }
        }
    }

    /// `kuberef_set_ref`, or with `stamped` `kuberef_set_ref_stamped`.
    fn set(&mut self, r: &mut Input<'_>, stamped: bool) {
        let (mi, m) = self.pick(r);
        let id = IdArg::gen(r);
        let null_ref = r.u8() % 16 == 0;
        let fields: Vec<View<'_>> = (0..7).map(|_| view(r)).collect();
        let c = ref_arg(&fields);
        let refp = if null_ref {
            std::ptr::null()
        } else {
            &c as *const _
        };
        let null_stamp = stamped && r.u8() % 16 == 0;
        let mut stamp = STAMP_SENTINEL;
        let st = if stamped {
            let sp = stamp_arg(null_stamp, &mut stamp);
            unsafe { kuberef_set_ref_stamped(m, id.ptr(), refp, sp) }
        } else {
            unsafe { kuberef_set_ref(m, id.ptr(), refp) }
        };
        let mut e = ArgErrors::default();
        e.add(
            mi.is_none() || null_ref || null_stamp,
            KUBEREF_NULL_ARGUMENT,
        );
        id.errors(&mut e);
        e.add(
            !null_ref && fields.iter().any(|f| f.bytes.is_none()),
            KUBEREF_INVALID_ARGUMENT,
        );
        if e.any() {
            e.check(st, "set_ref");
            assert_eq!(
                stamp, STAMP_SENTINEL,
                "set_ref_stamped: *stamp written on error"
            );
            return;
        }
        assert_eq!(st, KUBEREF_OK, "set_ref");
        let want: Fields = std::array::from_fn(|k| fields[k].bytes.unwrap().to_vec());
        let (k, key) = (mi.unwrap(), id.key().unwrap());
        self.model[k].insert(key.clone(), want);
        self.stamps[k].remove(&key);
        if stamped {
            assert!(
                stamp != 0 && stamp != STAMP_SENTINEL,
                "set_ref_stamped: no stamp"
            );
            assert!(
                self.issued[k].insert(stamp),
                "set_ref_stamped: a stamp given before"
            );
            self.stamps[k].insert(key, stamp);
        }
    }

    /// A stamp the library returned for the reference stored under `key`:
    /// the one seen before for it, or one no other reference had.
    fn check_stamp(&mut self, k: usize, key: &Key, stamp: u64, what: &str) {
        assert!(stamp != 0 && stamp != STAMP_SENTINEL, "{what}: no stamp");
        match self.stamps[k].get(key) {
            Some(&known) => {
                assert_eq!(stamp, known, "{what}: another stamp for the same reference")
            }
            None => {
                assert!(
                    self.issued[k].insert(stamp),
                    "{what}: another reference's stamp"
                );
                self.stamps[k].insert(key.clone(), stamp);
            }
        }
    }

    /// `kuberef_get_ref`, or with `stamped` `kuberef_get_ref_stamped`.
    fn get(&mut self, r: &mut Input<'_>, stamped: bool) {
        let (mi, m) = self.pick(r);
        let id = IdArg::gen(r);
        let null_out = r.u8() % 16 == 0;
        let null_stamp = stamped && r.u8() % 16 == 0;
        let mut stamp = STAMP_SENTINEL;
        let stored = mi.and_then(|k| self.model[k].get(&id.key()?).cloned());
        let need = stored
            .as_ref()
            .map_or(r.u8() as usize, |f| f.iter().map(|f| f.len() + 1).sum());
        let buf = Buf::gen(r, need);
        let mut needed = Needed::gen(r);
        let mut out = sentinel_ref();
        let outp = if null_out {
            std::ptr::null_mut()
        } else {
            &mut out as *mut _
        };
        let st = if stamped {
            let sp = stamp_arg(null_stamp, &mut stamp);
            unsafe {
                kuberef_get_ref_stamped(m, id.ptr(), outp, buf.ptr, buf.len, needed.ptr(), sp)
            }
        } else {
            unsafe { kuberef_get_ref(m, id.ptr(), outp, buf.ptr, buf.len, needed.ptr()) }
        };
        let mut e = ArgErrors::default();
        e.add(
            mi.is_none() || null_out || null_stamp,
            KUBEREF_NULL_ARGUMENT,
        );
        id.errors(&mut e);
        e.add(!buf.valid, KUBEREF_INVALID_ARGUMENT);
        let untouched = is_sentinel_ref(&out) && buf.untouched() && stamp == STAMP_SENTINEL;
        if e.any() {
            e.check(st, "get_ref");
            assert!(
                untouched && needed.untouched(),
                "get_ref: output written on error"
            );
            return;
        }
        let Some(want) = stored else {
            assert_eq!(st, KUBEREF_NOT_FOUND, "get_ref of an absent key");
            assert!(
                untouched && needed.untouched(),
                "get_ref: output written on NOT_FOUND"
            );
            return;
        };
        let out_untouched = is_sentinel_ref(&out) && stamp == STAMP_SENTINEL;
        if !check_too_small(st, &buf, &needed, out_untouched, need, "get_ref") {
            check_ref_out(&out, &buf, &needed, &want, "get_ref");
            if stamped {
                self.check_stamp(mi.unwrap(), &id.key().unwrap(), stamp, "get_ref_stamped");
            }
        }
    }

    /// `kuberef_clear_ref`, or with `stamped` `kuberef_clear_ref_stamped`.
    fn clear(&mut self, r: &mut Input<'_>, stamped: bool) {
        let (mi, m) = self.pick(r);
        let id = IdArg::gen(r);
        let null_stamp = stamped && r.u8() % 16 == 0;
        let mut stamp = STAMP_SENTINEL;
        let st = if stamped {
            let sp = stamp_arg(null_stamp, &mut stamp);
            unsafe { kuberef_clear_ref_stamped(m, id.ptr(), sp) }
        } else {
            unsafe { kuberef_clear_ref(m, id.ptr()) }
        };
        let mut e = ArgErrors::default();
        e.add(mi.is_none() || null_stamp, KUBEREF_NULL_ARGUMENT);
        id.errors(&mut e);
        if e.any() {
            e.check(st, "clear_ref");
            assert_eq!(
                stamp, STAMP_SENTINEL,
                "clear_ref_stamped: *stamp written on error"
            );
            return;
        }
        let (k, key) = (mi.unwrap(), id.key().unwrap());
        let had = self.model[k].remove(&key).is_some();
        let want = if had { KUBEREF_OK } else { KUBEREF_NOT_FOUND };
        assert_eq!(st, want, "clear_ref");
        if had && stamped {
            self.check_stamp(k, &key, stamp, "clear_ref_stamped");
        } else {
            assert_eq!(
                stamp, STAMP_SENTINEL,
                "clear_ref_stamped: *stamp written on NOT_FOUND"
            );
        }
        self.stamps[k].remove(&key);
    }

    fn len(&mut self, r: &mut Input<'_>) {
        let (mi, m) = self.pick(r);
        let got = unsafe { kuberef_len(m) };
        assert_eq!(got, mi.map_or(0, |k| self.model[k].len()), "kuberef_len");
    }

    fn generate(&mut self, r: &mut Input<'_>) {
        let null_pod = r.u8() % 16 == 0;
        let meta: Vec<View<'_>> = (0..6).map(|_| view(r)).collect();
        let lists = [Names::gen(r), Names::gen(r), Names::gen(r)];
        let name = view(r);
        let flags = match r.u8() % 8 {
            0..=3 => 0,
            4..=6 => KUBEREF_GENERATE_EPHEMERAL_CONTAINERS,
            _ => r.u32(),
        };
        let null_out = r.u8() % 16 == 0;
        let valid_meta: Option<Vec<&[u8]>> = meta.iter().map(|v| v.bytes).collect();
        let valid_lists: Option<Vec<&[&[u8]]>> = lists.iter().map(|l| l.names.as_deref()).collect();
        let want = match (&valid_meta, &valid_lists, name.bytes) {
            (Some(m), Some(l), Some(n)) if flags & !KUBEREF_GENERATE_EPHEMERAL_CONTAINERS == 0 => {
                let m: [&[u8]; 6] = m.clone().try_into().unwrap();
                Some(model_generate(
                    &m,
                    [l[0], l[1], l[2]],
                    n,
                    flags & KUBEREF_GENERATE_EPHEMERAL_CONTAINERS != 0,
                ))
            }
            _ => None,
        };
        let need = want
            .as_ref()
            .map_or(r.u8() as usize, |f| f.iter().map(|f| f.len() + 1).sum());
        let buf = Buf::gen(r, need);
        let mut needed = Needed::gen(r);
        let pod = kuberef_pod {
            kind: meta[0].c,
            api_version: meta[1].c,
            namespace_: meta[2].c,
            name: meta[3].c,
            uid: meta[4].c,
            resource_version: meta[5].c,
            containers: lists[0].ptr,
            containers_len: lists[0].len,
            init_containers: lists[1].ptr,
            init_containers_len: lists[1].len,
            ephemeral_containers: lists[2].ptr,
            ephemeral_containers_len: lists[2].len,
        };
        let podp = if null_pod {
            std::ptr::null()
        } else {
            &pod as *const _
        };
        let mut out = sentinel_ref();
        let outp = if null_out {
            std::ptr::null_mut()
        } else {
            &mut out as *mut _
        };
        let st = unsafe {
            kuberef_generate_container_ref(
                podp,
                name.c,
                flags,
                outp,
                buf.ptr,
                buf.len,
                needed.ptr(),
            )
        };
        // The borrowed variant, same arguments, a buffer of its own.
        let mut bbuf = vec![0x5Au8; r.u8() as usize % 48];
        let mut out_b = sentinel_ref();
        let mut needed_b = usize::MAX;
        let st_b = unsafe {
            kuberef_generate_container_ref_borrowed(
                podp,
                name.c,
                flags,
                if null_out {
                    std::ptr::null_mut()
                } else {
                    &mut out_b
                },
                if buf.valid {
                    bbuf.as_mut_ptr().cast()
                } else {
                    buf.ptr
                },
                if buf.valid { bbuf.len() } else { buf.len },
                &mut needed_b,
            )
        };
        let mut e = ArgErrors::default();
        e.add(null_pod || null_out, KUBEREF_NULL_ARGUMENT);
        e.add(
            (!null_pod && (valid_meta.is_none() || valid_lists.is_none()))
                || name.bytes.is_none()
                || !buf.valid
                || flags & !KUBEREF_GENERATE_EPHEMERAL_CONTAINERS != 0,
            KUBEREF_INVALID_ARGUMENT,
        );
        if e.any() {
            e.check(st_b, "generate_container_ref_borrowed");
            assert!(
                is_sentinel_ref(&out_b) && needed_b == usize::MAX,
                "generate_container_ref_borrowed: output written on error"
            );
        } else {
            let want = want.as_ref().unwrap();
            let need_b = want[6].len() + 1;
            assert_eq!(needed_b, need_b, "generate_container_ref_borrowed: needed");
            if bbuf.len() < need_b {
                assert_eq!(
                    st_b, KUBEREF_BUFFER_TOO_SMALL,
                    "generate_container_ref_borrowed"
                );
                assert!(
                    is_sentinel_ref(&out_b),
                    "borrowed: output written on BUFFER_TOO_SMALL"
                );
            } else {
                assert_eq!(st_b, KUBEREF_OK, "generate_container_ref_borrowed");
                let got = ref_views(&out_b);
                let ins = [
                    meta[0].c, meta[2].c, meta[3].c, meta[4].c, meta[1].c, meta[5].c,
                ];
                for k in 0..7 {
                    let v = got[k];
                    let bytes = if v.len == 0 {
                        &[][..]
                    } else {
                        unsafe { std::slice::from_raw_parts(v.ptr.cast::<u8>(), v.len) }
                    };
                    assert_eq!(bytes, &want[k][..], "borrowed field {k}");
                    if v.len == 0 {
                        // The pod's own empty view, unless it was NULL or
                        // the field was cut from non-empty input.
                        assert!(k < 6, "borrowed: empty field path");
                        let own = ins[k];
                        if own.len == 0 && !own.ptr.is_null() {
                            assert!(
                                v.ptr == own.ptr,
                                "borrowed field {k}: not the pod's own empty view"
                            );
                        } else {
                            assert!(
                                v.ptr == static_empty(),
                                "borrowed field {k}: empty, not the static empty string"
                            );
                        }
                        continue;
                    }
                    let within = |a: *const c_char, n: usize| {
                        v.ptr >= a && (v.ptr as usize + v.len) <= (a as usize + n)
                    };
                    if k == 6 {
                        assert!(
                            v.ptr == bbuf.as_ptr().cast() && bbuf[v.len] == 0,
                            "borrowed field path: not at the start of buf, NUL-terminated"
                        );
                    } else if !within(ins[k].ptr, ins[k].len) {
                        // Only the scheme fallback's constants live elsewhere.
                        assert!(
                            (k == 0 && bytes == b"Pod") || (k == 4 && bytes == b"v1"),
                            "borrowed field {k}: not a view of the pod's own bytes"
                        );
                    }
                }
                assert!(
                    bbuf[need_b..].iter().all(|&b| b == 0x5A),
                    "borrowed: wrote past needed"
                );
            }
        }
        if e.any() {
            e.check(st, "generate_container_ref");
            assert!(
                is_sentinel_ref(&out) && buf.untouched() && needed.untouched(),
                "generate_container_ref: output written on error"
            );
            return;
        }
        let want = want.unwrap();
        if !check_too_small(st, &buf, &needed, is_sentinel_ref(&out), need, "generate") {
            check_ref_out(&out, &buf, &needed, &want, "generate_container_ref");
        }
        drop(lists);
    }

    fn parse(&mut self, r: &mut Input<'_>) {
        let text = view(r);
        let null_out = r.u8() % 16 == 0;
        let sentinel = kuberef_container_id {
            r#type: sentinel_ref().kind,
            id: sentinel_ref().kind,
        };
        let mut out = sentinel;
        let outp = if null_out {
            std::ptr::null_mut()
        } else {
            &mut out as *mut _
        };
        let st = unsafe { kuberef_container_id_parse(text.c, outp) };
        let untouched = out.r#type.ptr == sentinel.r#type.ptr
            && out.r#type.len == sentinel.r#type.len
            && out.id.ptr == sentinel.id.ptr
            && out.id.len == sentinel.id.len;
        let mut e = ArgErrors::default();
        e.add(null_out, KUBEREF_NULL_ARGUMENT);
        e.add(text.bytes.is_none(), KUBEREF_INVALID_ARGUMENT);
        if e.any() {
            e.check(st, "container_id_parse");
            assert!(untouched, "container_id_parse: output written on error");
            return;
        }
        let bytes = text.bytes.unwrap();
        match model_parse(bytes) {
            None => {
                assert_eq!(
                    st, KUBEREF_INVALID_CONTAINER_ID,
                    "container_id_parse {bytes:?}"
                );
                assert!(untouched, "container_id_parse: output written on error");
            }
            Some((ts, tl, is, il)) => {
                assert_eq!(st, KUBEREF_OK, "container_id_parse {bytes:?}");
                // Each part at its offset in text; an empty one at the end of
                // text at its last byte instead (never one past the end).
                let base = text.c.ptr as usize;
                let at = |off: usize, len: usize| {
                    if len == 0 {
                        (base + off.min(bytes.len() - 1), 0)
                    } else {
                        (base + off, len)
                    }
                };
                assert_eq!((out.r#type.ptr as usize, out.r#type.len), at(ts, tl));
                assert_eq!((out.id.ptr as usize, out.id.len), at(is, il));
            }
        }
    }

    fn format(&mut self, r: &mut Input<'_>) {
        let id = IdArg::gen(r);
        let want = id
            .key()
            .map(|(t, i)| [&t[..], b"://", &i[..], b"\0"].concat());
        let need = want.as_ref().map_or(r.u8() as usize, Vec::len);
        let buf = Buf::gen(r, need);
        let mut needed = Needed::gen(r);
        let st = unsafe { kuberef_container_id_format(id.ptr(), buf.ptr, buf.len, needed.ptr()) };
        let mut e = ArgErrors::default();
        id.errors(&mut e);
        e.add(!buf.valid, KUBEREF_INVALID_ARGUMENT);
        check_bytes_out(
            st,
            &e,
            &buf,
            &needed,
            want.as_deref(),
            "container_id_format",
        );
    }

    fn statics(&mut self, r: &mut Input<'_>) {
        assert_eq!(kuberef_abi_version(), KUBEREF_ABI_VERSION);
        let v = unsafe { CStr::from_ptr(kuberef_version()) };
        assert!(!v.to_bytes().is_empty() && v.to_bytes() != b"?");
        let code = match r.u8() % 4 {
            0 => r.u8() as u32 % 16,
            _ => r.u32(),
        };
        let msg = unsafe { CStr::from_ptr(kuberef_status_message(code)) };
        let unknown = unsafe { CStr::from_ptr(kuberef_status_message(u32::MAX)) };
        assert!(!msg.to_bytes().is_empty());
        // Codes 0..=LAST_STATUS (the newest) have their own texts.
        assert_eq!(
            code > kuberef::ffi::status::LAST_STATUS,
            msg == unknown,
            "status_message({code})"
        );
    }

    fn lifecycle(&mut self, r: &mut Input<'_>) {
        match r.u8() % 4 {
            0 => unsafe { kuberef_manager_free(std::ptr::null_mut()) },
            1 => {
                // The global manager is never freed.
                let g = kuberef_global();
                assert!(!g.is_null());
                let before = unsafe { kuberef_len(g) };
                unsafe { kuberef_manager_free(g) };
                assert_eq!(kuberef_global(), g);
                assert_eq!(unsafe { kuberef_len(g) }, before);
            }
            k => {
                let k = k as usize - 2;
                unsafe { kuberef_manager_free(self.m[k]) };
                self.m[k] = kuberef_manager_new();
                assert!(!self.m[k].is_null());
                self.model[k].clear();
                self.stamps[k].clear();
                self.issued[k].clear();
            }
        }
    }
}

/// The exports past 1.0.0 that the ops above do not cover.
impl Fuzz {
    fn get_stamp(&mut self, r: &mut Input<'_>) {
        let (mi, m) = self.pick(r);
        let id = IdArg::gen(r);
        let null_stamp = r.u8() % 16 == 0;
        let mut stamp = STAMP_SENTINEL;
        let sp = stamp_arg(null_stamp, &mut stamp);
        let st = unsafe { kuberef_get_stamp(m, id.ptr(), sp) };
        let mut e = ArgErrors::default();
        e.add(mi.is_none() || null_stamp, KUBEREF_NULL_ARGUMENT);
        id.errors(&mut e);
        if e.any() {
            e.check(st, "get_stamp");
            assert_eq!(stamp, STAMP_SENTINEL, "get_stamp: *stamp written on error");
            return;
        }
        let (k, key) = (mi.unwrap(), id.key().unwrap());
        if self.model[k].contains_key(&key) {
            assert_eq!(st, KUBEREF_OK, "get_stamp");
            self.check_stamp(k, &key, stamp, "get_stamp");
        } else {
            assert_eq!(st, KUBEREF_NOT_FOUND, "get_stamp of an absent key");
            assert_eq!(
                stamp, STAMP_SENTINEL,
                "get_stamp: *stamp written on NOT_FOUND"
            );
        }
    }

    /// `*removed`: NULL or a sentinel-filled slot, as `Needed`.
    fn removed_arg(r: &mut Input<'_>) -> Needed {
        Needed::gen(r)
    }

    fn clear_pod(&mut self, r: &mut Input<'_>) {
        let (mi, m) = self.pick(r);
        // Often a uid some stored reference has.
        let uid = match mi.and_then(|k| self.model[k].values().nth(r.u8() as usize)) {
            Some(f) if r.u8() % 2 == 0 => View {
                c: kuberef_str {
                    ptr: f[3].as_ptr().cast(),
                    len: f[3].len(),
                },
                bytes: Some(&f[3][..]),
            },
            _ => view(r),
        };
        let uid_bytes = uid.bytes.map(<[u8]>::to_vec);
        let mut removed = Self::removed_arg(r);
        let st = unsafe { kuberef_clear_pod(m, uid.c, removed.ptr()) };
        let mut e = ArgErrors::default();
        e.add(mi.is_none(), KUBEREF_NULL_ARGUMENT);
        e.add(uid_bytes.is_none(), KUBEREF_INVALID_ARGUMENT);
        if e.any() {
            e.check(st, "clear_pod");
            assert!(removed.untouched(), "clear_pod: *removed written on error");
            return;
        }
        assert_eq!(st, KUBEREF_OK, "clear_pod");
        let (k, uid) = (mi.unwrap(), uid_bytes.unwrap());
        self.remove_where(k, &removed, "clear_pod", |_, f| f[3] == uid);
    }

    /// A bulk removal's model: removes the references `doomed` picks, and
    /// checks that `*removed` counts them.
    fn remove_where(
        &mut self,
        k: usize,
        removed: &Needed,
        what: &str,
        doomed: impl Fn(&Key, &Fields) -> bool,
    ) {
        let gone: Vec<Key> = self.model[k]
            .iter()
            .filter(|(key, f)| doomed(key, f))
            .map(|(key, _)| key.clone())
            .collect();
        assert!(
            removed.is(gone.len()),
            "{what}: *removed is not {}",
            gone.len()
        );
        for key in gone {
            self.model[k].remove(&key);
            self.stamps[k].remove(&key);
        }
    }

    fn retain(&mut self, r: &mut Input<'_>) {
        let (mi, m) = self.pick(r);
        let n = (r.u8() % 6) as usize;
        let null_array = n > 0 && r.u8() % 16 == 0;
        // Live IDs: stored keys, and generated ones (maybe invalid).
        let stored: Vec<Key> = mi.map_or(Vec::new(), |k| self.model[k].keys().cloned().collect());
        let mut keys: Vec<Option<Key>> = Vec::new();
        let mut views = Vec::new();
        let mut gen = Vec::new();
        for _ in 0..n {
            if !stored.is_empty() && r.u8() % 2 == 0 {
                let key = stored[r.u8() as usize % stored.len()].clone();
                keys.push(Some(key));
            } else {
                let (t, i) = (view(r), view(r));
                gen.push((t, i));
                keys.push(None);
            }
        }
        let mut g = gen.iter();
        let mut live: Vec<Option<Key>> = Vec::new();
        for key in &keys {
            match key {
                Some((t, i)) => {
                    views.push(key_id(t, i));
                    live.push(Some((t.clone(), i.clone())));
                }
                None => {
                    let (t, i) = g.next().unwrap();
                    views.push(kuberef_container_id {
                        r#type: t.c,
                        id: i.c,
                    });
                    live.push(match (t.bytes, i.bytes) {
                        (Some(t), Some(i)) => Some((t.to_vec(), i.to_vec())),
                        _ => None,
                    });
                }
            }
        }
        let arr = if null_array || n == 0 && r.u8() % 2 == 0 {
            std::ptr::null()
        } else {
            views.as_ptr()
        };
        let mut removed = Self::removed_arg(r);
        let st = unsafe { kuberef_retain(m, arr, n, removed.ptr()) };
        let mut e = ArgErrors::default();
        e.add(mi.is_none(), KUBEREF_NULL_ARGUMENT);
        e.add(
            null_array || live.iter().any(Option::is_none),
            KUBEREF_INVALID_ARGUMENT,
        );
        if e.any() {
            e.check(st, "retain");
            assert!(removed.untouched(), "retain: *removed written on error");
            return;
        }
        assert_eq!(st, KUBEREF_OK, "retain");
        let k = mi.unwrap();
        let live: HashSet<Key> = live.into_iter().flatten().collect();
        self.remove_where(k, &removed, "retain", |key, _| !live.contains(key));
    }

    fn ref_to_json(&mut self, r: &mut Input<'_>) {
        let null_ref = r.u8() % 16 == 0;
        let fields: Vec<View<'_>> = (0..7).map(|_| view(r)).collect();
        let c = ref_arg(&fields);
        let valid = fields.iter().all(|f| f.bytes.is_some());
        // The JSON the core writes (tests/json-diff compares it with Go's).
        let want = valid.then(|| {
            let b: Vec<&[u8]> = fields.iter().map(|f| f.bytes.unwrap()).collect();
            let mut j = kuberef::json::object_reference_json(
                &kuberef::ObjectReferenceRef::from_fields(std::array::from_fn(|k| b[k])),
            );
            j.push(0);
            j
        });
        let need = want.as_ref().map_or(r.u8() as usize, Vec::len);
        let buf = Buf::gen(r, need);
        let mut needed = Needed::gen(r);
        let refp = if null_ref {
            std::ptr::null()
        } else {
            &c as *const _
        };
        let st = unsafe { kuberef_ref_to_json(refp, buf.ptr, buf.len, needed.ptr()) };
        let mut e = ArgErrors::default();
        e.add(null_ref, KUBEREF_NULL_ARGUMENT);
        e.add(!null_ref && !valid, KUBEREF_INVALID_ARGUMENT);
        e.add(!buf.valid, KUBEREF_INVALID_ARGUMENT);
        check_bytes_out(st, &e, &buf, &needed, want.as_deref(), "ref_to_json");
    }

    fn stats(&mut self, r: &mut Input<'_>) {
        let (mi, m) = self.pick(r);
        let v1 = std::mem::size_of::<kuberef_stats>();
        let size = match r.u8() % 4 {
            0 => r.u8() as usize % v1,
            1 => v1 + (r.u8() as usize % 16) * 8,
            _ => v1,
        };
        let null_out = r.u8() % 16 == 0;
        // Room for `size` bytes, the rest sentinel.
        let mut mem = vec![0u64; size.div_ceil(8).max(v1 / 8)];
        let bytes =
            unsafe { std::slice::from_raw_parts_mut(mem.as_mut_ptr().cast::<u8>(), mem.len() * 8) };
        bytes.fill(SENTINEL);
        bytes[..4].copy_from_slice(&(size as u32).to_ne_bytes());
        let before = bytes.to_vec();
        let outp = if null_out {
            std::ptr::null_mut()
        } else {
            mem.as_mut_ptr().cast::<kuberef_stats>()
        };
        let st = unsafe { kuberef_get_stats(m, outp) };
        let bytes = unsafe { std::slice::from_raw_parts(mem.as_ptr().cast::<u8>(), mem.len() * 8) };
        let mut e = ArgErrors::default();
        e.add(mi.is_none() || null_out, KUBEREF_NULL_ARGUMENT);
        e.add(!null_out && size < v1, KUBEREF_INVALID_ARGUMENT);
        if e.any() {
            e.check(st, "get_stats");
            assert_eq!(bytes, &before[..], "get_stats: output written on error");
            return;
        }
        assert_eq!(st, KUBEREF_OK, "get_stats");
        assert_eq!(
            &bytes[v1..],
            &before[v1..],
            "get_stats: wrote past its struct"
        );
        let s = unsafe { &*mem.as_ptr().cast::<kuberef_stats>() };
        assert_eq!(s.size as usize, size, "get_stats: size changed");
        assert_eq!(s.version, KUBEREF_STATS_VERSION, "get_stats: version");
        assert_eq!(
            s.count as usize,
            self.model[mi.unwrap()].len(),
            "get_stats: count"
        );
        assert_eq!(s.gets, s.hits + s.misses, "get_stats: gets");
    }
}

fn run(data: &[u8]) {
    let mut r = Input { data, at: 0 };
    let mut f = Fuzz {
        m: [kuberef_manager_new(), kuberef_manager_new()],
        model: [HashMap::new(), HashMap::new()],
        stamps: [HashMap::new(), HashMap::new()],
        issued: [HashSet::new(), HashSet::new()],
    };
    assert!(!f.m[0].is_null() && !f.m[1].is_null() && f.m[0] != f.m[1]);
    // The change counters: never lower; unchanged by every call that
    // cannot change a manager; higher after a call that changed what a
    // manager holds. Read the documented way: an aligned 64-bit count,
    // loaded atomically, alive while its manager is.
    let now = |m: [*mut kuberef_manager; 2]| {
        m.map(|m| {
            let p = unsafe { kuberef_change_counter(m) };
            assert!(!p.is_null() && p as usize % 8 == 0, "change_counter");
            // SAFETY: as above; m is live.
            unsafe { &*(p as *const std::sync::atomic::AtomicU64) }
                .load(std::sync::atomic::Ordering::Acquire)
        })
    };
    assert!(unsafe { kuberef_change_counter(std::ptr::null()) }.is_null());
    while !r.done() {
        let op = r.u8() % 16;
        let writes = matches!(op, 0..=3 | 7 | 8 | 15);
        let (managers, before) = (f.m, now(f.m));
        let models = if writes { Some(f.model.clone()) } else { None };
        match op {
            0..=3 => f.set(&mut r, false),
            4..=6 => f.get(&mut r, false),
            7 | 8 => f.clear(&mut r, false),
            9 => f.len(&mut r),
            10 => f.generate(&mut r),
            11 => f.parse(&mut r),
            12 => f.format(&mut r),
            13 => f.statics(&mut r),
            14 => f.lifecycle(&mut r),
            _ => match r.u8() % 9 {
                0 => f.check_all(r.u8() as usize & 1),
                1 => f.set(&mut r, true),
                2 => f.get(&mut r, true),
                3 => f.clear(&mut r, true),
                4 => f.get_stamp(&mut r),
                5 => f.clear_pod(&mut r),
                6 => f.retain(&mut r),
                7 => f.ref_to_json(&mut r),
                _ => f.stats(&mut r),
            },
        }
        let after = now(f.m);
        for i in 0..2 {
            if f.m[i] != managers[i] {
                continue; // freed and replaced by a new one
            }
            assert!(after[i] >= before[i], "change counter went down");
            match &models {
                None => assert_eq!(after[i], before[i], "a read changed the change counter"),
                Some(old) if old[i] != f.model[i] => {
                    assert!(
                        after[i] > before[i],
                        "a change left the change counter as it was"
                    )
                }
                Some(_) => {}
            }
        }
        f.check_lens();
    }
    f.check_all(0);
    f.check_all(1);
    unsafe {
        kuberef_manager_free(f.m[0]);
        kuberef_manager_free(f.m[1]);
    }
}
