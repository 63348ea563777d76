use std::fs::{self, File};
use std::io::{Cursor, Write};
use std::os::unix::fs::{symlink, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::*;
use crate::container_id::{ContainerId, ContainerIdRef};
use crate::reference::{ObjectReference, ObjectReferenceRef};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kuberef-persist-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

fn filled(n: usize, tag: &str) -> RefManager {
    let m = RefManager::new();
    for i in 0..n {
        let r = ObjectReference {
            kind: b"Pod".to_vec(),
            namespace: b"ns".to_vec(),
            name: format!("{tag}{i}").into(),
            uid: vec![0, 0xff, i as u8],
            field_path: format!("spec.containers{{{tag}}}").into(),
            ..Default::default()
        };
        m.set(
            ContainerId::new("containerd", format!("{i:x}")).as_ref(),
            r.as_ref(),
        )
        .unwrap();
    }
    m
}

fn sorted(m: &RefManager) -> Vec<(ContainerId, ObjectReference)> {
    let mut v = m.snapshot();
    v.sort_by(|a, b| (&a.0.typ, &a.0.id).cmp(&(&b.0.typ, &b.0.id)));
    v
}

/// The names in `d` other than `keep`.
fn others(d: &Path, keep: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !keep.contains(&n.as_str()))
        .collect();
    v.sort();
    v
}

fn kind(e: &LoadError) -> String {
    format!("{e:?}").split('(').next().unwrap().to_owned()
}

#[test]
fn save_load_round_trip_with_mode_0600_and_no_leftovers() {
    let d = dir("rt");
    let p = d.join("refs");
    let a = filled(500, "a");
    assert_eq!(a.save(&p).unwrap(), 500);
    let mode = fs::metadata(&p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(others(&d, &["refs"]), Vec::<String>::new());
    let b = RefManager::new();
    assert_eq!(b.load(&p, LoadMode::Merge).unwrap(), 500);
    assert_eq!(sorted(&a), sorted(&b));
    let empty = RefManager::new();
    empty.save(&p).unwrap();
    assert_eq!(fs::metadata(&p).unwrap().len(), HEADER_LEN as u64);
    assert_eq!(b.load(&p, LoadMode::Merge).unwrap(), 0);
    assert_eq!(b.len(), 500, "merging nothing changes nothing");
    assert_eq!(b.load(&p, LoadMode::Replace).unwrap(), 0);
    assert!(b.is_empty(), "replacing with nothing empties");
    fs::remove_dir_all(d).unwrap();
}

#[test]
fn merge_and_replace() {
    let d = dir("modes");
    let p = d.join("refs");
    filled(10, "file").save(&p).unwrap();
    let m = filled(20, "mem");
    m.set(
        ContainerIdRef::new(b"x", b"y"),
        ObjectReference::default().as_ref(),
    )
    .unwrap();
    assert_eq!(m.load(&p, LoadMode::Merge).unwrap(), 10);
    assert_eq!(m.len(), 21);
    let first = m.get(ContainerIdRef::new(b"containerd", b"0")).unwrap();
    assert_eq!(first.name, b"file0", "the file wins on the same ID");
    let last = m.get(ContainerIdRef::new(b"containerd", b"13")).unwrap();
    assert_eq!(last.name, b"mem19");
    assert_eq!(m.load(&p, LoadMode::Replace).unwrap(), 10);
    assert_eq!(sorted(&m), sorted(&filled(10, "file")));
    assert_eq!(m.stats().pruned, 11);
    fs::remove_dir_all(d).unwrap();
}

#[test]
fn replace_removes_only_what_was_stored_before_it_began() {
    let m = filled(100, "old");
    let marks = m.store_marks();
    // Stored after the marks: a replacing load keeps it, as it keeps a
    // reference a concurrent writer sets during the load.
    let late = ContainerId::new("docker", "late");
    m.set(late.as_ref(), ObjectReference::default().as_ref())
        .unwrap();
    // Re-stored after the marks: kept too.
    let again = ContainerId::new("containerd", "7");
    m.set(again.as_ref(), ObjectReference::default().as_ref())
        .unwrap();
    assert_eq!(m.remove_stored_before(&marks), 99);
    assert_eq!(m.len(), 2);
    assert!(m.contains(late.as_ref()) && m.contains(again.as_ref()));
}

/// A writer thread sets new keys while a replacing load of a large file
/// runs: every key it set after the load began stays, however early in the
/// load (the first pass over the file included) it was set. The load took
/// its marks after that pass, and removed a run of some 28,000 such keys.
#[test]
fn replace_keeps_what_others_set_while_the_file_is_checked() {
    let d = dir("replace-concurrent");
    let p = d.join("refs");
    filled(50_000, "file").save(&p).unwrap();
    let m = filled(100, "old");
    let done = std::sync::atomic::AtomicUsize::new(0);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let r = ObjectReference::default();
    let (before, set) = std::thread::scope(|s| {
        let writer = s.spawn(|| {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let id = ContainerId::new("writer", format!("{i}"));
                m.set(id.as_ref(), r.as_ref()).unwrap();
                i += 1;
                done.store(i, std::sync::atomic::Ordering::SeqCst);
            }
            i
        });
        while done.load(std::sync::atomic::Ordering::SeqCst) < 100 {
            std::hint::spin_loop();
        }
        let before = done.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(m.load(&p, LoadMode::Replace).unwrap(), 50_000);
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        (before, writer.join().unwrap())
    });
    // The few keys the writer may set between the count read above and the
    // load's start are either way; every later one must be there.
    let began = before + 16;
    assert!(
        set > began + 1000,
        "the writer set {} keys during the load",
        set - before
    );
    let lost: Vec<usize> = (began..set)
        .filter(|i| !m.contains(ContainerId::new("writer", format!("{i}")).as_ref()))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of the {} keys set after the load began are gone (first {:?})",
        lost.len(),
        set - began,
        lost.first()
    );
    // What was stored before it began and is not in the file is gone.
    assert!(!m.contains(ContainerId::new("writer", "0").as_ref()));
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bad_files_have_distinct_errors_and_change_nothing() {
    let d = dir("bad");
    let p = d.join("refs");
    filled(50, "x").save(&p).unwrap();
    let good = fs::read(&p).unwrap();
    let m = filled(3, "keep");
    let before = sorted(&m);
    let check = |bytes: &[u8], want: &str| {
        fs::write(&p, bytes).unwrap();
        let err = m.load(&p, LoadMode::Replace).unwrap_err();
        assert_eq!(kind(&err), want, "{err}");
        assert_eq!(sorted(&m), before);
    };
    check(b"", "Truncated");
    check(b"KUBE", "Truncated");
    check(b"hello world, this is not it", "Foreign");
    check(b"KUBEREX\0aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "Foreign");
    let mut v2 = good.clone();
    v2[8] = 2;
    check(&v2, "Version");
    for cut in [9, 20, 39, 40, 41, good.len() / 2, good.len() - 1] {
        check(&good[..cut], "Truncated");
    }
    let mut longer = good.clone();
    longer.push(0);
    check(&longer, "Corrupt");
    for at in [12, 17, 30, 38, 40, 100, good.len() - 1] {
        let mut flipped = good.clone();
        flipped[at] ^= 0x10;
        check(&flipped, "Corrupt");
    }
    fs::remove_file(&p).unwrap();
    assert!(matches!(
        m.load(&p, LoadMode::Merge),
        Err(LoadError::NotFound)
    ));
    assert_eq!(sorted(&m), before);
    fs::remove_dir_all(d).unwrap();
}

/// A file with the given header fields, `payload` after it and the
/// checksums right.
fn file_of(count: u64, payload: &[u8]) -> Vec<u8> {
    let mut f = encode_header(count, payload.len() as u64, Crc32::of(payload)).to_vec();
    f.extend_from_slice(payload);
    f
}

fn read_err(bytes: &[u8]) -> LoadError {
    let mut r = match SnapshotReader::new(Cursor::new(bytes), bytes.len() as u64) {
        Ok(r) => r,
        Err(e) => return e,
    };
    r.verify().unwrap_err()
}

/// The payload of one small record.
fn one_record() -> Vec<u8> {
    let mut one = Vec::new();
    encode_record(
        &mut one,
        ContainerIdRef::new(b"a", b"b"),
        ObjectReferenceRef::default(),
    );
    one
}

#[test]
fn reserved_header_flags_are_refused() {
    let one = one_record();
    let good = file_of(1, &one);
    let mut r = SnapshotReader::new(Cursor::new(&good[..]), good.len() as u64).unwrap();
    assert!(r.verify().is_ok());
    // The same file with a reserved flag set and the header checksum
    // recomputed, so that only the flags are wrong.
    let mut bad = good.clone();
    bad[12..16].copy_from_slice(&1u32.to_le_bytes());
    let crc = Crc32::of(&bad[..36]);
    bad[36..40].copy_from_slice(&crc.to_le_bytes());
    let err = read_err(&bad);
    assert!(
        matches!(err, LoadError::Corrupt(Corrupt::Flags(1))),
        "{err}"
    );
}

#[test]
fn the_reader_says_precisely_what_is_wrong() {
    let one = one_record();
    // A checksummed payload with one record too few (with room for two
    // records' lengths, so the header's count passes) or too many.
    let mut big = Vec::new();
    let named = ObjectReferenceRef {
        name: &[b'n'; 40],
        ..Default::default()
    };
    encode_record(&mut big, ContainerIdRef::new(b"a", b"b"), named);
    assert!(matches!(
        read_err(&file_of(2, &big)),
        LoadError::Corrupt(Corrupt::Record {
            index: 1,
            at: 118,
            problem: RecordProblem::LengthsPastEnd
        })
    ));
    assert_eq!(
        read_err(&file_of(3, &big)).to_string(),
        "the header claims 3 records, more than 78 payload bytes can hold"
    );
    let mut two = one.clone();
    two.extend_from_slice(&one);
    assert_eq!(
        read_err(&file_of(1, &two)).to_string(),
        "bytes after the last of the 1 records, from byte 78"
    );
    // A string length over the limit, and one past the end.
    let mut long = one.clone();
    long[8..12].copy_from_slice(&(64u32 << 20 | 1).to_le_bytes());
    assert_eq!(
        read_err(&file_of(1, &long)).to_string(),
        "record 0 at byte 40: its kind is 67108865 bytes, over the 67108864-byte limit"
    );
    let mut past = one.clone();
    past[0] = 9;
    assert_eq!(
        read_err(&file_of(1, &past)).to_string(),
        "record 0 at byte 40: its 10 bytes of strings run past the end of the payload"
    );
    // Damage that breaks a record is reported where it is found, without
    // reading further; damage that keeps every record whole is found by
    // the checksum.
    let mut damaged = file_of(1, &one);
    damaged[40] = 9;
    assert_eq!(
        read_err(&damaged).to_string(),
        "record 0 at byte 40: its 10 bytes of strings run past the end of the payload"
    );
    let mut flipped = file_of(1, &one);
    flipped[77] ^= 1;
    assert!(read_err(&flipped)
        .to_string()
        .starts_with("payload checksum mismatch: stored "));
    // Truncation and trailing bytes name their sizes.
    let whole = file_of(1, &one);
    assert_eq!(
        read_err(&whole[..50]).to_string(),
        "truncated at byte 50: the header says the file has 78 bytes"
    );
    assert_eq!(
        read_err(&whole[..30]).to_string(),
        "truncated at byte 30: the header alone is 40 bytes"
    );
    let mut more = whole.clone();
    more.extend_from_slice(b"xyz");
    assert_eq!(
        read_err(&more).to_string(),
        "3 unexpected bytes at the end: the file has 81 bytes, the header says 78"
    );
}

#[test]
fn a_header_that_lies_about_its_length_is_refused_before_any_record() {
    // A header claiming 8 GiB of payload for one record, over a reader that
    // fails if anything past the header is read.
    #[derive(Debug)]
    struct HeaderOnly(Cursor<Vec<u8>>);
    impl std::io::Read for HeaderOnly {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            assert!(
                self.0.position() < HEADER_LEN as u64,
                "read past the header"
            );
            self.0.read(buf)
        }
    }
    impl std::io::Seek for HeaderOnly {
        fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
            self.0.seek(to)
        }
    }
    let huge = 8u64 << 30;
    for (count, payload_len, want) in [
        (1, huge, "more than 1 records can need"),
        (huge, 1000, "more than 1000 payload bytes can hold"),
        (0, 1, "more than 0 records can need"),
        (5, u64::MAX, "more than 5 records can need"),
    ] {
        let h = encode_header(count, payload_len, 0).to_vec();
        let len = (HEADER_LEN as u64).saturating_add(payload_len);
        let err = SnapshotReader::new(HeaderOnly(Cursor::new(h)), len).unwrap_err();
        assert!(err.to_string().ends_with(want), "{err}");
    }
}

#[test]
fn a_payload_length_past_what_a_file_can_have_is_a_truncation() {
    // As every payload length the file lacks is, up to the largest ones,
    // whose sum with the header's 40 bytes does not fit in 64 bits.
    for payload_len in [1000, u64::MAX - 40, u64::MAX - 39, u64::MAX] {
        let err = decode_header(&encode_header(0, payload_len, 0), 40).unwrap_err();
        match err {
            LoadError::Truncated(t) => {
                assert_eq!(t.len, 40);
                assert_eq!(t.need, payload_len.saturating_add(40));
            }
            e => panic!("{payload_len}: {e}"),
        }
    }
    let err = decode_header(&encode_header(0, u64::MAX, 0), 40).unwrap_err();
    assert_eq!(
        err.to_string(),
        "truncated at byte 40: the header says the file has at least 18446744073709551615 bytes"
    );
}

#[test]
fn a_file_changed_after_verify_is_reported_as_changed() {
    let d = dir("changed");
    let path = d.join("refs");
    filled(100, "c").save(&path).unwrap();
    let whole = fs::read(&path).unwrap();
    let flip = |bytes: &mut Vec<u8>| {
        let i = bytes.len() - 10;
        bytes[i] ^= 1;
    };
    // In place, between the passes: a payload byte, then a shorter file.
    for damage in [0, 1] {
        fs::write(&path, &whole).unwrap();
        let mut r = SnapshotReader::open(&path).unwrap();
        r.verify().unwrap();
        let f = fs::OpenOptions::new().write(true).open(&path).unwrap();
        if damage == 0 {
            let mut bytes = whole.clone();
            flip(&mut bytes);
            std::os::unix::fs::FileExt::write_all_at(&f, &bytes, 0).unwrap();
        } else {
            f.set_len(100).unwrap();
        }
        let err = r.for_each_record(|_, _, _| {}).unwrap_err();
        assert!(matches!(err, LoadError::Corrupt(Corrupt::Changed)), "{err}");
    }
    // Without a verify first, the damage itself is reported.
    let mut bytes = whole.clone();
    flip(&mut bytes);
    fs::write(&path, &bytes).unwrap();
    let mut r = SnapshotReader::open(&path).unwrap();
    let err = r.for_each_record(|_, _, _| {}).unwrap_err();
    assert!(
        matches!(err, LoadError::Corrupt(Corrupt::PayloadChecksum { .. })),
        "{err}"
    );
    fs::remove_dir_all(d).unwrap();
}

/// Makes a FIFO named `fifo` in `d` and returns its path.
fn fifo_in(d: &Path) -> PathBuf {
    let fifo = d.join("fifo");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    fifo
}

/// Runs `f` on a thread of its own and returns what it returns, or fails
/// the test if it has not returned within a minute: a call that should not
/// block fails instead of hanging the suite (a watchdog, not a timing
/// check).
fn without_blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(f()));
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the call blocked")
}

#[test]
fn special_files_are_refused_without_blocking() {
    let d = dir("special");
    let fifo = fifo_in(&d);
    let sock = d.join("sock");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let m = std::sync::Arc::new(filled(3, "keep"));
    let before = sorted(&m);
    for p in [
        fifo.clone(),
        sock.clone(),
        d.clone(),
        PathBuf::from("/dev/null"),
    ] {
        let mm = m.clone();
        let err = without_blocking(move || mm.load(&p, LoadMode::Replace).unwrap_err());
        assert!(matches!(err, LoadError::NotRegular), "{err}");
    }
    assert_eq!(sorted(&m), before);
    fs::remove_dir_all(d).unwrap();
}

#[test]
fn a_special_file_is_refused_without_being_opened() {
    // inotify reports every open of the FIFO (and nothing for a stat): a
    // load that opened it, even to refuse it, shows up as an event.
    let d = dir("unopened");
    let fifo = fifo_in(&d);
    // SAFETY: plain system calls on descriptors this test owns.
    let ino = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
    assert!(ino >= 0);
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: as above; `c` is a valid NUL-terminated path.
    assert!(unsafe { libc::inotify_add_watch(ino, c.as_ptr(), libc::IN_OPEN) } >= 0);
    let m = RefManager::new();
    for _ in 0..3 {
        let err = m.load(&fifo, LoadMode::Merge).unwrap_err();
        assert!(matches!(err, LoadError::NotRegular), "{err}");
        let err = SnapshotReader::open(&fifo).unwrap_err();
        assert!(matches!(err, LoadError::NotRegular), "{err}");
    }
    let events = |ino| {
        let mut buf = [0u8; 4096];
        // SAFETY: `buf` has that many writable bytes.
        unsafe { libc::read(ino, buf.as_mut_ptr().cast(), buf.len()) }
    };
    assert_eq!(events(ino), -1, "the load opened the FIFO");
    // The watch works: an open of the FIFO is an event.
    let mine = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .unwrap();
    assert!(events(ino) > 0);
    drop(mine);
    // SAFETY: closing the descriptor opened above.
    unsafe { libc::close(ino) };
    fs::remove_dir_all(d).unwrap();
}

/// Opens an inotify descriptor watching `path` for opens; returns it.
fn watch_opens(path: &Path) -> i32 {
    // SAFETY: plain system calls; the path is a valid NUL-terminated string.
    unsafe {
        let ino = libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC);
        assert!(ino >= 0);
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        assert!(libc::inotify_add_watch(ino, c.as_ptr(), libc::IN_OPEN) >= 0);
        ino
    }
}

/// How many open events `ino` (from [`watch_opens`]) has queued; reads them.
fn opens_seen(ino: i32) -> usize {
    let mut n = 0;
    let mut buf = [0u8; 4096];
    loop {
        // SAFETY: `buf` has that many writable bytes.
        let k = unsafe { libc::read(ino, buf.as_mut_ptr().cast(), buf.len()) };
        if k <= 0 {
            return n;
        }
        n += k as usize / std::mem::size_of::<libc::inotify_event>();
    }
}

#[test]
#[cfg(target_os = "linux")]
fn a_path_swapped_to_a_fifo_during_loads_never_has_it_opened() {
    // A link at the path flips between a snapshot and a FIFO while loads
    // run: each load gets the snapshot or refuses the FIFO, and none opens
    // it, whenever the flip falls between its check and its open.
    let d = dir("swapped");
    filled(2, "good").save(&d.join("good")).unwrap();
    let fifo = fifo_in(&d);
    let ino = watch_opens(&fifo);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flipper = {
        let (d, stop) = (d.clone(), stop.clone());
        std::thread::spawn(move || {
            let (at, next) = (d.join("path"), d.join("next"));
            let mut flips = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let target = if flips.is_multiple_of(2) {
                    "good"
                } else {
                    "fifo"
                };
                symlink(target, &next).unwrap();
                fs::rename(&next, &at).unwrap();
                flips += 1;
            }
        })
    };
    let path = d.join("path");
    let m = RefManager::new();
    let (mut loaded, mut refused) = (0, 0);
    for _ in 0..50_000 {
        match m.load(&path, LoadMode::Merge) {
            Ok(2) => loaded += 1,
            Err(LoadError::NotRegular) => refused += 1,
            // Not there yet, before the first flip.
            Err(LoadError::NotFound) => {}
            other => panic!("{other:?}"),
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    flipper.join().unwrap();
    assert!(
        loaded > 0 && refused > 0,
        "{loaded} loaded, {refused} refused"
    );
    assert_eq!(opens_seen(ino), 0, "a load opened the FIFO");
    // The watch works: an open of the FIFO is an event.
    drop(
        fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
            .unwrap(),
    );
    assert!(opens_seen(ino) > 0);
    // SAFETY: closing the descriptor opened above.
    unsafe { libc::close(ino) };
    fs::remove_dir_all(d).unwrap();
}

#[test]
fn a_symbolic_link_at_the_path_is_followed_by_load_and_replaced_by_save() {
    let d = dir("links");
    let real = d.join("real");
    filled(5, "r").save(&real).unwrap();
    let link = d.join("link");
    symlink(&real, &link).unwrap();
    assert_eq!(RefManager::new().load(&link, LoadMode::Merge).unwrap(), 5);
    let before = fs::read(&real).unwrap();
    filled(7, "l").save(&link).unwrap();
    assert_eq!(fs::read(&real).unwrap(), before, "not written through");
    assert!(fs::symlink_metadata(&link).unwrap().file_type().is_file());
    fs::remove_dir_all(d).unwrap();
}

#[test]
fn no_name_a_save_may_use_is_written_through() {
    let d = dir("planted");
    let p = d.join("state");
    let victim = d.join("victim");
    fs::write(&victim, b"precious\n").unwrap();
    fs::set_permissions(&victim, fs::Permissions::from_mode(0o644)).unwrap();
    let fifo = fifo_in(&d);
    // The fixed name of earlier versions, and the first two names this
    // save will draw: a link to the victim and a FIFO.
    symlink(&victim, d.join("state.kuberef-tmp")).unwrap();
    symlink(&victim, d.join(format!("state{TEMP_TAG}{:016x}", 1))).unwrap();
    fs::rename(&fifo, d.join(format!("state{TEMP_TAG}{:016x}", 2))).unwrap();
    let mut next = 0;
    let mut names = || {
        next += 1;
        next
    };
    // The names drawn show that both planted ones were passed over.
    assert_eq!(save::save(&filled(9, "s"), &p, &mut names).unwrap(), 9);
    assert_eq!(next, 3, "the two planted names were skipped");
    assert_eq!(fs::read(&victim).unwrap(), b"precious\n");
    let mode = fs::metadata(&victim).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);
    assert_eq!(RefManager::new().load(&p, LoadMode::Merge).unwrap(), 9);
    // The planted files are left as they were.
    assert_eq!(
        others(&d, &["state", "victim"]),
        [
            "state.kuberef-tmp".to_owned(),
            format!("state{TEMP_TAG}{:016x}", 1),
            format!("state{TEMP_TAG}{:016x}", 2),
        ]
    );
    fs::remove_dir_all(d).unwrap();
}

#[test]
fn stale_temporary_files_are_removed_by_the_next_save() {
    let d = dir("stale");
    let p = d.join("state");
    let old = SystemTime::now() - STALE_AFTER - Duration::from_secs(1);
    let leftover = |n: u64| d.join(format!("state{TEMP_TAG}{n:016x}"));
    // A killed save's file; one a live save holds (locked); a fresh one;
    // another target's; a link and a directory with temporary names.
    for n in 1..=3 {
        let f = File::create(leftover(n)).unwrap();
        if n != 3 {
            f.set_modified(old).unwrap();
        }
    }
    let held = File::open(leftover(2)).unwrap();
    held.lock().unwrap();
    let other = d.join(format!("other{TEMP_TAG}{:016x}", 4));
    File::create(&other).unwrap().set_modified(old).unwrap();
    symlink("/etc/hostname", leftover(5)).unwrap();
    fs::create_dir(leftover(6)).unwrap();
    filled(2, "s").save(&p).unwrap();
    assert!(!leftover(1).exists(), "a killed save's file is removed");
    assert!(leftover(2).exists(), "a locked one is kept");
    assert!(leftover(3).exists(), "a fresh one is kept");
    assert!(other.exists(), "another target's is kept");
    assert!(fs::symlink_metadata(leftover(5)).is_ok() && leftover(6).is_dir());
    drop(held);
    fs::remove_dir_all(d).unwrap();
}

#[test]
fn concurrent_saves_to_one_path_always_leave_a_whole_file() {
    let d = dir("concurrent");
    let p = d.join("state");
    let a = filled(300, "a");
    let b = filled(500, "b");
    let (want_a, want_b) = (sorted(&a), sorted(&b));
    std::thread::scope(|s| {
        for m in [&a, &b] {
            let p = &p;
            s.spawn(move || {
                for _ in 0..100 {
                    m.save(p).unwrap();
                }
            });
        }
        let reader = RefManager::new();
        for _ in 0..200 {
            match reader.load(&p, LoadMode::Replace) {
                Ok(_) => {
                    let got = sorted(&reader);
                    assert!(got == want_a || got == want_b, "a mixed file");
                }
                Err(LoadError::NotFound) => {}
                Err(e) => panic!("a load during the saves: {e}"),
            }
        }
    });
    assert_eq!(others(&d, &["state"]), Vec::<String>::new());
    fs::remove_dir_all(d).unwrap();
}

#[test]
fn save_errors_leave_the_target_alone() {
    let d = dir("saveerr");
    let m = filled(5, "a");
    assert!(matches!(
        m.save(&d.join("missing-dir/refs")),
        Err(SaveError::Io(_))
    ));
    assert!(matches!(m.save(Path::new("")), Err(SaveError::Io(_))));
    assert!(matches!(m.save(&d.join("..")), Err(SaveError::Io(_))));
    // A directory at the path: the rename fails, the directory stays, and
    // the temporary file is removed.
    let sub = d.join("sub");
    fs::create_dir(&sub).unwrap();
    fs::write(sub.join("inside"), b"x").unwrap();
    assert!(matches!(m.save(&sub), Err(SaveError::Io(_))));
    assert!(sub.join("inside").exists());
    assert_eq!(others(&d, &["sub"]), Vec::<String>::new());
    assert!(path_from_bytes(b"a\0b").is_none());
    assert!(path_from_bytes(b"").is_none());
    fs::remove_dir_all(d).unwrap();
}

#[test]
fn a_file_whose_records_are_streamed_through_the_reader_round_trips() {
    let m = filled(1000, "z");
    let d = dir("stream");
    let p = d.join("refs");
    m.save(&p).unwrap();
    let mut r = SnapshotReader::open(&p).unwrap();
    r.verify().unwrap();
    let copy = RefManager::new();
    let mut last_at = 0;
    let n = r
        .for_each_record(|at, id, reference| {
            assert!(at >= last_at + MIN_RECORD || last_at == 0);
            last_at = at;
            copy.set(id, reference).unwrap();
        })
        .unwrap();
    assert_eq!((n, r.header().count), (1000, 1000));
    assert_eq!(sorted(&copy), sorted(&m));
    // Written as appended: a file saved by hand from the same records
    // reads the same.
    let mut f = File::create(d.join("by-hand")).unwrap();
    let mut payload = Vec::new();
    for (id, reference) in sorted(&m) {
        encode_record(&mut payload, id.as_ref(), reference.as_ref());
    }
    f.write_all(&file_of(1000, &payload)).unwrap();
    let again = RefManager::new();
    again.load(&d.join("by-hand"), LoadMode::Merge).unwrap();
    assert_eq!(sorted(&again), sorted(&m));
    fs::remove_dir_all(d).unwrap();
}

#[test]
fn a_file_that_reports_no_size_is_judged_by_its_bytes() {
    // /proc files report a size of 0 but have bytes: not a snapshot, rather
    // than a snapshot cut off at byte 0.
    let proc_file = Path::new("/proc/self/status");
    if proc_file.exists() {
        let err = SnapshotReader::open(proc_file).unwrap_err();
        assert!(matches!(err, LoadError::Foreign), "{err}");
        let err = RefManager::new()
            .load(proc_file, LoadMode::Merge)
            .unwrap_err();
        assert!(matches!(err, LoadError::Foreign), "{err}");
    }
    // The same through a reader told the file is empty.
    let err =
        SnapshotReader::new(Cursor::new(b"Name:\tcat\nUmask:\t0022\n".repeat(4)), 0).unwrap_err();
    assert!(matches!(err, LoadError::Foreign), "{err}");
    // An empty snapshot whose size was reported as 0 is read whole.
    let empty = encode_header(0, 0, Crc32::of(&[]));
    let r = SnapshotReader::new(Cursor::new(empty.to_vec()), 0).unwrap();
    assert_eq!((r.len(), r.header().count), (40, 0));
    // A file that really is shorter than a header is still cut off.
    let err = SnapshotReader::new(Cursor::new(empty[..20].to_vec()), 20).unwrap_err();
    assert!(matches!(err, LoadError::Truncated(_)), "{err}");
}
