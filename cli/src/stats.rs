//! `kuberef stats`: what a snapshot holds, in numbers.
//!
//! The file's size and record count, then the references a load would
//! restore (a file that repeats a container ID restores the last record of
//! each): how many, the memory they take once loaded (what
//! `kuberef_get_stats` reports as `bytes` for a manager holding exactly
//! them), references per runtime (the container ID's type) and per pod
//! (grouped by the reference's `uid`), and the pods with the most.

use std::collections::HashMap;
use std::io::{Read, Seek, Write};
use std::ops::ControlFlow;

use kuberef::json::write_string;
use kuberef::persist::HEADER_LEN;
use kuberef::RefManager;

use crate::exit::Failure;
use crate::read::Snapshot;
use crate::text::{self, thousands};

/// One pod's references.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pod {
    pub uid: Vec<u8>,
    /// The namespace and name of the pod's first reference seen.
    pub namespace: Vec<u8>,
    pub name: Vec<u8>,
    pub references: u64,
}

/// A snapshot's numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// The file's size, and its records' part of it.
    pub bytes: u64,
    pub payload_bytes: u64,
    /// Records in the file, and the largest one's size.
    pub records: u64,
    pub largest_record: u64,
    /// References a load restores (distinct container IDs).
    pub references: u64,
    /// Their memory once loaded into a manager (`kuberef_get_stats` bytes).
    pub loaded_bytes: u64,
    /// References per runtime, most first (then by name).
    pub runtimes: Vec<(Vec<u8>, u64)>,
    /// Every pod, most references first (then by UID).
    pub pods: Vec<Pod>,
}

impl Stats {
    /// The fewest, median and most references of a pod (zeros without pods).
    pub fn per_pod(&self) -> (u64, u64, u64) {
        let n = self.pods.len();
        if n == 0 {
            return (0, 0, 0);
        }
        // Sorted by descending count: the last is the fewest.
        (
            self.pods[n - 1].references,
            self.pods[n / 2].references,
            self.pods[0].references,
        )
    }
}

/// Reads `s` (after checking it whole) and computes its numbers.
pub fn compute<R: Read + Seek>(s: &mut Snapshot<R>) -> Result<Stats, Failure> {
    let records = s.check()?;
    let manager = RefManager::new();
    let mut largest_record = 0;
    s.read("reading", |id, r| {
        let size = (4 * kuberef::persist::PARTS + id.typ.len() + id.id.len()) as u64
            + r.fields().iter().map(|f| f.len() as u64).sum::<u64>();
        largest_record = largest_record.max(size);
        manager.set(id, r).expect("the reader checked every length");
        Ok(())
    })?;
    let mut runtimes: HashMap<Vec<u8>, u64> = HashMap::new();
    let mut pods: HashMap<Vec<u8>, Pod> = HashMap::new();
    manager.for_each_ref(|id, r| {
        *runtimes.entry(id.typ.to_vec()).or_default() += 1;
        pods.entry(r.uid.to_vec())
            .or_insert_with(|| Pod {
                uid: r.uid.to_vec(),
                namespace: r.namespace.to_vec(),
                name: r.name.to_vec(),
                references: 0,
            })
            .references += 1;
        ControlFlow::Continue(())
    });
    let mut runtimes: Vec<_> = runtimes.into_iter().collect();
    runtimes.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut pods: Vec<_> = pods.into_values().collect();
    pods.sort_by(|a, b| {
        b.references
            .cmp(&a.references)
            .then_with(|| a.uid.cmp(&b.uid))
    });
    Ok(Stats {
        bytes: s.reader.len(),
        payload_bytes: s.reader.header().payload_len,
        records,
        largest_record,
        references: manager.len() as u64,
        loaded_bytes: manager.stats().bytes,
        runtimes,
        pods,
    })
}

/// How many of `n` items a list of at most `top` shows (`top` 0: all).
fn shown(n: usize, top: usize) -> usize {
    if top == 0 {
        n
    } else {
        n.min(top)
    }
}

/// Writes `st` for a terminal: a summary, the runtimes and the `top` largest
/// pods (`top` 0: every runtime and pod).
pub fn write_text(out: &mut impl Write, name: &str, st: &Stats, top: usize) -> std::io::Result<()> {
    writeln!(out, "{name}")?;
    let repeats = if st.references < st.records {
        format!(
            " ({} container IDs; a load keeps the last record of each)",
            thousands(st.references)
        )
    } else {
        String::new()
    };
    writeln!(
        out,
        "  records              {}{repeats}",
        thousands(st.records)
    )?;
    writeln!(
        out,
        "  file size            {} ({} bytes: {HEADER_LEN}-byte header, {} bytes of records; largest record {} bytes)",
        text::bytes(st.bytes),
        thousands(st.bytes),
        thousands(st.payload_bytes),
        thousands(st.largest_record)
    )?;
    writeln!(
        out,
        "  memory once loaded   {} ({} bytes, as kuberef_get_stats counts them)",
        text::bytes(st.loaded_bytes),
        thousands(st.loaded_bytes)
    )?;
    let (min, median, max) = st.per_pod();
    writeln!(
        out,
        "  pods                 {} (references per pod: fewest {min}, median {median}, most {max})",
        thousands(st.pods.len() as u64)
    )?;
    writeln!(out, "  runtimes             {}", st.runtimes.len())?;
    if st.runtimes.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    let n = shown(st.runtimes.len(), top);
    let rows: Vec<Vec<String>> = st.runtimes[..n]
        .iter()
        .map(|(rt, c)| vec![text::cell(rt), thousands(*c)])
        .collect();
    text::table(out, &["RUNTIME", "REFERENCES"], &rows)?;
    writeln!(out)?;
    let n = shown(st.pods.len(), top);
    writeln!(
        out,
        "Pods with the most references ({} of {}):",
        thousands(n as u64),
        thousands(st.pods.len() as u64)
    )?;
    let rows: Vec<Vec<String>> = st.pods[..n]
        .iter()
        .map(|p| {
            vec![
                text::cell(&p.namespace),
                text::cell(&p.name),
                text::cell(&p.uid),
                thousands(p.references),
            ]
        })
        .collect();
    text::table(out, &["NAMESPACE", "NAME", "UID", "REFERENCES"], &rows)
}

/// Writes `st` as one JSON object on one line (strings escaped as Go
/// escapes them; lists limited to `top` as in [`write_text`]):
///
/// ```text
/// {"file":F,"bytes":N,"payloadBytes":N,"records":N,"largestRecordBytes":N,
///  "references":N,"loadedBytes":N,"pods":N,
///  "referencesPerPod":{"min":N,"median":N,"max":N},
///  "runtimes":[{"runtime":S,"references":N},...],
///  "largestPods":[{"namespace":S,"name":S,"uid":S,"references":N},...]}
/// ```
pub fn write_json(
    out: &mut impl Write,
    file: &[u8],
    st: &Stats,
    top: usize,
) -> std::io::Result<()> {
    let mut o = Vec::new();
    o.extend_from_slice(b"{\"file\":");
    write_string(&mut o, file);
    let (min, median, max) = st.per_pod();
    o.extend_from_slice(
        format!(
            ",\"bytes\":{},\"payloadBytes\":{},\"records\":{},\"largestRecordBytes\":{},\"references\":{},\"loadedBytes\":{},\"pods\":{},\"referencesPerPod\":{{\"min\":{min},\"median\":{median},\"max\":{max}}},\"runtimes\":[",
            st.bytes,
            st.payload_bytes,
            st.records,
            st.largest_record,
            st.references,
            st.loaded_bytes,
            st.pods.len()
        )
        .as_bytes(),
    );
    for (k, (rt, c)) in st.runtimes[..shown(st.runtimes.len(), top)]
        .iter()
        .enumerate()
    {
        if k > 0 {
            o.push(b',');
        }
        o.extend_from_slice(b"{\"runtime\":");
        write_string(&mut o, rt);
        o.extend_from_slice(format!(",\"references\":{c}}}").as_bytes());
    }
    o.extend_from_slice(b"],\"largestPods\":[");
    for (k, p) in st.pods[..shown(st.pods.len(), top)].iter().enumerate() {
        if k > 0 {
            o.push(b',');
        }
        o.extend_from_slice(b"{\"namespace\":");
        write_string(&mut o, &p.namespace);
        o.extend_from_slice(b",\"name\":");
        write_string(&mut o, &p.name);
        o.extend_from_slice(b",\"uid\":");
        write_string(&mut o, &p.uid);
        o.extend_from_slice(format!(",\"references\":{}}}", p.references).as_bytes());
    }
    o.extend_from_slice(b"]}\n");
    out.write_all(&o)
}
