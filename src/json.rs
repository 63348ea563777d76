//! Event-ready JSON: a `v1.ObjectReference` (an event's `involvedObject`)
//! encoded exactly as the `encoding/json` `Marshal` of Go 1.22 and later
//! encodes it. Go before 1.22 (which built Kubernetes v1.18) and the
//! json-iterator that the v1.18 kubelet's API client encodes with write
//! backspace and form feed as `\u0008` and `\u000c` where this writes `\b`
//! and `\f`: the only difference, and the same string once decoded.
//!
//! Fields in struct order `kind, namespace, name, uid, apiVersion,
//! resourceVersion, fieldPath`, each omitted when empty (`omitempty`); no
//! whitespace. Strings are escaped as Go does with HTML escaping on (the
//! `Marshal` default): `"` and `\` with a backslash; `\b \f \n \r \t` short;
//! other bytes below 0x20 as `\u00XX` (lowercase hex); `<`, `>`, `&` as
//! `\u003c`, `\u003e`, `\u0026`; U+2028 and U+2029 as `\u2028`, `\u2029`;
//! every byte that does not start a valid UTF-8 sequence as `\ufffd`; all
//! else (DEL included) as is. A differential test against Go checks this
//! (tests/json-diff).

use crate::reference::ObjectReferenceRef;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Where JSON text goes, in pieces: a growing buffer (`Vec<u8>`), a count
/// of its bytes ([`JsonLen`], to size a buffer before writing into it), or
/// a stream the caller wraps, so that no encoding needs the whole text in
/// memory.
pub trait JsonSink {
    /// Appends `b`.
    fn put(&mut self, b: &[u8]);
}

impl JsonSink for Vec<u8> {
    fn put(&mut self, b: &[u8]) {
        self.extend_from_slice(b);
    }
}

/// A [`JsonSink`] that only counts: the length the text would have.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JsonLen(pub usize);

impl JsonSink for JsonLen {
    fn put(&mut self, b: &[u8]) {
        self.0 += b.len();
    }
}

/// The length of the valid UTF-8 sequence starting `b` (non-empty), or
/// `None` if `b[0]` does not start one (the rule of Go's
/// `utf8.DecodeRune`: surrogates, overlongs and values above U+10FFFF are
/// invalid, and so is a sequence cut short).
fn utf8_len(b: &[u8]) -> Option<usize> {
    let cont = |i: usize, lo: u8, hi: u8| b.get(i).is_some_and(|&c| (lo..=hi).contains(&c));
    let c0 = b[0];
    let (n, lo, hi) = match c0 {
        0x00..=0x7f => return Some(1),
        0xc2..=0xdf => (2, 0x80, 0xbf),
        0xe0 => (3, 0xa0, 0xbf),
        0xed => (3, 0x80, 0x9f),
        0xe1..=0xef => (3, 0x80, 0xbf),
        0xf0 => (4, 0x90, 0xbf),
        0xf4 => (4, 0x80, 0x8f),
        0xf1..=0xf3 => (4, 0x80, 0xbf),
        _ => return None,
    };
    if !cont(1, lo, hi) {
        return None;
    }
    (2..n).all(|i| cont(i, 0x80, 0xbf)).then_some(n)
}

/// Appends `s` as a Go JSON string (quotes included).
pub fn write_string(out: &mut (impl JsonSink + ?Sized), s: &[u8]) {
    out.put(b"\"");
    let mut start = 0;
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        let (esc, len): (&[u8], usize) = if b < 0x80 {
            let short: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                0x08 => b"\\b",
                0x0c => b"\\f",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                b'<' | b'>' | b'&' | 0x00..=0x1f => b"",
                _ => {
                    i += 1;
                    continue;
                }
            };
            if short.is_empty() {
                out.put(&s[start..i]);
                out.put(b"\\u00");
                out.put(&[HEX[(b >> 4) as usize], HEX[(b & 0xf) as usize]]);
                i += 1;
                start = i;
                continue;
            }
            (short, 1)
        } else {
            match utf8_len(&s[i..]) {
                None => (b"\\ufffd", 1),
                Some(3) if s[i] == 0xe2 && s[i + 1] == 0x80 && s[i + 2] == 0xa8 => (b"\\u2028", 3),
                Some(3) if s[i] == 0xe2 && s[i + 1] == 0x80 && s[i + 2] == 0xa9 => (b"\\u2029", 3),
                Some(n) => {
                    i += n;
                    continue;
                }
            }
        };
        out.put(&s[start..i]);
        out.put(esc);
        i += len;
        start = i;
    }
    out.put(&s[start..]);
    out.put(b"\"");
}

/// Appends the JSON of `r`, as Go's `json.Marshal(v1.ObjectReference)`.
pub fn write_object_reference(out: &mut (impl JsonSink + ?Sized), r: &ObjectReferenceRef<'_>) {
    out.put(b"{");
    let mut first = true;
    for (name, value) in crate::reference::FIELD_NAMES.iter().zip(r.fields()) {
        if value.is_empty() {
            continue;
        }
        if !first {
            out.put(b",");
        }
        first = false;
        out.put(b"\"");
        out.put(name.as_bytes());
        out.put(b"\":");
        write_string(out, value);
    }
    out.put(b"}");
}

/// The length of the JSON of `r`, computed without writing it.
pub fn object_reference_json_len(r: &ObjectReferenceRef<'_>) -> usize {
    let mut n = JsonLen::default();
    write_object_reference(&mut n, r);
    n.0
}

/// The JSON of `r` (see [`write_object_reference`]).
pub fn object_reference_json(r: &ObjectReferenceRef<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(object_reference_json_len(r));
    write_object_reference(&mut out, r);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(b: &[u8]) -> String {
        let mut v = Vec::new();
        write_string(&mut v, b);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn escapes_like_go() {
        assert_eq!(s(b"plain"), r#""plain""#);
        assert_eq!(s(b"a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(s(b"<a>&"), r#""\u003ca\u003e\u0026""#);
        assert_eq!(
            s(b"\x08\x0c\n\r\t\x00\x1f\x7f"),
            "\"\\b\\f\\n\\r\\t\\u0000\\u001f\x7f\""
        );
        assert_eq!(s("\u{2028}x\u{2029}".as_bytes()), r#""\u2028x\u2029""#);
        assert_eq!(s("é€😀\u{fffd}".as_bytes()), "\"é€😀\u{fffd}\"");
        // Each byte that does not start a valid sequence is one \ufffd.
        assert_eq!(s(b"\xff"), r#""\ufffd""#);
        assert_eq!(s(b"\xe2\x82A"), r#""\ufffd\ufffdA""#);
        assert_eq!(s(b"\xed\xa0\x80"), r#""\ufffd\ufffd\ufffd""#, "surrogate");
        assert_eq!(s(b"\xc0\xaf"), r#""\ufffd\ufffd""#, "overlong");
        assert_eq!(
            s(b"\xf4\x90\x80\x80"),
            r#""\ufffd\ufffd\ufffd\ufffd""#,
            "> U+10FFFF"
        );
        assert_eq!(s(b"\xf0\x9f\x98"), r#""\ufffd\ufffd\ufffd""#, "cut short");
        assert_eq!(s(b"\xe2\x80"), r#""\ufffd\ufffd""#);
    }

    #[test]
    fn omitempty_and_order() {
        let r = ObjectReferenceRef::default();
        assert_eq!(object_reference_json(&r), b"{}");
        let r = ObjectReferenceRef {
            kind: b"Pod",
            namespace: b"default",
            name: b"web-0",
            uid: b"u-1",
            api_version: b"v1",
            resource_version: b"",
            field_path: b"spec.containers{app}",
        };
        assert_eq!(
            String::from_utf8(object_reference_json(&r)).unwrap(),
            r#"{"kind":"Pod","namespace":"default","name":"web-0","uid":"u-1","apiVersion":"v1","fieldPath":"spec.containers{app}"}"#
        );
    }
}
