//! `kuberef dump`: every stored reference, in file order.
//!
//! JSON lines (the default when standard output is not a terminal): one
//! object per record,
//!
//! ```text
//! {"containerID":"containerd://9b1e4c7d2a3f","reference":{"kind":"Pod",...}}
//! ```
//!
//! `containerID` is the container ID as upstream's `ContainerID.String()`
//! formats it (`type://id`, as a pod's status shows it), and `reference` is
//! byte for byte what `kuberef_ref_to_json` (the Go binding's `RefToJSON`,
//! Go's `json.Marshal`) writes for the stored reference. Both strings are
//! escaped as Go escapes them, so a byte that is not valid UTF-8 shows as
//! U+FFFD. A file that repeats a container ID lists each record (a load
//! keeps the last).
//!
//! The table (the default on a terminal) shows the same records with
//! [`text::cell`]'s escaping; it reads the file once more to size its
//! columns, so its memory does not grow with the file either.

use std::io::{Read, Seek, Write};

use kuberef::json::{write_object_reference, write_string, JsonSink};
use kuberef::{ContainerIdRef, ObjectReferenceRef};

use crate::exit::Failure;
use crate::read::Snapshot;
use crate::text;

/// Which records to show: each given field must equal its value, byte for byte.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// The reference's `uid` (the pod's UID).
    pub pod_uid: Option<Vec<u8>>,
    /// The reference's `namespace`.
    pub namespace: Option<Vec<u8>>,
    /// The container ID's type (the runtime: `containerd`, `docker`, ...).
    pub runtime: Option<Vec<u8>>,
}

impl Filter {
    /// Whether the record `(id, r)` passes.
    pub fn matches(&self, id: ContainerIdRef<'_>, r: &ObjectReferenceRef<'_>) -> bool {
        let eq = |want: &Option<Vec<u8>>, have: &[u8]| want.as_deref().is_none_or(|w| w == have);
        eq(&self.pod_uid, r.uid) && eq(&self.namespace, r.namespace) && eq(&self.runtime, id.typ)
    }
}

/// Appends the JSON line of `(id, r)` (see the module docs), newline included.
/// `scratch` is reused between calls.
pub fn json_line(
    out: &mut impl JsonSink,
    scratch: &mut Vec<u8>,
    id: ContainerIdRef<'_>,
    r: &ObjectReferenceRef<'_>,
) {
    scratch.clear();
    scratch.extend_from_slice(id.typ);
    scratch.extend_from_slice(kuberef::container_id::SEPARATOR);
    scratch.extend_from_slice(id.id);
    out.put(b"{\"containerID\":");
    write_string(out, scratch);
    out.put(b",\"reference\":");
    write_object_reference(out, r);
    out.put(b"}\n");
}

/// The table's columns.
pub const COLUMNS: [&str; 8] = [
    "CONTAINER ID",
    "NAMESPACE",
    "NAME",
    "UID",
    "FIELD PATH",
    "RESOURCE VERSION",
    "KIND",
    "API VERSION",
];

/// The table cells of `(id, r)`.
pub fn cells(id: ContainerIdRef<'_>, r: &ObjectReferenceRef<'_>) -> [String; 8] {
    [
        text::cell(&id.format()),
        text::cell(r.namespace),
        text::cell(r.name),
        text::cell(r.uid),
        text::cell(r.field_path),
        text::cell(r.resource_version),
        text::cell(r.kind),
        text::cell(r.api_version),
    ]
}

/// Writes the records of `s` that pass `filter` as JSON lines, after
/// checking the whole file, and returns how many it wrote.
pub fn json<R: Read + Seek>(
    s: &mut Snapshot<R>,
    filter: &Filter,
    out: &mut impl Write,
) -> Result<u64, Failure> {
    s.check()?;
    let mut out = Stream { out, failed: None };
    let mut scratch = Vec::new();
    let mut n = 0;
    s.read("dumping", |id, r| {
        if filter.matches(id, &r) {
            json_line(&mut out, &mut scratch, id, &r);
            n += 1;
            if let Some(e) = out.failed.take() {
                return Err(Failure::output(&e));
            }
        }
        Ok(())
    })?;
    Ok(n)
}

/// A [`JsonSink`] over a writer: each piece of a line goes straight to it
/// (the command's writer buffers), so a record's JSON, up to six times its
/// bytes, is never held whole. The first error is kept, later pieces
/// dropped.
struct Stream<'a, W: Write> {
    out: &'a mut W,
    failed: Option<std::io::Error>,
}

impl<W: Write> JsonSink for Stream<'_, W> {
    fn put(&mut self, b: &[u8]) {
        if self.failed.is_none() {
            if let Err(e) = self.out.write_all(b) {
                self.failed = Some(e);
            }
        }
    }
}

/// Writes the records of `s` that pass `filter` as an aligned table, after
/// checking the whole file, and returns how many rows it wrote.
pub fn table<R: Read + Seek>(
    s: &mut Snapshot<R>,
    filter: &Filter,
    out: &mut impl Write,
) -> Result<u64, Failure> {
    s.check()?;
    let mut widths = COLUMNS.map(text::width);
    s.read("measuring", |id, r| {
        if filter.matches(id, &r) {
            for (w, c) in widths.iter_mut().zip(cells(id, &r)) {
                *w = (*w).max(text::width(&c));
            }
        }
        Ok(())
    })?;
    text::row(out, &widths, &COLUMNS).map_err(|e| Failure::output(&e))?;
    let mut n = 0;
    s.read("dumping", |id, r| {
        if filter.matches(id, &r) {
            text::row(out, &widths, &cells(id, &r)).map_err(|e| Failure::output(&e))?;
            n += 1;
        }
        Ok(())
    })?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_line_is_the_id_and_the_exact_reference() {
        let r = ObjectReferenceRef {
            kind: b"Pod",
            namespace: b"default",
            name: b"web-0",
            uid: b"u-1",
            api_version: b"v1",
            resource_version: b"",
            field_path: b"spec.containers{app}",
        };
        let (mut out, mut scratch) = (Vec::new(), Vec::new());
        json_line(
            &mut out,
            &mut scratch,
            ContainerIdRef::new(b"containerd", b"a\"<b"),
            &r,
        );
        let mut want = br#"{"containerID":"containerd://a\"\u003cb","reference":"#.to_vec();
        want.extend_from_slice(&kuberef::json::object_reference_json(&r));
        want.extend_from_slice(b"}\n");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            String::from_utf8(want).unwrap()
        );
    }

    #[test]
    fn filters_compare_bytes() {
        let r = ObjectReferenceRef {
            namespace: b"kube-system",
            uid: b"u-1",
            ..Default::default()
        };
        let id = ContainerIdRef::new(b"docker", b"x");
        assert!(Filter::default().matches(id, &r));
        let f = |uid: Option<&[u8]>, ns: Option<&[u8]>, rt: Option<&[u8]>| Filter {
            pod_uid: uid.map(<[u8]>::to_vec),
            namespace: ns.map(<[u8]>::to_vec),
            runtime: rt.map(<[u8]>::to_vec),
        };
        assert!(f(Some(b"u-1"), Some(b"kube-system"), Some(b"docker")).matches(id, &r));
        assert!(!f(Some(b"u-2"), None, None).matches(id, &r));
        assert!(!f(None, Some(b"kube"), None).matches(id, &r));
        assert!(!f(None, None, Some(b"containerd")).matches(id, &r));
        assert!(!f(None, Some(b""), None).matches(id, &r));
    }
}
