//! Container IDs: `{type, id}` pairs such as `containerd://0123abcd`.
//!
//! Semantics follow Kubernetes v1.18.6 `pkg/kubelet/container/runtime.go`:
//! parsing trims every leading and trailing `"` and then needs exactly one
//! `://` separator (exactly two parts); formatting is `type + "://" + id`.
//! Both fields are arbitrary bytes and compare byte for byte.

use std::fmt;

/// The separator between the runtime type and the runtime's container ID.
pub const SEPARATOR: &[u8] = b"://";

/// A borrowed container ID: views of the runtime type and the ID.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ContainerIdRef<'a> {
    /// The runtime name, for example `containerd` or `docker`.
    pub typ: &'a [u8],
    /// The runtime's own container ID.
    pub id: &'a [u8],
}

/// An owned container ID.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct ContainerId {
    /// The runtime name, for example `containerd` or `docker`.
    pub typ: Vec<u8>,
    /// The runtime's own container ID.
    pub id: Vec<u8>,
}

/// The error of [`parse`]: the text is not `type://id` (after quote trimming).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidContainerId;

impl fmt::Display for InvalidContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid container ID: expected exactly one \"://\" separator")
    }
}

impl std::error::Error for InvalidContainerId {}

impl<'a> ContainerIdRef<'a> {
    /// A view of `typ` and `id`.
    pub fn new(typ: &'a [u8], id: &'a [u8]) -> Self {
        ContainerIdRef { typ, id }
    }

    /// Both fields empty (upstream `IsEmpty`).
    pub fn is_empty(&self) -> bool {
        self.typ.is_empty() && self.id.is_empty()
    }

    /// The length of `type://id` in bytes.
    pub fn formatted_len(&self) -> usize {
        self.typ.len() + SEPARATOR.len() + self.id.len()
    }

    /// `type://id` (upstream `String`).
    pub fn format(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.formatted_len());
        out.extend_from_slice(self.typ);
        out.extend_from_slice(SEPARATOR);
        out.extend_from_slice(self.id);
        out
    }

    /// An owned copy.
    pub fn to_owned(&self) -> ContainerId {
        ContainerId {
            typ: self.typ.to_vec(),
            id: self.id.to_vec(),
        }
    }
}

impl ContainerId {
    /// An owned ID from anything byte-like (upstream `BuildContainerID`).
    pub fn new(typ: impl Into<Vec<u8>>, id: impl Into<Vec<u8>>) -> Self {
        ContainerId {
            typ: typ.into(),
            id: id.into(),
        }
    }

    /// A borrowed view of this ID.
    pub fn as_ref(&self) -> ContainerIdRef<'_> {
        ContainerIdRef {
            typ: &self.typ,
            id: &self.id,
        }
    }
}

impl fmt::Debug for ContainerIdRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ContainerId({:?})",
            String::from_utf8_lossy(&self.format())
        )
    }
}

impl fmt::Debug for ContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_ref().fmt(f)
    }
}

impl fmt::Display for ContainerIdRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.format()))
    }
}

impl fmt::Display for ContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_ref().fmt(f)
    }
}

/// Finds the first occurrence of `needle` in `hay` at or after `from`.
fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Parses `type://id` (upstream `ParseString`): every leading and trailing `"`
/// is trimmed first, then the text must contain the separator exactly once
/// (non-overlapping occurrences, as Go's `strings.Split` counts them).
/// The result borrows from `text`.
pub fn parse(text: &[u8]) -> Result<ContainerIdRef<'_>, InvalidContainerId> {
    let start = text.iter().position(|&b| b != b'"').unwrap_or(text.len());
    let end = text
        .iter()
        .rposition(|&b| b != b'"')
        .map_or(start, |p| p + 1);
    let trimmed = &text[start..end];
    let at = find(trimmed, SEPARATOR, 0).ok_or(InvalidContainerId)?;
    let rest = at + SEPARATOR.len();
    if find(trimmed, SEPARATOR, rest).is_some() {
        return Err(InvalidContainerId);
    }
    Ok(ContainerIdRef {
        typ: &trimmed[..at],
        id: &trimmed[rest..],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str, typ: &str, id: &str) {
        let got = parse(text.as_bytes()).unwrap_or_else(|_| panic!("{text:?} should parse"));
        assert_eq!(
            got,
            ContainerIdRef::new(typ.as_bytes(), id.as_bytes()),
            "{text:?}"
        );
    }

    #[test]
    fn parse_matches_upstream_cases() {
        ok("docker://abc", "docker", "abc");
        ok("\"docker://abc\"", "docker", "abc");
        ok("\"\"\"containerd://x\"\"", "containerd", "x");
        ok("://", "", "");
        ok("docker://", "docker", "");
        ok("://abc", "", "abc");
        ok(":///", "", "/");
        ok("a:///b", "a", "/b");
    }

    #[test]
    fn parse_rejects_what_upstream_rejects() {
        for bad in [
            "",
            "\"",
            "\"\"",
            "abc",
            "docker:/abc",
            "a://b://c",
            "docker:// ://",
            "a::/b",
            ":/",
            "://://",
            "a:\0//b",
        ] {
            assert_eq!(parse(bad.as_bytes()), Err(InvalidContainerId), "{bad:?}");
        }
    }

    #[test]
    fn parse_keeps_inner_quotes_and_whitespace() {
        ok(" docker://a\"b ", " docker", "a\"b ");
        ok("\"a\"://\"b\"", "a\"", "\"b");
    }

    #[test]
    fn format_and_empty() {
        let id = ContainerId::new("containerd", "0123");
        assert_eq!(id.as_ref().format(), b"containerd://0123");
        assert_eq!(ContainerId::default().as_ref().format(), b"://");
        assert!(ContainerId::default().as_ref().is_empty());
        assert!(!ContainerId::new("docker", "").as_ref().is_empty());
        assert_eq!(id.to_string(), "containerd://0123");
    }

    #[test]
    fn format_then_parse_round_trips_when_unambiguous() {
        let id = ContainerId::new("cri-o", "a/b:c");
        let text = id.as_ref().format();
        assert_eq!(parse(&text).unwrap(), id.as_ref());
    }
}
