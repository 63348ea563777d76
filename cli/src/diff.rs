//! `kuberef diff A B`: how the references a load of B restores differ from
//! those a load of A restores.
//!
//! A container ID in B but not in A is *added*, in A but not in B
//! *removed*, in both with a reference that differs in any field
//! *changed*; a file that repeats a container ID counts its last record, as
//! a load does. Changes are listed by container ID (type, then ID, byte
//! order). Both files are checked whole, A first, before anything is listed.

use std::io::{Read, Seek, Write};
use std::ops::ControlFlow;

use kuberef::json::{write_object_reference, write_string};
use kuberef::reference::FIELD_NAMES;
use kuberef::{ContainerId, ObjectReference, RefManager};

use crate::exit::Failure;
use crate::read::Snapshot;
use crate::text::{self, thousands};

/// One difference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Added(ContainerId, ObjectReference),
    Removed(ContainerId, ObjectReference),
    Changed {
        id: ContainerId,
        before: ObjectReference,
        after: ObjectReference,
    },
}

impl Change {
    pub fn id(&self) -> &ContainerId {
        match self {
            Change::Added(id, _) | Change::Removed(id, _) | Change::Changed { id, .. } => id,
        }
    }
}

/// The differences between two snapshots.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diff {
    /// Sorted by container ID.
    pub changes: Vec<Change>,
    /// Container IDs with the same reference in both.
    pub unchanged: u64,
}

impl Diff {
    /// (added, removed, changed)
    pub fn counts(&self) -> (u64, u64, u64) {
        let mut c = (0, 0, 0);
        for ch in &self.changes {
            match ch {
                Change::Added(..) => c.0 += 1,
                Change::Removed(..) => c.1 += 1,
                Change::Changed { .. } => c.2 += 1,
            }
        }
        c
    }
}

/// The references a load of `s` restores, in a manager of their own.
fn load<R: Read + Seek>(s: &mut Snapshot<R>) -> Result<RefManager, Failure> {
    let m = RefManager::new();
    s.read("reading", |id, r| {
        m.set(id, r).expect("the reader checked every length");
        Ok(())
    })?;
    Ok(m)
}

/// Checks `a` whole, then opens B with `open_b` and checks it whole, then
/// compares them: the first file in that order that is not whole decides
/// the failure.
pub fn compute<R: Read + Seek, S: Read + Seek>(
    a: &mut Snapshot<R>,
    open_b: impl FnOnce() -> Result<Snapshot<S>, Failure>,
) -> Result<Diff, Failure> {
    a.check()?;
    let mut b = open_b()?;
    b.check()?;
    let (ma, mb) = (load(a)?, load(&mut b)?);
    let mut d = Diff::default();
    mb.for_each_ref(|id, r| {
        match ma.get(id) {
            None => d.changes.push(Change::Added(id.to_owned(), r.to_owned())),
            Some(before) if before.as_ref() != r => d.changes.push(Change::Changed {
                id: id.to_owned(),
                before,
                after: r.to_owned(),
            }),
            Some(_) => d.unchanged += 1,
        }
        ControlFlow::Continue(())
    });
    ma.for_each_ref(|id, r| {
        if !mb.contains(id) {
            d.changes.push(Change::Removed(id.to_owned(), r.to_owned()));
        }
        ControlFlow::Continue(())
    });
    d.changes
        .sort_by(|x, y| (&x.id().typ, &x.id().id).cmp(&(&y.id().typ, &y.id().id)));
    Ok(d)
}

/// The POD column: `namespace/name`, a `/` inside the namespace escaped so
/// that the first `/` shown is the separator.
fn pod(r: &ObjectReference) -> String {
    let namespace = text::cell(&r.namespace).replace('/', "\\u{2f}");
    format!("{namespace}/{}", text::cell(&r.name))
}

/// The fields that differ, as `name: before -> after`.
fn changed_fields(before: &ObjectReference, after: &ObjectReference) -> String {
    let (b, a) = (before.as_ref().fields(), after.as_ref().fields());
    let mut parts = Vec::new();
    for k in 0..FIELD_NAMES.len() {
        if b[k] != a[k] {
            parts.push(format!(
                "{}: {} -> {}",
                FIELD_NAMES[k],
                text::cell(b[k]),
                text::cell(a[k])
            ));
        }
    }
    parts.join("; ")
}

/// Writes `d` for a terminal: a table of the changes and a summary line.
pub fn write_text(out: &mut impl Write, d: &Diff) -> std::io::Result<()> {
    let (added, removed, changed) = d.counts();
    if d.changes.is_empty() {
        return writeln!(
            out,
            "no differences ({} references)",
            thousands(d.unchanged)
        );
    }
    let rows: Vec<Vec<String>> = d
        .changes
        .iter()
        .map(|c| match c {
            Change::Added(id, r) => vec![
                "added".into(),
                text::cell(&id.as_ref().format()),
                pod(r),
                text::cell(&r.field_path),
            ],
            Change::Removed(id, r) => vec![
                "removed".into(),
                text::cell(&id.as_ref().format()),
                pod(r),
                text::cell(&r.field_path),
            ],
            Change::Changed { id, before, after } => vec![
                "changed".into(),
                text::cell(&id.as_ref().format()),
                pod(after),
                changed_fields(before, after),
            ],
        })
        .collect();
    text::table(
        out,
        &[
            "CHANGE",
            "CONTAINER ID",
            "POD",
            "FIELD PATH OR CHANGED FIELDS",
        ],
        &rows,
    )?;
    writeln!(
        out,
        "{} added, {} removed, {} changed, {} unchanged",
        thousands(added),
        thousands(removed),
        thousands(changed),
        thousands(d.unchanged)
    )
}

/// Writes `d` as JSON lines, one per change:
///
/// ```text
/// {"change":"added","containerID":S,"reference":{...}}
/// {"change":"removed","containerID":S,"reference":{...}}
/// {"change":"changed","containerID":S,"before":{...},"after":{...}}
/// ```
///
/// with strings and references as `dump` writes them.
pub fn write_json(out: &mut impl Write, d: &Diff) -> std::io::Result<()> {
    let mut o = Vec::new();
    for c in &d.changes {
        let kind: &[u8] = match c {
            Change::Added(..) => b"added",
            Change::Removed(..) => b"removed",
            Change::Changed { .. } => b"changed",
        };
        o.extend_from_slice(b"{\"change\":\"");
        o.extend_from_slice(kind);
        o.extend_from_slice(b"\",\"containerID\":");
        write_string(&mut o, &c.id().as_ref().format());
        match c {
            Change::Added(_, r) | Change::Removed(_, r) => {
                o.extend_from_slice(b",\"reference\":");
                write_object_reference(&mut o, &r.as_ref());
            }
            Change::Changed { before, after, .. } => {
                o.extend_from_slice(b",\"before\":");
                write_object_reference(&mut o, &before.as_ref());
                o.extend_from_slice(b",\"after\":");
                write_object_reference(&mut o, &after.as_ref());
            }
        }
        o.extend_from_slice(b"}\n");
        if o.len() >= 1 << 16 {
            out.write_all(&o)?;
            o.clear();
        }
    }
    out.write_all(&o)
}
