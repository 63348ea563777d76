//! Fuzzes the `kuberef` tool's commands (the `kuberef-cli` library, on top
//! of the snapshot reader `snapshot` fuzzes) on two in-memory files: any
//! bytes must give a result, never a panic. Input: one byte of options
//! (dump format and filters), two bytes giving where file A ends, then A's
//! and B's bytes. After every input it checks:
//!
//! * `verify`, `dump` (JSON and table), `stats` and `diff` agree on whether
//!   a file is whole, and on the failure (exit status and message, one line);
//! * a whole file's JSON dump has one line per record that passes the
//!   filters, each `{"containerID":"...","reference":{...}}`, valid UTF-8
//!   with no raw control byte; the table has no control character but line
//!   ends (stored strings never reach a terminal unescaped);
//! * `stats` counts add up (runtimes and pods to the references, references
//!   at most the records), and so do `diff`'s (A to A: nothing; A to B:
//!   added + changed + unchanged = B's references, removed + changed +
//!   unchanged = A's).

#![no_main]

use std::io::Cursor;

use kuberef::persist::SnapshotReader;
use kuberef_cli::exit::{Exit, Failure};
use kuberef_cli::read::Snapshot;
use kuberef_cli::{diff, dump, stats, verify};
use libfuzzer_sys::fuzz_target;

fn open<'a>(name: &str, bytes: &'a [u8]) -> Result<Snapshot<Cursor<&'a [u8]>>, Failure> {
    SnapshotReader::new(Cursor::new(bytes), bytes.len() as u64)
        .map(|r| Snapshot::new(name.to_string(), r, false))
        .map_err(|e| Failure::load(name, &e))
}

/// The outcome of a command as (exit status, message).
fn outcome<T>(r: &Result<T, Failure>) -> (Exit, String) {
    match r {
        Ok(_) => (Exit::Ok, String::new()),
        Err(f) => {
            let line = f.to_string();
            assert!(!line.is_empty() && !line.contains('\n'), "{line:?}");
            (f.exit, line)
        }
    }
}

fn no_controls(text: &[u8], what: &str) {
    let s = std::str::from_utf8(text).unwrap_or_else(|e| panic!("{what}: not UTF-8: {e}"));
    assert!(
        !s.chars().any(|c| c.is_control() && c != '\n'),
        "{what}: {s:?}"
    );
}

/// Runs every single-file command on `bytes` and returns its reference
/// count if it is whole.
fn one_file(name: &str, bytes: &[u8], filter: &dump::Filter) -> Result<u64, (Exit, String)> {
    let verified = open(name, bytes).and_then(|mut s| verify::check(&mut s));
    let want = outcome(&verified);

    let mut json = Vec::new();
    let dumped = open(name, bytes).and_then(|mut s| dump::json(&mut s, filter, &mut json));
    assert_eq!(outcome(&dumped), want, "dump --format json");
    let mut table = Vec::new();
    let tabled = open(name, bytes).and_then(|mut s| dump::table(&mut s, filter, &mut table));
    assert_eq!(outcome(&tabled), want, "dump --format table");
    let counted = open(name, bytes).and_then(|mut s| stats::compute(&mut s));
    assert_eq!(outcome(&counted), want, "stats");

    let report = match verified {
        Ok(r) => r,
        Err(f) => {
            assert!(
                json.is_empty() && table.is_empty(),
                "output from a file that is not whole"
            );
            return Err((f.exit, f.message));
        }
    };
    let (dumped, tabled, st) = (dumped.unwrap(), tabled.unwrap(), counted.unwrap());
    assert!(dumped <= report.records);
    assert_eq!(dumped, tabled);
    let text = std::str::from_utf8(&json).expect("JSON lines are UTF-8");
    assert!(!text.chars().any(|c| c.is_control() && c != '\n'));
    assert_eq!(text.lines().count() as u64, dumped);
    for line in text.lines() {
        assert!(
            line.starts_with("{\"containerID\":\"") && line.ends_with("}}"),
            "{line}"
        );
        assert!(line.contains("\",\"reference\":{"), "{line}");
    }
    no_controls(&table, "table");
    assert_eq!(
        table.iter().filter(|&&b| b == b'\n').count() as u64,
        tabled + 1
    );

    assert_eq!(st.records, report.records);
    assert!(st.references <= st.records);
    assert_eq!(st.runtimes.iter().map(|r| r.1).sum::<u64>(), st.references);
    assert_eq!(
        st.pods.iter().map(|p| p.references).sum::<u64>(),
        st.references
    );
    let mut out = Vec::new();
    stats::write_text(&mut out, name, &st, 3).unwrap();
    no_controls(&out, "stats");
    out.clear();
    stats::write_json(&mut out, name.as_bytes(), &st, 0).unwrap();
    no_controls(&out, "stats --format json");
    Ok(st.references)
}

fn compare(a: &[u8], b: &[u8]) -> Result<diff::Diff, Failure> {
    let mut sa = open("a", a)?;
    diff::compute(&mut sa, || open("b", b))
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let opts = data[0];
    let split = (u16::from_le_bytes([data[1], data[2]]) as usize).min(data.len() - 3);
    let (a, b) = data[3..].split_at(split);
    let pick = |bit: u8, v: &[u8]| (opts & bit != 0).then(|| v.to_vec());
    let filter = dump::Filter {
        pod_uid: pick(1, b"u"),
        namespace: pick(2, b"default"),
        runtime: pick(4, b"containerd"),
    };
    let ra = one_file("a", a, &filter);
    let rb = one_file("b", b, &filter);

    let d = compare(a, b);
    match (&ra, &rb) {
        (Ok(na), Ok(nb)) => {
            let d = d.expect("two whole files compare");
            let (added, removed, changed) = d.counts();
            assert_eq!(added + changed + d.unchanged, *nb);
            assert_eq!(removed + changed + d.unchanged, *na);
            for w in d.changes.windows(2) {
                assert!((&w[0].id().typ, &w[0].id().id) < (&w[1].id().typ, &w[1].id().id));
            }
            let mut out = Vec::new();
            diff::write_text(&mut out, &d).unwrap();
            no_controls(&out, "diff");
            out.clear();
            diff::write_json(&mut out, &d).unwrap();
            assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), d.changes.len());
            let same = compare(a, a).expect("a whole file compares with itself");
            assert!(same.changes.is_empty());
            assert_eq!(same.unchanged, *na);
        }
        // The first file that is not whole decides.
        (Err(e), _) | (Ok(_), Err(e)) => {
            let f = d.expect_err("a file that is not whole");
            assert_eq!((f.exit, f.message), e.clone());
        }
    }
});
