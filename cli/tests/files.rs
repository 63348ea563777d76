//! The built `kuberef` binary on files the library wrote (`RefManager::save`)
//! and on every kind of damaged or wrong file the loader knows, and on
//! random bytes. For every file that is not whole, each command must exit
//! with the status of its class (the table below, written independently of
//! the tool's own mapping), print nothing on standard output, and print one
//! line on standard error that carries the loader's own reason, as
//! `RefManager::load` gives it for the same file.

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::ops::ControlFlow;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use kuberef::persist::{encode_header, Corrupt, Crc32, HEADER_LEN, MIN_RECORD};
use kuberef::{ContainerId, LoadError, LoadMode, ObjectReference, RefManager, MAX_STR_LEN};

const BIN: &str = env!("CARGO_BIN_EXE_kuberef");

fn kuberef(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run kuberef")
}

/// `/dev/full` open for writing: every write fails with ENOSPC.
fn dev_full() -> fs::File {
    fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kuberef-cli-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

/// A manager with `n` references in `n / 4 + 1` pods, on two runtimes.
fn filled(n: usize) -> RefManager {
    let m = RefManager::new();
    for i in 0..n {
        let pod = i / 4;
        let r = ObjectReference {
            kind: b"Pod".to_vec(),
            namespace: if pod % 2 == 0 {
                b"default".to_vec()
            } else {
                b"kube-system".to_vec()
            },
            name: format!("web-{pod}").into(),
            uid: format!("uid-{pod}").into(),
            api_version: b"v1".to_vec(),
            resource_version: format!("{}", 100 + i).into(),
            field_path: format!("spec.containers{{c{}}}", i % 4).into(),
        };
        let typ = if i % 5 == 0 { "docker" } else { "containerd" };
        m.set(
            ContainerId::new(typ, format!("{i:064x}")).as_ref(),
            r.as_ref(),
        )
        .unwrap();
    }
    m
}

/// The bytes of a whole snapshot of `m`, as the library saves it.
fn saved(dir: &Path, m: &RefManager) -> Vec<u8> {
    let p = dir.join("whole.refs");
    m.save(&p).unwrap();
    fs::read(p).unwrap()
}

/// `f` with its header's CRC-32 made to match its first 36 bytes again.
fn rehash_header(mut f: Vec<u8>) -> Vec<u8> {
    let c = Crc32::of(&f[..36]);
    f[36..40].copy_from_slice(&c.to_le_bytes());
    f
}

/// A file whose header is (count, payload_len) over `payload`, both CRCs right.
fn with_header(count: u64, payload: &[u8]) -> Vec<u8> {
    let mut f = encode_header(count, payload.len() as u64, Crc32::of(payload)).to_vec();
    f.extend_from_slice(payload);
    f
}

/// The exit status the tool owes a file that fails to load with `e`
/// (docs/operating.md's table).
fn expected_exit(e: &LoadError) -> i32 {
    match e {
        LoadError::NotFound => 3,
        LoadError::NotRegular => 4,
        LoadError::Io(_) => 5,
        LoadError::Foreign => 6,
        LoadError::Version(_) => 7,
        LoadError::Truncated(_) => 8,
        LoadError::Corrupt(Corrupt::HeaderChecksum { .. } | Corrupt::PayloadChecksum { .. }) => 9,
        LoadError::Corrupt(_) => 10,
        _ => panic!("a load error this test does not know: {e:?}"),
    }
}

/// Checks that every command refuses `path` the way the loader does: the
/// exit status of `want` (and of the loader's error), no output, and one
/// stderr line with the loader's reason. Returns that line.
fn refused(path: &Path, whole: &Path, want: i32) -> String {
    let loaded = RefManager::new().load(path, LoadMode::Merge);
    let err = loaded.expect_err("the loader refuses it");
    assert_eq!(
        expected_exit(&err),
        want,
        "{}: the loader says {err}",
        path.display()
    );
    let p = path.to_str().unwrap();
    let w = whole.to_str().unwrap();
    let line = format!("kuberef: {p}: {err}\n");
    for args in [
        vec!["verify", p],
        vec!["dump", "--format", "json", p],
        vec!["dump", "--format", "table", p],
        vec!["stats", p],
        vec!["stats", "--format", "table", p],
        vec!["diff", p, w],
        vec!["diff", w, p],
    ] {
        let out = kuberef(&args);
        assert_eq!(
            out.status.code(),
            Some(want),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stdout.is_empty(),
            "{args:?} printed {:?}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert_eq!(String::from_utf8_lossy(&out.stderr), line, "{args:?}");
    }
    line
}

#[test]
fn whole_files_verify_dump_count_and_compare() {
    let dir = scratch("whole");
    let m = filled(203);
    saved(&dir, &m);
    let p = dir.join("whole.refs");
    let p = p.to_str().unwrap();

    let out = kuberef(&["verify", p]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with(&format!("{p}: whole\n")), "{text}");
    assert!(text.contains("records          203\n"), "{text}");
    assert!(out.stderr.is_empty());

    // JSON lines: one per reference, each the ID and the library's JSON.
    let out = kuberef(&["dump", p]);
    assert_eq!(out.status.code(), Some(0));
    let mut got: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let mut want = Vec::new();
    m.for_each_ref(|id, r| {
        let mut line = format!(
            "{{\"containerID\":\"{}\",\"reference\":",
            String::from_utf8(id.format()).unwrap()
        );
        line.push_str(std::str::from_utf8(&kuberef::json::object_reference_json(&r)).unwrap());
        line.push('}');
        want.push(line);
        ControlFlow::Continue(())
    });
    got.sort();
    want.sort();
    assert_eq!(got, want);

    // Filters.
    let count = |args: &[&str]| {
        let out = kuberef(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        String::from_utf8(out.stdout).unwrap().lines().count()
    };
    let docker = (0..203).filter(|i| i % 5 == 0).count();
    assert_eq!(count(&["dump", "--runtime", "docker", p]), docker);
    assert_eq!(count(&["dump", "--pod-uid", "uid-3", p]), 4);
    assert_eq!(
        count(&["dump", "--namespace", "kube-system", p]),
        (0..203).filter(|i| (i / 4) % 2 == 1).count()
    );
    assert_eq!(
        count(&[
            "dump",
            "--namespace",
            "kube-system",
            "--pod-uid",
            "uid-2",
            p
        ]),
        0
    );
    // The table: a header and one row per reference.
    assert_eq!(
        count(&["dump", "--format", "table", "--pod-uid", "uid-3", p]),
        5
    );

    let out = kuberef(&["stats", p]);
    let json = String::from_utf8(out.stdout).unwrap();
    assert!(json.contains("\"records\":203,"), "{json}");
    assert!(json.contains("\"references\":203,"), "{json}");
    assert!(
        json.contains(&format!("\"pods\":{},", 203 / 4 + 1)),
        "{json}"
    );
    assert!(
        json.contains(&format!(
            "{{\"runtime\":\"docker\",\"references\":{docker}}}"
        )),
        "{json}"
    );
    // A manager holding the same references holds about as many bytes (the
    // hash tables' slots depend on each manager's random seed).
    let loaded: u64 = json
        .split("\"loadedBytes\":")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let here = m.stats().bytes;
    assert!(
        loaded * 4 >= here * 3 && loaded * 3 <= here * 4,
        "{loaded} vs {here}"
    );

    let out = kuberef(&["diff", p, p]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty(), "no changes, no JSON lines");
    let out = kuberef(&["diff", "--format", "table", p, p]);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "no differences (203 references)\n"
    );
}

#[test]
fn diff_lists_what_changed_by_container_id() {
    let dir = scratch("diff");
    let a = filled(40);
    let b = filled(40);
    let id = |i: usize, typ: &str| ContainerId::new(typ, format!("{i:064x}"));
    assert!(b.clear(id(3, "containerd").as_ref()));
    let mut r = b.get(id(7, "containerd").as_ref()).unwrap();
    r.resource_version = b"999".to_vec();
    b.set(id(7, "containerd").as_ref(), r.as_ref()).unwrap();
    b.set(id(1000, "cri-o").as_ref(), r.as_ref()).unwrap();
    a.save(&dir.join("a")).unwrap();
    b.save(&dir.join("b")).unwrap();
    let (pa, pb) = (dir.join("a"), dir.join("b"));
    let out = kuberef(&["diff", pa.to_str().unwrap(), pb.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].starts_with(&format!(
            "{{\"change\":\"removed\",\"containerID\":\"containerd://{:064x}\",\"reference\":{{",
            3
        )),
        "{text}"
    );
    assert!(
        lines[1].starts_with(&format!(
            "{{\"change\":\"changed\",\"containerID\":\"containerd://{:064x}\",\"before\":{{",
            7
        )),
        "{text}"
    );
    assert!(
        lines[1].contains("\"resourceVersion\":\"107\"")
            && lines[1].contains("\"resourceVersion\":\"999\""),
        "{text}"
    );
    assert!(
        lines[2].starts_with("{\"change\":\"added\",\"containerID\":\"cri-o://"),
        "{text}"
    );
    let out = kuberef(&[
        "diff",
        "--format",
        "table",
        pa.to_str().unwrap(),
        pb.to_str().unwrap(),
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.ends_with("1 added, 1 removed, 1 changed, 38 unchanged\n"),
        "{text}"
    );
    assert!(text.contains("resourceVersion: 107 -> 999"), "{text}");
}

#[test]
fn every_damaged_file_class_gets_its_status_and_the_loaders_reason() {
    let dir = scratch("damaged");
    let whole = saved(&dir, &filled(60));
    let w = dir.join("whole.refs");
    let n = whole.len();
    let payload = &whole[HEADER_LEN..];
    let truncated_reason = format!(
        "truncated at byte {}: the header says the file has {n} bytes",
        n - 1
    );
    let mut cases: Vec<(&str, Vec<u8>, i32, &str)> = vec![
        (
            "empty",
            vec![],
            8,
            "truncated at byte 0: the header alone is 40 bytes",
        ),
        (
            "magic-prefix",
            whole[..5].to_vec(),
            8,
            "truncated at byte 5",
        ),
        (
            "header-cut",
            whole[..20].to_vec(),
            8,
            "truncated at byte 20",
        ),
        ("records-cut", whole[..n - 1].to_vec(), 8, &truncated_reason),
        (
            "header-only",
            whole[..HEADER_LEN].to_vec(),
            8,
            "truncated at byte 40",
        ),
        (
            "text",
            b"hello, world\n".to_vec(),
            6,
            "not a kuberef snapshot file",
        ),
        ("short-text", b"KUBE".to_vec(), 8, "truncated at byte 4"),
        (
            "short-foreign",
            b"x".to_vec(),
            6,
            "not a kuberef snapshot file",
        ),
    ];

    let mut foreign = whole.clone();
    foreign[0] = b'X';
    cases.push(("foreign", foreign, 6, "not a kuberef snapshot file"));
    let mut version = whole.clone();
    version[8] = 2;
    cases.push(("version", version.clone(), 7, "snapshot format version 2"));
    cases.push((
        "version-rehashed",
        rehash_header(version),
        7,
        "snapshot format version 2",
    ));
    let mut header_crc = whole.clone();
    header_crc[16] ^= 1;
    cases.push(("header-crc", header_crc, 9, "header checksum mismatch"));
    let mut payload_crc = whole.clone();
    payload_crc[n - 1] ^= 0x20;
    cases.push(("payload-crc", payload_crc, 9, "payload checksum mismatch"));
    let mut flags = whole.clone();
    flags[12] = 1;
    cases.push((
        "flags",
        rehash_header(flags),
        10,
        "reserved header flags are 0x1",
    ));
    let mut trailing = whole.clone();
    trailing.push(0);
    cases.push(("trailing", trailing, 10, "1 unexpected bytes at the end"));
    let count = u64::from_le_bytes(whole[16..24].try_into().unwrap());
    cases.push((
        "count",
        with_header(payload.len() as u64 / MIN_RECORD + 1, payload),
        10,
        "more than",
    ));
    cases.push((
        "extra-bytes",
        with_header(count - 1, payload),
        10,
        "bytes after the last of the 59 records",
    ));
    cases.push((
        "payload-length",
        with_header(0, payload),
        10,
        "more than 0 records can need",
    ));
    // A record whose first length is over the limit, and one whose strings
    // run past the payload; both CRCs right.
    let mut too_long = vec![0u8; MIN_RECORD as usize];
    too_long[..4].copy_from_slice(&(MAX_STR_LEN as u32 + 1).to_le_bytes());
    cases.push((
        "part-too-long",
        with_header(1, &too_long),
        10,
        "record 0 at byte 40: its type is 67108865 bytes",
    ));
    let mut past_end = vec![0u8; MIN_RECORD as usize];
    past_end[4..8].copy_from_slice(&5u32.to_le_bytes());
    cases.push((
        "past-end",
        with_header(1, &past_end),
        10,
        "record 0 at byte 40: its 5 bytes of strings run past the end",
    ));
    let mut second = payload.to_vec();
    second.truncate(payload.len() - 2);
    cases.push((
        "lengths-past-end",
        with_header(count, &second),
        10,
        "run past the end of the payload",
    ));

    let mut classes = std::collections::BTreeSet::new();
    for (name, bytes, want, reason) in &cases {
        let p = dir.join(name);
        fs::write(&p, bytes).unwrap();
        let line = refused(&p, &w, *want);
        assert!(line.contains(reason), "{name}: {line}");
        classes.insert(*want);
    }
    assert_eq!(
        classes.into_iter().collect::<Vec<_>>(),
        vec![6, 7, 8, 9, 10]
    );
}

#[test]
fn missing_files_and_files_that_are_not_regular() {
    let dir = scratch("special");
    saved(&dir, &filled(3));
    let w = dir.join("whole.refs");
    refused(&dir.join("missing"), &w, 3);
    let dangling = dir.join("dangling");
    std::os::unix::fs::symlink(dir.join("nowhere"), &dangling).unwrap();
    refused(&dangling, &w, 3);
    refused(&dir, &w, 4);
    refused(Path::new("/dev/null"), &w, 4);
    let fifo = dir.join("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    // Opening a FIFO with no writer must not block.
    refused(&fifo, &w, 4);
    let sock = dir.join("sock");
    let _listener = UnixListener::bind(&sock).unwrap();
    refused(&sock, &w, 4);
    // A link to a whole file is followed.
    let link = dir.join("link");
    std::os::unix::fs::symlink(&w, &link).unwrap();
    assert_eq!(
        kuberef(&["verify", link.to_str().unwrap()]).status.code(),
        Some(0)
    );
}

/// A small deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn random_bytes_are_refused_like_the_loader_refuses_them() {
    let dir = scratch("random");
    let whole = saved(&dir, &filled(8));
    let w = dir.join("whole.refs");
    let mut rng = Rng(0x6b75_6265_7265_6621);
    let mut statuses = std::collections::BTreeMap::new();
    for k in 0..150 {
        let len = rng.below(600) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        // Some start as a snapshot does, to get past the magic and version.
        match k % 3 {
            0 => {}
            1 => {
                let m = whole.len().min(12).min(bytes.len());
                bytes[..m].copy_from_slice(&whole[..m]);
            }
            _ => {
                // A right header over random records, and a few flipped bits.
                if bytes.len() >= HEADER_LEN {
                    let payload = bytes[HEADER_LEN..].to_vec();
                    let count = rng.below(payload.len() as u64 / MIN_RECORD + 2);
                    bytes = with_header(count, &payload);
                }
            }
        }
        let p = dir.join(format!("r{k}"));
        fs::write(&p, &bytes).unwrap();
        let out = kuberef(&["verify", p.to_str().unwrap()]);
        let code = out.status.code().expect("exited, no signal");
        match RefManager::new().load(&p, LoadMode::Merge) {
            Ok(_) => assert_eq!(code, 0, "r{k}"),
            Err(e) => {
                assert_eq!(code, expected_exit(&e), "r{k}: {e}");
                assert_eq!(
                    String::from_utf8_lossy(&out.stderr),
                    format!("kuberef: {}: {e}\n", p.display())
                );
            }
        }
        *statuses.entry(code).or_insert(0) += 1;
        let out = kuberef(&["dump", "--format", "table", p.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(code), "r{k}: dump");
        let out = kuberef(&["diff", w.to_str().unwrap(), p.to_str().unwrap()]);
        let diff = out.status.code();
        assert!(
            if code == 0 {
                diff == Some(0) || diff == Some(1)
            } else {
                diff == Some(code)
            },
            "r{k}: diff {diff:?}"
        );
    }
    // The generator reaches past the magic, the version and the header.
    for class in [6, 8, 9, 10] {
        assert!(
            statuses.contains_key(&class),
            "no file of class {class}: {statuses:?}"
        );
    }
}

/// Runs kuberef with `args`, reads the first line of its output, then drops
/// the reader, as `| head -1` does; returns that line, the exit status and
/// standard error.
fn first_line_then_close(args: &[&std::ffi::OsStr]) -> (String, Option<i32>, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is dropped: the rest of the output meets a closed pipe.
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (first, child.wait().unwrap().code(), err)
}

#[test]
fn a_closed_pipe_ends_a_dump_quietly() {
    let dir = scratch("pipe");
    saved(&dir, &filled(20_000));
    let file = dir.join("whole.refs");
    let (first, code, err) = first_line_then_close(&["dump".as_ref(), file.as_os_str()]);
    assert!(first.starts_with("{\"containerID\":"));
    assert_eq!(code, Some(0));
    assert_eq!(err, "");
}

/// `kuberef diff A B | head`: the reader goes away, and the exit status is
/// still the comparison's (1: they differ), not 0, which would tell a
/// script that the snapshots are equal.
#[test]
fn a_closed_pipe_leaves_the_answer_of_a_diff() {
    let dir = scratch("diff-pipe");
    saved(&dir, &filled(20_000));
    fs::rename(dir.join("whole.refs"), dir.join("a.refs")).unwrap();
    saved(&dir, &filled(40_000)); // 20,000 added: more than a pipe holds
    let (a, b) = (dir.join("a.refs"), dir.join("whole.refs"));
    let args = [
        "diff".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        a.as_os_str(),
        b.as_os_str(),
    ];
    let (first, code, err) = first_line_then_close(&args);
    assert!(!first.is_empty());
    assert_eq!(code, Some(1));
    assert_eq!(err, "");
}

/// Help and the version written to a full device: status 11 and a message,
/// as for every other output.
#[test]
fn help_and_version_that_cannot_be_written_exit_11() {
    for args in [&["--help"][..], &["--version"], &["diff", "--help"]] {
        let full = dev_full();
        let out = Command::new(BIN)
            .args(args)
            .stdout(full)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(11), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.starts_with("kuberef: cannot write the output"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn usage_errors_are_one_line_with_status_2() {
    for args in [
        &[][..],
        &["dump"],
        &["nope"],
        &["dump", "--format", "xml", "f"],
        &["diff", "a"],
        &["stats", "--top", "x", "f"],
    ] {
        let out = kuberef(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.starts_with("kuberef: ") && err.ends_with('\n') && err.lines().count() == 1,
            "{args:?}: {err:?}"
        );
        assert!(out.stdout.is_empty());
    }
    let out = kuberef(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!(
            "kuberef {} (C ABI 1, snapshot format 1)\n",
            env!("CARGO_PKG_VERSION")
        )
    );
    let out = kuberef(&["--help"]);
    let help = String::from_utf8(out.stdout).unwrap();
    for line in [
        " 8  truncated",
        " 9  checksum mismatch",
        "10  inconsistent",
        "dump ",
        "verify ",
        "stats ",
        "diff ",
    ] {
        assert!(help.contains(line), "--help lacks {line:?}");
    }
}

#[test]
fn a_terminal_gets_a_table_and_a_progress_bar_for_a_large_file() {
    let dir = scratch("tty");
    // Over the 32 MiB at which the bar appears.
    let m = filled(0);
    let big = "x".repeat(4000);
    for i in 0..9000 {
        let r = ObjectReference {
            name: big.clone().into(),
            uid: format!("u{}", i % 3).into(),
            ..Default::default()
        };
        m.set(
            ContainerId::new("containerd", format!("{i}")).as_ref(),
            r.as_ref(),
        )
        .unwrap();
    }
    let p = dir.join("big.refs");
    m.save(&p).unwrap();
    assert!(fs::metadata(&p).unwrap().len() >= 32 << 20);
    // script(1) runs the tool with a pseudo-terminal as stdout and stderr.
    let out = Command::new("script")
        .args(["-qec", &format!("{BIN} stats {}", p.display()), "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("script (util-linux) runs");
    assert!(out.status.success());
    let screen = String::from_utf8_lossy(&out.stdout);
    // The bar: its message, then the bar itself (the stats text has neither).
    assert!(
        screen.contains(&format!("checking {} [", p.display())),
        "no progress bar: {screen:?}"
    );
    assert!(
        screen.contains("Pods with the most references (3 of 3)"),
        "not the text format: {screen:?}"
    );
    // Not a terminal: no bar, JSON.
    let out = kuberef(&["stats", p.to_str().unwrap()]);
    assert!(out.stderr.is_empty());
    assert!(out.stdout.starts_with(b"{\"file\":"));
}

/// A standard error that cannot be written loses the message, never the
/// status (no panic's 101).
#[test]
fn an_unwritable_standard_error_keeps_each_status() {
    let dir = scratch("stderr-full");
    let loops = dir.join("loop");
    std::os::unix::fs::symlink(&loops, &loops).unwrap();
    let missing = dir.join("missing");
    let cases: [(&[&std::ffi::OsStr], i32); 4] = [
        (&["verify".as_ref(), missing.as_os_str()], 3),
        (&["verify".as_ref(), loops.as_os_str()], 5),
        (&["nope".as_ref()], 2),
        (&[], 2),
    ];
    for (args, code) in cases {
        let full = dev_full();
        let out = Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .stderr(full)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "{args:?}");
    }
}

/// A path that cannot be resolved (a loop of links) is status 5 with one line.
#[test]
fn an_unreadable_path_is_status_5() {
    let dir = scratch("eloop");
    let loops = dir.join("loop");
    std::os::unix::fs::symlink(&loops, &loops).unwrap();
    for cmd in ["verify", "dump", "stats"] {
        let out = kuberef(&[cmd, loops.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(5), "{cmd}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{cmd}: {err}");
    }
}

/// A /proc file (its size reads as 0) is not a snapshot, not a cut-off one.
#[test]
fn a_proc_file_is_not_a_snapshot() {
    let out = kuberef(&["verify", "/proc/self/status"]);
    assert_eq!(out.status.code(), Some(6));
}

/// File names and clap's quoted arguments reach standard output and error
/// escaped, as stored strings do.
#[test]
fn names_are_shown_escaped() {
    let dir = scratch("names");
    let evil = dir.join("evil\n\u{1b}[31mRED\u{202e}.refs");
    filled(3).save(&evil).unwrap();
    let shown = format!("{}/evil\\n\\u{{1b}}[31mRED\\u{{202e}}.refs", dir.display());
    let out = kuberef(&["verify", evil.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with(&format!("{shown}: whole\n")), "{text}");
    let out = kuberef(&["stats", "--format", "table", evil.to_str().unwrap()]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with(&format!("{shown}\n")), "{text}");
    for out in [
        kuberef(&["verify", &format!("{}x", evil.display())]),
        kuberef(&["\u{1b}[31mx\ry"]),
    ] {
        let err = out.stderr;
        assert!(
            !err.iter().any(|&b| b == 0x1b || b == b'\r') && err.ends_with(b"\n"),
            "{:?}",
            String::from_utf8_lossy(&err)
        );
        assert_eq!(err.iter().filter(|&&b| b == b'\n').count(), 1);
    }
}

/// Distinct stored values never look alike in a table: a stored backslash
/// is doubled, a stored `<none>` is not an empty field.
#[test]
fn table_cells_are_unambiguous() {
    let dir = scratch("ambiguous");
    let m = RefManager::new();
    let cases: [(&str, &[u8], &[u8]); 4] = [
        ("a", b"a\\xffb", b"n"),
        ("b", b"a\xffb", b"n"),
        ("c", b"<none>", b""),
        ("d", b"", b"<none>"),
    ];
    for (id, namespace, name) in cases {
        let r = ObjectReference {
            namespace: namespace.to_vec(),
            name: name.to_vec(),
            ..Default::default()
        };
        m.set(ContainerId::new("containerd", id).as_ref(), r.as_ref())
            .unwrap();
    }
    let p = dir.join("t.refs");
    m.save(&p).unwrap();
    let out = kuberef(&["dump", "--format", "table", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<String> = text
        .lines()
        .skip(1)
        .map(|l| l.split_once("   ").unwrap().1.to_string())
        .collect();
    assert_eq!(rows.len(), 4);
    for i in 0..rows.len() {
        for j in i + 1..rows.len() {
            assert_ne!(rows[i], rows[j], "{text}");
        }
    }
}
