//! `kuberef verify`: whether a snapshot file is whole.
//!
//! It makes every check a load makes (magic, version, header CRC-32,
//! reserved flags, the size against the header, the record count against
//! the payload, every record's lengths, the records' CRC-32), in the same
//! order, and stops at the first failure, which is returned with its exit
//! status (see [`crate::exit`]). A whole file gets a short report.

use std::io::{Read, Seek, Write};

use kuberef::persist::{encode_header, FORMAT_VERSION, HEADER_LEN};

use crate::exit::Failure;
use crate::read::Snapshot;
use crate::text::thousands;

/// What a whole file holds, as `verify` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Report {
    pub records: u64,
    pub bytes: u64,
    pub payload_bytes: u64,
    pub header_crc: u32,
    pub payload_crc: u32,
}

/// Checks `s` whole and returns what it found.
pub fn check<R: Read + Seek>(s: &mut Snapshot<R>) -> Result<Report, Failure> {
    let records = s.check()?;
    let h = *s.reader.header();
    // The header was checked: it is exactly what encoding its fields gives,
    // so the stored header CRC-32 is the encoded one.
    let head = encode_header(h.count, h.payload_len, h.payload_crc);
    Ok(Report {
        records,
        bytes: s.reader.len(),
        payload_bytes: h.payload_len,
        header_crc: u32::from_le_bytes(head[36..40].try_into().expect("4 bytes")),
        payload_crc: h.payload_crc,
    })
}

/// Writes the report of the whole file `name`.
pub fn write(out: &mut impl Write, name: &str, r: &Report) -> std::io::Result<()> {
    writeln!(out, "{name}: whole")?;
    writeln!(out, "  format version   {FORMAT_VERSION}")?;
    writeln!(out, "  records          {}", thousands(r.records))?;
    writeln!(
        out,
        "  size             {} bytes ({HEADER_LEN}-byte header, {} bytes of records)",
        thousands(r.bytes),
        thousands(r.payload_bytes)
    )?;
    writeln!(out, "  header CRC-32    {:08x} (matches)", r.header_crc)?;
    writeln!(out, "  records CRC-32   {:08x} (matches)", r.payload_crc)
}
