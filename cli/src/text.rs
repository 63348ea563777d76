//! Text for terminals: stored bytes shown safely, and aligned tables.
//!
//! A snapshot's strings are arbitrary bytes. On a terminal they are shown
//! as text with every control character and every byte that is not valid
//! UTF-8 escaped (`\n`, `\u{1b}`, `\xff`), so no stored string can move the
//! cursor or change the terminal's state, and every backslash doubled
//! (`\\`), so that an escape shown is never a stored backslash. JSON output
//! is exact instead.

use std::io::{self, Write};

/// The widest a table cell gets, in characters; longer values end in `…`.
pub const MAX_CELL: usize = 80;

/// What a table shows for an empty string.
pub const NONE: &str = "<none>";

/// Calls `emit` with each character of `b` as printable text (see the
/// module docs), until `emit` returns false.
fn escape(b: &[u8], mut emit: impl FnMut(char) -> bool) {
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            let shown = c == '\\'
                || c.is_control()
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
            if shown {
                if !c.escape_default().all(&mut emit) {
                    return;
                }
            } else if !emit(c) {
                return;
            }
        }
        for &byte in chunk.invalid() {
            let hex = |d: u8| char::from_digit(u32::from(d), 16).expect("a hex digit");
            if !['\\', 'x', hex(byte >> 4), hex(byte & 0xf)]
                .into_iter()
                .all(&mut emit)
            {
                return;
            }
        }
    }
}

/// `b` as printable text (see the module docs); empty stays empty.
pub fn printable(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    escape(b, |c| {
        out.push(c);
        true
    });
    out
}

/// `b` as a table cell: printable, `<none>` when empty (a stored `<none>`
/// shows as `\u{3c}none>`), at most [`MAX_CELL`] characters. Only the
/// characters shown are escaped, so a long value costs no more memory than
/// a short one.
pub fn cell(b: &[u8]) -> String {
    if b.is_empty() {
        return NONE.to_string();
    }
    if b == NONE.as_bytes() {
        return "\\u{3c}none>".to_string();
    }
    let mut s = String::new();
    let mut n = 0;
    escape(b, |c| {
        s.push(c);
        n += 1;
        n <= MAX_CELL
    });
    if n <= MAX_CELL {
        return s;
    }
    let mut cut: String = s.chars().take(MAX_CELL - 1).collect();
    cut.push('…');
    cut
}

/// The width of a cell in columns (one per character: East Asian wide
/// characters make a row a little wider than the others).
pub fn width(s: &str) -> usize {
    s.chars().count()
}

/// Writes one row: cells left-aligned to `widths`, three spaces apart, no
/// trailing spaces.
pub fn row<S: AsRef<str>>(out: &mut impl Write, widths: &[usize], cells: &[S]) -> io::Result<()> {
    let mut line = String::new();
    for (k, c) in cells.iter().enumerate() {
        let c = c.as_ref();
        if k > 0 {
            line.push_str("   ");
        }
        line.push_str(c);
        if k + 1 < cells.len() {
            let pad = widths.get(k).copied().unwrap_or(0).saturating_sub(width(c));
            line.extend(std::iter::repeat_n(' ', pad));
        }
    }
    out.write_all(line.trim_end_matches(' ').as_bytes())?;
    out.write_all(b"\n")
}

/// Writes a whole table: a header row, then `rows`, aligned.
pub fn table<S: AsRef<str>>(
    out: &mut impl Write,
    header: &[&str],
    rows: &[Vec<S>],
) -> io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(width(c.as_ref()));
        }
    }
    row(out, &widths, header)?;
    for r in rows {
        row(out, &widths, r)?;
    }
    Ok(())
}

/// `n` with thousands separators: 1234567 is `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (k, d) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// `n` bytes in binary units with one decimal: `1.5 MiB`; below 1 KiB, `812 B`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_what_a_terminal_would_act_on() {
        assert_eq!(printable(b"web-0"), "web-0");
        assert_eq!(printable("é€😀".as_bytes()), "é€😀");
        assert_eq!(printable(b"a\x1b[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(printable(b"a\nb\tc\x7f"), "a\\nb\\tc\\u{7f}");
        assert_eq!(printable(b"\xff\xe2\x82"), "\\xff\\xe2\\x82");
        assert_eq!(printable("\u{202e}x\u{85}".as_bytes()), "\\u{202e}x\\u{85}");
        // A stored backslash never reads as an escape.
        assert_eq!(printable(b"a\\xffb"), "a\\\\xffb");
        assert_ne!(printable(b"a\\xffb"), printable(b"a\xffb"));
    }

    #[test]
    fn cells_are_bounded_and_never_empty() {
        assert_eq!(cell(b""), NONE);
        let long = vec![b'x'; 500];
        let c = cell(&long);
        assert_eq!(c.chars().count(), MAX_CELL);
        assert!(c.ends_with('…'));
        assert_eq!(cell(&long[..MAX_CELL]), "x".repeat(MAX_CELL));
        // Escapes count as what they show.
        let escapes = vec![0x1bu8; 500];
        let c = cell(&escapes);
        assert_eq!(c.chars().count(), MAX_CELL);
        assert!(c.starts_with("\\u{1b}\\u{1b}"));
        // A stored "<none>" is not an empty field.
        assert_ne!(cell(b"<none>"), cell(b""));
        assert_eq!(cell(b"<none>"), "\\u{3c}none>");
    }

    #[test]
    fn tables_align_without_trailing_spaces() {
        let mut out = Vec::new();
        table(
            &mut out,
            &["A", "BB", "C"],
            &[vec!["xxx", "y", "z"], vec!["", "yyyy", ""]],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "A     BB     C\nxxx   y      z\n      yyyy\n"
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(bytes(812), "812 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(10 << 20), "10.0 MiB");
        assert_eq!(bytes(u64::MAX), "16.0 EiB");
    }
}
