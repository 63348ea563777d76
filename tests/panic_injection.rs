//! Panic injection (`cargo test --features panic-injection --test panic_injection`):
//! every export, made to panic inside its body, returns its documented panic
//! value, leaves the manager exactly as it was, and works normally afterwards.
//! A panic with the manager's writer lock held (released as it unwinds) is
//! survived the same way, and one in the middle of a bulk removal leaves
//! what the header says: part of the removal done, every reference whole. And an audit: every symbol libkuberef.so exports is
//! in the table below, and its source body starts with
//! `ffi_boundary!("<its own name>"`.
//!
//! Adding an export: add a row to `exports()`; the audit fails until you do.

use std::ffi::CStr;
use std::os::raw::c_char;
use std::sync::{Mutex, Once};

use kuberef::fault::inject_panic;
use kuberef::ffi::*;

/// What an export returned, comparable across calls.
#[derive(Debug, PartialEq, Eq)]
enum Ret {
    Status(kuberef_status),
    Size(usize),
    U32(u32),
    /// A C string's text (`None`: NULL).
    Text(Option<Vec<u8>>),
    /// A pointer that is NULL (`true`) or not.
    Null(bool),
    Unit,
}

unsafe fn text(p: *const c_char) -> Ret {
    Ret::Text((!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_bytes().to_vec()))
}

fn s(b: &'static [u8]) -> kuberef_str {
    kuberef_str {
        ptr: b.as_ptr().cast(),
        len: b.len(),
    }
}

fn cid(t: &'static [u8], i: &'static [u8]) -> kuberef_container_id {
    kuberef_container_id {
        r#type: s(t),
        id: s(i),
    }
}

fn oref(name: &'static [u8], fp: &'static [u8]) -> kuberef_object_reference {
    kuberef_object_reference {
        kind: s(b"Pod"),
        namespace_: s(b"ns"),
        name: s(name),
        uid: s(b"uid-1"),
        api_version: s(b"v1"),
        resource_version: s(b"7"),
        field_path: s(fp),
    }
}

/// Keys the fixture stores (the first three) and one it does not.
const KEYS: [(&[u8], &[u8]); 4] = [
    (b"containerd", b"aaa"),
    (b"containerd", b"bbb"),
    (b"docker", b"aaa"),
    (b"containerd", b"new"),
];

/// A manager holding three references.
struct Fixture {
    m: *mut kuberef_manager,
}

impl Fixture {
    fn new() -> Fixture {
        let m = kuberef_manager_new();
        assert!(!m.is_null());
        for (k, (t, i)) in KEYS[..3].iter().enumerate() {
            let r = oref([&b"p0"[..], b"p1", b"p2"][k], b"spec.containers{c}");
            assert_eq!(unsafe { kuberef_set_ref(m, &cid(t, i), &r) }, KUBEREF_OK);
        }
        Fixture { m }
    }

    /// Everything observable about the manager: its length and what each
    /// key holds.
    fn snapshot(&self) -> (usize, Vec<Option<Vec<u8>>>) {
        let got = KEYS
            .iter()
            .map(|(t, i)| {
                let mut buf = [0u8; 256];
                let mut out = oref(b"", b"");
                let mut needed = 0;
                let st = unsafe {
                    kuberef_get_ref(
                        self.m,
                        &cid(t, i),
                        &mut out,
                        buf.as_mut_ptr().cast(),
                        buf.len(),
                        &mut needed,
                    )
                };
                assert!(st == KUBEREF_OK || st == KUBEREF_NOT_FOUND, "get_ref: {st}");
                (st == KUBEREF_OK).then(|| buf[..needed].to_vec())
            })
            .collect();
        (unsafe { kuberef_len(self.m) }, got)
    }

    /// Set, get, clear and len all work on the manager.
    fn works(&self) {
        let id = cid(b"cri-o", b"after");
        let r = oref(b"after", b"spec.initContainers{i}");
        let before = unsafe { kuberef_len(self.m) };
        assert_eq!(unsafe { kuberef_set_ref(self.m, &id, &r) }, KUBEREF_OK);
        assert_eq!(unsafe { kuberef_len(self.m) }, before + 1);
        let mut buf = [0u8; 256];
        let mut out = oref(b"", b"");
        let st = unsafe {
            kuberef_get_ref(
                self.m,
                &id,
                &mut out,
                buf.as_mut_ptr().cast(),
                256,
                std::ptr::null_mut(),
            )
        };
        assert_eq!(st, KUBEREF_OK);
        let name = unsafe { std::slice::from_raw_parts(out.name.ptr.cast::<u8>(), out.name.len) };
        assert_eq!(name, b"after");
        assert_eq!(unsafe { kuberef_clear_ref(self.m, &id) }, KUBEREF_OK);
        assert_eq!(unsafe { kuberef_len(self.m) }, before);
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        unsafe { kuberef_manager_free(self.m) };
    }
}

/// One row per export: how to call it (on a fixture, with valid arguments
/// that would change the manager if the call went through), what it returns
/// when it panics, and what it returns normally.
struct Export {
    name: &'static str,
    call: fn(&mut Fixture) -> Ret,
    on_panic: Ret,
    normal: Ret,
}

fn exports() -> Vec<Export> {
    vec![
        Export {
            name: "kuberef_global",
            call: |_| Ret::Null(kuberef_global().is_null()),
            on_panic: Ret::Null(true),
            normal: Ret::Null(false),
        },
        Export {
            name: "kuberef_manager_new",
            call: |_| {
                let m = kuberef_manager_new();
                unsafe { kuberef_manager_free(m) };
                Ret::Null(m.is_null())
            },
            on_panic: Ret::Null(true),
            normal: Ret::Null(false),
        },
        Export {
            name: "kuberef_manager_free",
            // A panic leaves the manager allocated and intact; the normal
            // call frees it, and the fixture gets a fresh one.
            call: |fx| {
                unsafe { kuberef_manager_free(fx.m) };
                Ret::Unit
            },
            on_panic: Ret::Unit,
            normal: Ret::Unit,
        },
        Export {
            name: "kuberef_set_ref",
            call: |fx| {
                let (t, i) = KEYS[0];
                Ret::Status(unsafe { kuberef_set_ref(fx.m, &cid(t, i), &oref(b"changed", b"x")) })
            },
            on_panic: Ret::Status(KUBEREF_PANIC),
            normal: Ret::Status(KUBEREF_OK),
        },
        Export {
            name: "kuberef_get_ref",
            call: |fx| {
                let (t, i) = KEYS[1];
                let mut out = oref(b"", b"");
                let mut buf = [0u8; 256];
                Ret::Status(unsafe {
                    kuberef_get_ref(
                        fx.m,
                        &cid(t, i),
                        &mut out,
                        buf.as_mut_ptr().cast(),
                        256,
                        std::ptr::null_mut(),
                    )
                })
            },
            on_panic: Ret::Status(KUBEREF_PANIC),
            normal: Ret::Status(KUBEREF_OK),
        },
        Export {
            name: "kuberef_set_ref_stamped",
            call: |fx| {
                let (t, i) = KEYS[0];
                let mut stamp = 0u64;
                Ret::Status(unsafe {
                    kuberef_set_ref_stamped(fx.m, &cid(t, i), &oref(b"changed", b"x"), &mut stamp)
                })
            },
            on_panic: Ret::Status(KUBEREF_PANIC),
            normal: Ret::Status(KUBEREF_OK),
        },
        Export {
            name: "kuberef_get_stamp",
            call: |fx| {
                let (t, i) = KEYS[1];
                let mut stamp = 0u64;
                Ret::Status(unsafe { kuberef_get_stamp(fx.m, &cid(t, i), &mut stamp) })
            },
            on_panic: Ret::Status(KUBEREF_PANIC),
            normal: Ret::Status(KUBEREF_OK),
        },
        Export {
            name: "kuberef_get_ref_stamped",
            call: |fx| {
                let (t, i) = KEYS[1];
                let mut out = oref(b"", b"");
                let mut buf = [0u8; 256];
                let mut stamp = 0u64;
                Ret::Status(unsafe {
                    kuberef_get_ref_stamped(
                        fx.m,
                        &cid(t, i),
                        &mut out,
                        buf.as_mut_ptr().cast(),
                        256,
                        std::ptr::null_mut(),
                        &mut stamp,
                    )
                })
            },
            on_panic: Ret::Status(KUBEREF_PANIC),
            normal: Ret::Status(KUBEREF_OK),
        },
        Export {
            name: "kuberef_clear_ref_stamped",
            call: |fx| {
                let (t, i) = KEYS[2];
                let mut stamp = 0u64;
                Ret::Status(unsafe { kuberef_clear_ref_stamped(fx.m, &cid(t, i), &mut stamp) })
            },
            on_panic: Ret::Status(KUBEREF_PANIC),
            normal: Ret::Status(KUBEREF_OK),
        },
        Export {
            name: "kuberef_clear_ref",
            call: |fx| {
                let (t, i) = KEYS[2];
                Ret::Status(unsafe { kuberef_clear_ref(fx.m, &cid(t, i)) })
            },
            on_panic: Ret::Status(KUBEREF_PANIC),
            normal: Ret::Status(KUBEREF_OK),
        },
        Export {
            name: "kuberef_len",
            call: |fx| Ret::Size(unsafe { kuberef_len(fx.m) }),
            on_panic: Ret::Size(0),
            normal: Ret::Size(3),
        },
        Export {
            name: "kuberef_change_counter",
            call: |fx| Ret::Null(unsafe { kuberef_change_counter(fx.m) }.is_null()),
            on_panic: Ret::Null(true),
            normal: Ret::Null(false),
        },
        Export {
            name: "kuberef_generate_container_ref",
            call: |_| {
                let names = [s(b"app")];
                let pod = kuberef_pod {
                    kind: s(b""),
                    api_version: s(b""),
                    namespace_: s(b"ns"),
                    name: s(b"web"),
                    uid: s(b"u"),
                    resource_version: s(b"1"),
                    containers: names.as_ptr(),
                    containers_len: 1,
                    init_containers: std::ptr::null(),
                    init_containers_len: 0,
                    ephemeral_containers: std::ptr::null(),
                    ephemeral_containers_len: 0,
                };
                let mut out = oref(b"", b"");
                let mut buf = [0u8; 256];
                Ret::Status(unsafe {
                    kuberef_generate_container_ref(
                        &pod,
                        s(b"app"),
                        0,
                        &mut out,
                        buf.as_mut_ptr().cast(),
                        256,
                        std::ptr::null_mut(),
                    )
                })
            },
            on_panic: Ret::Status(KUBEREF_PANIC),
            normal: Ret::Status(KUBEREF_OK),
        },
        Export {
            name: "kuberef_generate_container_ref_borrowed",
            call: |_| {
                let names = [s(b"app")];
                let pod = kuberef_pod {
                    kind: s(b""),
                    api_version: s(b""),
                    namespace_: s(b"ns"),
                    name: s(b"web"),
                    uid: s(b"u"),
                    resource_version: s(b"1"),
                    containers: names.as_ptr(),
                    containers_len: 1,
                    init_containers: std::ptr::null(),
                    init_containers_len: 0,
                    ephemeral_containers: std::ptr::null(),
                    ephemeral_containers_len: 0,
                };
                let mut out = oref(b"", b"");
                let mut buf = [0u8; 256];
                Ret::Status(unsafe {
                    kuberef_generate_container_ref_borrowed(
                        &pod,
                        s(b"app"),
                        0,
                        &mut out,
                        buf.as_mut_ptr().cast(),
                        256,
                        std::ptr::null_mut(),
                    )
                })
            },
            on_panic: Ret::Status(KUBEREF_PANIC),
            normal: Ret::Status(KUBEREF_OK),
        },
        Export {
            name: "kuberef_container_id_parse",
            call: |_| {
                let mut out = cid(b"", b"");
                Ret::Status(unsafe { kuberef_container_id_parse(s(b"docker://abc"), &mut out) })
            },
            on_panic: Ret::Status(KUBEREF_PANIC),
            normal: Ret::Status(KUBEREF_OK),
        },
        Export {
            name: "kuberef_container_id_format",
            call: |_| {
                let mut buf = [0u8; 64];
                Ret::Status(unsafe {
                    kuberef_container_id_format(
                        &cid(b"docker", b"abc"),
                        buf.as_mut_ptr().cast(),
                        64,
                        std::ptr::null_mut(),
                    )
                })
            },
            on_panic: Ret::Status(KUBEREF_PANIC),
            normal: Ret::Status(KUBEREF_OK),
        },
        Export {
            name: "kuberef_version",
            call: |_| unsafe { text(kuberef_version()) },
            on_panic: Ret::Text(Some(b"?".to_vec())),
            normal: Ret::Text(Some(env!("CARGO_PKG_VERSION").as_bytes().to_vec())),
        },
        Export {
            name: "kuberef_abi_version",
            call: |_| Ret::U32(kuberef_abi_version()),
            on_panic: Ret::U32(KUBEREF_ABI_VERSION),
            normal: Ret::U32(KUBEREF_ABI_VERSION),
        },
        Export {
            name: "kuberef_status_message",
            call: |_| unsafe { text(kuberef_status_message(KUBEREF_NOT_FOUND)) },
            on_panic: Ret::Text(Some(b"kuberef: panic".to_vec())),
            normal: Ret::Text(Some(b"no reference stored for that container ID".to_vec())),
        },
        Export {
            name: "kuberef_clear_pod",
            call: |fx| {
                Ret::Status(unsafe { kuberef_clear_pod(fx.m, s(b"uid-1"), std::ptr::null_mut()) })
            },
            on_panic: Ret::Status(KUBEREF_PANIC),
            normal: Ret::Status(KUBEREF_OK),
        },
        Export {
            name: "kuberef_retain",
            call: |fx| {
                let (t, i) = KEYS[0];
                let live = [cid(t, i)];
                Ret::Status(unsafe { kuberef_retain(fx.m, live.as_ptr(), 1, std::ptr::null_mut()) })
            },
            on_panic: Ret::Status(KUBEREF_PANIC),
            normal: Ret::Status(KUBEREF_OK),
        },
        Export {
            name: "kuberef_for_each",
            call: |fx| {
                unsafe extern "C" fn visit(
                    _: *mut std::ffi::c_void,
                    _: *const kuberef_container_id,
                    _: *const kuberef_object_reference,
                ) -> std::os::raw::c_int {
                    0
                }
                Ret::Status(unsafe {
                    kuberef_for_each(
                        fx.m,
                        Some(visit),
                        std::ptr::null_mut(),
                        std::ptr::null_mut(),
                    )
                })
            },
            on_panic: Ret::Status(KUBEREF_PANIC),
            normal: Ret::Status(KUBEREF_OK),
        },
        Export {
            name: "kuberef_save",
            call: |fx| {
                let p =
                    std::env::temp_dir().join(format!("kuberef-panic-save-{}", std::process::id()));
                let _ = std::fs::remove_file(&p);
                let b = p.to_str().unwrap().as_bytes();
                let path = kuberef_str {
                    ptr: b.as_ptr().cast(),
                    len: b.len(),
                };
                let st = unsafe { kuberef_save(fx.m, path, std::ptr::null_mut()) };
                let existed = p.exists();
                let _ = std::fs::remove_file(&p);
                assert_eq!(
                    existed,
                    st == KUBEREF_OK,
                    "kuberef_save: file written iff OK"
                );
                Ret::Status(st)
            },
            on_panic: Ret::Status(KUBEREF_PANIC),
            normal: Ret::Status(KUBEREF_OK),
        },
        Export {
            name: "kuberef_load",
            call: |fx| {
                // A file holding one other reference, loaded with REPLACE.
                let p =
                    std::env::temp_dir().join(format!("kuberef-panic-load-{}", std::process::id()));
                let b = p.to_str().unwrap().as_bytes();
                let path = kuberef_str {
                    ptr: b.as_ptr().cast(),
                    len: b.len(),
                };
                let other = kuberef_manager_new();
                let (t, i) = KEYS[3];
                unsafe {
                    assert_eq!(
                        kuberef_set_ref(other, &cid(t, i), &oref(b"o", b"x")),
                        KUBEREF_OK
                    );
                    assert_eq!(kuberef_save(other, path, std::ptr::null_mut()), KUBEREF_OK);
                    kuberef_manager_free(other);
                }
                let st =
                    unsafe { kuberef_load(fx.m, path, KUBEREF_LOAD_REPLACE, std::ptr::null_mut()) };
                let _ = std::fs::remove_file(&p);
                Ret::Status(st)
            },
            on_panic: Ret::Status(KUBEREF_PANIC),
            normal: Ret::Status(KUBEREF_OK),
        },
        Export {
            name: "kuberef_ref_to_json",
            call: |_| {
                let mut buf = [0u8; 256];
                Ret::Status(unsafe {
                    kuberef_ref_to_json(
                        &oref(b"n", b"f"),
                        buf.as_mut_ptr().cast(),
                        256,
                        std::ptr::null_mut(),
                    )
                })
            },
            on_panic: Ret::Status(KUBEREF_PANIC),
            normal: Ret::Status(KUBEREF_OK),
        },
        Export {
            name: "kuberef_get_stats",
            call: |fx| {
                let mut st = kuberef_stats {
                    size: std::mem::size_of::<kuberef_stats>() as u32,
                    ..Default::default()
                };
                Ret::Status(unsafe { kuberef_get_stats(fx.m, &mut st) })
            },
            on_panic: Ret::Status(KUBEREF_PANIC),
            normal: Ret::Status(KUBEREF_OK),
        },
    ]
}

/// Injection is process-wide: the tests in this file take turns.
static SERIAL: Mutex<()> = Mutex::new(());
/// Injected panics seen by the hook, by message.
static INJECTED: Mutex<Vec<String>> = Mutex::new(Vec::new());
static HOOK: Once = Once::new();

/// Injected panics are recorded, not printed; any other panic (a failed
/// assertion) goes to the default hook.
fn quiet_injected_panics() {
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let msg = info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_default();
            if msg.starts_with("kuberef: injected panic in ") {
                INJECTED.lock().unwrap_or_else(|e| e.into_inner()).push(msg);
            } else {
                default(info);
            }
        }));
    });
}

/// Runs `f` with a panic injected at `point`; returns what it returned and
/// how many injected panics happened there.
fn injected<R>(point: &str, f: impl FnOnce() -> R) -> (R, usize) {
    INJECTED.lock().unwrap().clear();
    inject_panic(Some(point));
    let r = f();
    inject_panic(None);
    let msgs = std::mem::take(&mut *INJECTED.lock().unwrap());
    let want = format!("kuberef: injected panic in {point}");
    assert!(
        msgs.iter().all(|m| *m == want),
        "unexpected panics: {msgs:?}"
    );
    (r, msgs.len())
}

#[test]
fn every_export_survives_an_injected_panic() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    quiet_injected_panics();
    for e in exports() {
        let mut fx = Fixture::new();
        let before = fx.snapshot();
        let (got, panics) = injected(e.name, || (e.call)(&mut fx));
        assert_eq!(panics, 1, "{}: the injected panic did not happen", e.name);
        assert_eq!(got, e.on_panic, "{}: value returned on panic", e.name);
        assert_eq!(fx.snapshot(), before, "{}: the manager changed", e.name);
        fx.works();
        assert_eq!(fx.snapshot(), before);
        // Later calls of the same export work normally.
        assert_eq!(
            (e.call)(&mut fx),
            e.normal,
            "{}: normal call after the panic",
            e.name
        );
        if e.name == "kuberef_manager_free" {
            // It was freed for real; don't free it twice.
            fx.m = kuberef_manager_new();
        }
        fx.works();
    }
    // The global manager also keeps working.
    let g = Fixture {
        m: kuberef_global(),
    };
    g.works();
}

#[test]
fn panic_with_the_writer_lock_held_leaves_the_manager_working() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    quiet_injected_panics();
    let fx = Fixture::new();
    let before = fx.snapshot();
    let (t, i) = KEYS[0];
    let id = cid(t, i);
    let r = oref(b"changed", b"spec.containers{changed}");

    // set: the panic happens inside the manager's writer lock, before the
    // table changes; unwinding releases the lock.
    let (st, n) = injected(kuberef::fault::SET_LOCKED, || unsafe {
        kuberef_set_ref(fx.m, &id, &r)
    });
    assert_eq!((st, n), (KUBEREF_PANIC, 1));
    assert_eq!(fx.snapshot(), before, "set: the manager changed");
    // clear on the same shard.
    let (st, n) = injected(kuberef::fault::CLEAR_LOCKED, || unsafe {
        kuberef_clear_ref(fx.m, &id)
    });
    assert_eq!((st, n), (KUBEREF_PANIC, 1));
    assert_eq!(fx.snapshot(), before, "clear: the manager changed");

    // The manager serves reads and writes normally afterwards.
    assert_eq!(unsafe { kuberef_set_ref(fx.m, &id, &r) }, KUBEREF_OK);
    assert_eq!(unsafe { kuberef_len(fx.m) }, 3);
    let mut buf = [0u8; 256];
    let mut out = oref(b"", b"");
    let st = unsafe {
        kuberef_get_ref(
            fx.m,
            &id,
            &mut out,
            buf.as_mut_ptr().cast(),
            256,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(st, KUBEREF_OK);
    let name = unsafe { std::slice::from_raw_parts(out.name.ptr.cast::<u8>(), out.name.len) };
    assert_eq!(name, b"changed");
    assert_eq!(unsafe { kuberef_clear_ref(fx.m, &id) }, KUBEREF_OK);
    assert_eq!(unsafe { kuberef_clear_ref(fx.m, &id) }, KUBEREF_NOT_FOUND);
    assert_eq!(unsafe { kuberef_len(fx.m) }, 2);
    fx.works();
    // Every shard still works: many keys spread over all 32.
    for k in 0..1000u32 {
        let key = format!("key-{k}");
        let id = kuberef_container_id {
            r#type: s(b"containerd"),
            id: kuberef_str {
                ptr: key.as_ptr().cast(),
                len: key.len(),
            },
        };
        assert_eq!(unsafe { kuberef_set_ref(fx.m, &id, &r) }, KUBEREF_OK);
        assert_eq!(unsafe { kuberef_clear_ref(fx.m, &id) }, KUBEREF_OK);
    }
    assert_eq!(unsafe { kuberef_len(fx.m) }, 2);
}

/// The shared library to audit: `KUBEREF_SO`, else the release artifact
/// `make lib` builds (`make panic-test` builds it first).
fn shared_library() -> std::path::PathBuf {
    let so = std::env::var_os("KUBEREF_SO").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("build/lib/libkuberef.so"),
        Into::into,
    );
    assert!(
        so.exists(),
        "{} does not exist: run `make lib` first (or `make panic-test`), or set KUBEREF_SO",
        so.display()
    );
    so
}

fn exported_symbols() -> Vec<String> {
    let so = shared_library();
    let out = std::process::Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&so)
        .output()
        .unwrap_or_else(|e| panic!("nm -D {}: {e}", so.display()));
    assert!(
        out.status.success(),
        "nm -D {}: {}",
        so.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let syms: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .map(|s| s.split('@').next().unwrap().to_owned())
        .collect();
    assert!(!syms.is_empty(), "{} exports nothing", so.display());
    syms
}

/// Every `extern "C" fn` in src/: its name and whether its body starts with
/// `ffi_boundary!("<that name>"` or `ffi_boundary!(status, "<that name>"`.
fn source_exports() -> Vec<(String, bool)> {
    fn walk(dir: &std::path::Path, files: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, files);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut found = Vec::new();
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        let mut rest = &src[..];
        while let Some(at) = rest.find("extern \"C\" fn ") {
            rest = &rest[at + "extern \"C\" fn ".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let body = &rest[rest.find('{').expect("fn body")..];
            let first = body[1..].trim_start();
            let guarded = first
                .strip_prefix("ffi_boundary!(")
                .map(|m| m.trim_start())
                .map(|m| m.strip_prefix("status,").unwrap_or(m).trim_start())
                .is_some_and(|m| m.starts_with(&format!("\"{name}\"")));
            found.push((name, guarded));
        }
    }
    found.sort();
    found
}

/// The `extern "C"` functions of src/ that are not exports: callbacks the
/// C library calls (a panic in one aborts the process, as in any
/// `extern "C"` function, so none unwinds into C).
const CALLBACKS: &[&str] = &["after_fork_in_child"];

#[test]
fn every_export_has_the_boundary_and_a_row_in_the_table() {
    let mut exported = exported_symbols();
    exported.sort();
    let table: Vec<&str> = exports().iter().map(|e| e.name).collect();
    let source = source_exports();
    for sym in &exported {
        assert!(
            table.contains(&sym.as_str()),
            "{sym} is exported but has no row in this file's exports() table"
        );
        let src = source.iter().find(|(n, _)| n == sym);
        let src = src.unwrap_or_else(|| panic!("{sym} is exported but not found in src/"));
        assert!(
            src.1,
            "{sym}: its body does not start with ffi_boundary!(\"{sym}\", ...)"
        );
    }
    for name in &table {
        assert!(
            exported.iter().any(|s| s == name),
            "{name} is in the table but libkuberef.so does not export it"
        );
    }
    for name in CALLBACKS {
        assert!(
            source.iter().any(|(n, _)| n == name),
            "callback {name} is not in src/"
        );
        assert!(
            !exported.iter().any(|s| s == name),
            "callback {name} is exported"
        );
    }
    for (name, _) in &source {
        assert!(
            exported.contains(name) || CALLBACKS.contains(&name.as_str()),
            "extern \"C\" fn {name} in src/ is not exported by libkuberef.so"
        );
    }
    eprintln!(
        "audit: {} exports, {} in the injection table, {} with the boundary",
        exported.len(),
        table.len(),
        source.iter().filter(|s| s.1).count()
    );
}

/// A panic after the first removal of a bulk removal (`kuberef_clear_pod`,
/// then `kuberef_retain`): `KUBEREF_PANIC` with `*removed` untouched, part
/// of the removal done (here exactly one), every other reference still
/// there and whole, the change counter even (no change left in progress,
/// so no reader waits), and the manager working: the same call then
/// removes the rest.
#[test]
fn panic_midway_through_a_bulk_removal_leaves_whole_references() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    quiet_injected_panics();
    let m = kuberef_manager_new();
    let ids: Vec<String> = (0..200).map(|k| format!("c{k}")).collect();
    let view = |t: &str| kuberef_str {
        ptr: t.as_ptr().cast(),
        len: t.len(),
    };
    let id_of = |k: usize| kuberef_container_id {
        r#type: s(b"containerd"),
        id: view(&ids[k]),
    };
    // Even keys belong to pod "doomed", odd ones to "kept"; each field
    // names its key, so a torn or mixed-up reference shows.
    let refs: Vec<[String; 3]> = (0..200)
        .map(|k| {
            let uid = if k % 2 == 0 { "doomed" } else { "kept" };
            [
                format!("name-{k}"),
                uid.to_string(),
                format!("spec.containers{{c{k}}}"),
            ]
        })
        .collect();
    for (k, [name, uid, fp]) in refs.iter().enumerate() {
        let r = kuberef_object_reference {
            kind: s(b"Pod"),
            namespace_: s(b"ns"),
            name: view(name),
            uid: view(uid),
            api_version: s(b"v1"),
            resource_version: s(b"7"),
            field_path: view(fp),
        };
        assert_eq!(unsafe { kuberef_set_ref(m, &id_of(k), &r) }, KUBEREF_OK);
    }
    // Which keys are stored, each checked whole.
    let present = || -> Vec<bool> {
        (0..200)
            .map(|k| {
                let (mut buf, mut out) = ([0u8; 256], oref(b"", b""));
                let st = unsafe {
                    kuberef_get_ref(
                        m,
                        &id_of(k),
                        &mut out,
                        buf.as_mut_ptr().cast(),
                        256,
                        std::ptr::null_mut(),
                    )
                };
                if st == KUBEREF_NOT_FOUND {
                    return false;
                }
                assert_eq!(st, KUBEREF_OK);
                let f = |v: kuberef_str| {
                    unsafe { std::slice::from_raw_parts(v.ptr.cast::<u8>(), v.len) }.to_vec()
                };
                let [name, uid, fp] = &refs[k];
                assert_eq!(
                    (f(out.name), f(out.uid), f(out.field_path)),
                    (
                        name.clone().into_bytes(),
                        uid.clone().into_bytes(),
                        fp.clone().into_bytes()
                    ),
                    "key {k} is not the reference stored under it"
                );
                true
            })
            .collect()
    };
    let even = || unsafe { *kuberef_change_counter(m) } % 2 == 0;

    let mut removed = 77usize;
    let (st, n) = injected(kuberef::fault::BULK_REMOVED, || unsafe {
        kuberef_clear_pod(m, s(b"doomed"), &mut removed)
    });
    assert_eq!((st, n, removed), (KUBEREF_PANIC, 1, 77));
    assert!(even(), "a change left in progress");
    let after = present();
    assert!(
        (0..200).filter(|k| k % 2 == 1).all(|k| after[k]),
        "a kept reference was removed"
    );
    assert_eq!(
        after.iter().filter(|&&p| !p).count(),
        1,
        "not exactly the one removal before the panic"
    );
    assert_eq!(unsafe { kuberef_len(m) }, 199);
    assert_eq!(
        unsafe { kuberef_clear_pod(m, s(b"doomed"), &mut removed) },
        KUBEREF_OK
    );
    assert_eq!(removed, 99);
    assert!(present()
        .iter()
        .enumerate()
        .all(|(k, &p)| p == (k % 2 == 1)));

    // retain: keep the first 10 kept ones.
    let live: Vec<kuberef_container_id> = (0..20).filter(|k| k % 2 == 1).map(id_of).collect();
    let mut removed = 77usize;
    let (st, n) = injected(kuberef::fault::BULK_REMOVED, || unsafe {
        kuberef_retain(m, live.as_ptr(), live.len(), &mut removed)
    });
    assert_eq!((st, n, removed), (KUBEREF_PANIC, 1, 77));
    assert!(even(), "a change left in progress");
    assert_eq!(unsafe { kuberef_len(m) }, 99);
    assert!(present().iter().enumerate().all(|(k, &p)| !p || k % 2 == 1));
    assert_eq!(
        unsafe { kuberef_retain(m, live.as_ptr(), live.len(), &mut removed) },
        KUBEREF_OK
    );
    assert_eq!(removed, 89);
    assert_eq!(unsafe { kuberef_len(m) }, 10);
    unsafe { kuberef_manager_free(m) };
}
