//! The snapshot file format (version 1) and its reader.
//!
//! ```text
//! header (40 bytes, integers little-endian):
//!   magic        8 bytes  "KUBEREF\0"
//!   version      u32      1
//!   flags        u32      0 (reserved)
//!   count        u64      number of records
//!   payload_len  u64      bytes of records after the header
//!   payload_crc  u32      CRC-32 of the records
//!   header_crc   u32      CRC-32 of the 36 header bytes before it
//! records (payload_len bytes), each:
//!   9 x u32 lengths: type, id, kind, namespace, name, uid, apiVersion,
//!                    resourceVersion, fieldPath (each at most MAX_STR_LEN)
//!   the 9 strings' bytes, back to back
//! ```
//!
//! A file is exactly `40 + payload_len` bytes. A record takes at least
//! [`MIN_RECORD`] and at most [`MAX_RECORD`] bytes, so a header whose
//! `payload_len` is outside `count` times those bounds is refused before any
//! record is read.
//!
//! [`SnapshotReader`] reads a file in bounded memory: the header is checked
//! against the file's real size first, then the records are streamed
//! through a fixed buffer; the only allocation that grows is one record's
//! bytes, and a record's length is checked against what is left of the file
//! before it is allocated.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::crc32::Crc32;
use crate::container_id::ContainerIdRef;
use crate::manager::MAX_STR_LEN;
use crate::reference::{ObjectReferenceRef, FIELD_COUNT};

/// The first 8 bytes of every snapshot file.
pub const MAGIC: [u8; 8] = *b"KUBEREF\0";
/// The format version this library writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// The header's size in bytes.
pub const HEADER_LEN: usize = 40;
/// The strings of a record: the container ID's two parts, then the
/// reference's seven fields.
pub const PARTS: usize = 2 + FIELD_COUNT;
/// The names of a record's parts, in file order.
pub const PART_NAMES: [&str; PARTS] = [
    "type",
    "id",
    "kind",
    "namespace",
    "name",
    "uid",
    "apiVersion",
    "resourceVersion",
    "fieldPath",
];
/// The smallest record: nine lengths of zero.
pub const MIN_RECORD: u64 = 4 * PARTS as u64;
/// The largest record: nine strings of [`MAX_STR_LEN`] bytes.
pub const MAX_RECORD: u64 = MIN_RECORD + PARTS as u64 * MAX_STR_LEN as u64;

/// The bytes read and checked per step of a pass over the records.
const CHUNK: usize = 128 << 10;

/// A file's header, as read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The number of records.
    pub count: u64,
    /// The bytes of records after the header.
    pub payload_len: u64,
    /// The CRC-32 of the records, as stored.
    pub payload_crc: u32,
}

/// Why a snapshot file could not be read. A load that fails leaves the
/// manager unchanged (see [`RefManager::load`](crate::RefManager::load)).
#[derive(Debug)]
#[non_exhaustive]
pub enum LoadError {
    /// There is no file at that path.
    NotFound,
    /// The operating system refused to open or read the file.
    Io(io::Error),
    /// The path is a directory, FIFO, socket or device, not a regular file.
    NotRegular,
    /// The file does not start with [`MAGIC`]: not a snapshot file.
    Foreign,
    /// A snapshot file of a format version this library does not read.
    Version(u32),
    /// The file ends before its header says it does.
    Truncated(Truncated),
    /// A checksum does not match, or the contents are inconsistent.
    Corrupt(Corrupt),
}

/// Where a file ends early: it has `len` bytes where `need` were due (the
/// header's 40 when the header itself is cut, else what the header says:
/// its payload length plus 40, or `u64::MAX` when that sum does not fit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Truncated {
    /// The bytes the file has.
    pub len: u64,
    /// The bytes it should have (at least, when `u64::MAX`).
    pub need: u64,
}

/// What is wrong with a file that is long enough.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Corrupt {
    /// The header's own checksum does not match its bytes.
    HeaderChecksum { stored: u32, computed: u32 },
    /// The reserved flags are not 0.
    Flags(u32),
    /// The file has `len` bytes, more than the `need` its header says.
    TrailingBytes { len: u64, need: u64 },
    /// The header claims more records than its payload can hold.
    Count { count: u64, payload_len: u64 },
    /// The header claims a payload longer than its records can need.
    PayloadLength { count: u64, payload_len: u64 },
    /// The records' checksum does not match.
    PayloadChecksum { stored: u32, computed: u32 },
    /// A record does not fit: record `index` (from 0), at byte `at`.
    Record {
        index: u64,
        at: u64,
        problem: RecordProblem,
    },
    /// Bytes after the last of `count` records, from byte `at`.
    ExtraBytes { at: u64, count: u64 },
    /// The file changed while it was read (a second pass disagrees with
    /// the first); a file replaced by rename, as saves do, never does.
    Changed,
}

/// What is wrong with one record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordProblem {
    /// Its nine lengths do not fit in the rest of the payload.
    LengthsPastEnd,
    /// A string is longer than [`MAX_STR_LEN`].
    PartTooLong { part: usize, len: u64 },
    /// Its strings (`len` bytes) do not fit in the rest of the payload.
    PastEnd { len: u64 },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::NotFound => f.write_str("no snapshot file at that path"),
            LoadError::Io(e) => write!(f, "cannot read the snapshot file: {e}"),
            LoadError::NotRegular => {
                f.write_str("not a regular file (a directory, FIFO, socket or device)")
            }
            LoadError::Foreign => f.write_str("not a kuberef snapshot file (no KUBEREF magic)"),
            LoadError::Version(v) => write!(
                f,
                "snapshot format version {v}; this library reads version {FORMAT_VERSION}"
            ),
            LoadError::Truncated(t) => t.fmt(f),
            LoadError::Corrupt(c) => c.fmt(f),
        }
    }
}

impl fmt::Display for Truncated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.need == HEADER_LEN as u64 {
            write!(
                f,
                "truncated at byte {}: the header alone is {HEADER_LEN} bytes",
                self.len
            )
        } else if self.need == u64::MAX {
            // Saturated: the header's payload length plus the header.
            write!(
                f,
                "truncated at byte {}: the header says the file has at least {} bytes",
                self.len, self.need
            )
        } else {
            write!(
                f,
                "truncated at byte {}: the header says the file has {} bytes",
                self.len, self.need
            )
        }
    }
}

impl fmt::Display for Corrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Corrupt::HeaderChecksum { stored, computed } => write!(
                f,
                "header checksum mismatch: stored {stored:08x}, computed {computed:08x}"
            ),
            Corrupt::Flags(x) => write!(f, "reserved header flags are {x:#x}, not 0"),
            Corrupt::TrailingBytes { len, need } => write!(
                f,
                "{} unexpected bytes at the end: the file has {len} bytes, the header says {need}",
                len - need
            ),
            Corrupt::Count { count, payload_len } => write!(
                f,
                "the header claims {count} records, more than {payload_len} payload bytes can hold"
            ),
            Corrupt::PayloadLength { count, payload_len } => write!(
                f,
                "the header claims {payload_len} payload bytes, more than {count} records can need"
            ),
            Corrupt::PayloadChecksum { stored, computed } => write!(
                f,
                "payload checksum mismatch: stored {stored:08x}, computed {computed:08x}"
            ),
            Corrupt::Record { index, at, problem } => {
                write!(f, "record {index} at byte {at}: ")?;
                match problem {
                    RecordProblem::LengthsPastEnd => {
                        f.write_str("its lengths run past the end of the payload")
                    }
                    RecordProblem::PartTooLong { part, len } => write!(
                        f,
                        "its {} is {len} bytes, over the {MAX_STR_LEN}-byte limit",
                        PART_NAMES[*part]
                    ),
                    RecordProblem::PastEnd { len } => {
                        write!(
                            f,
                            "its {len} bytes of strings run past the end of the payload"
                        )
                    }
                }
            }
            Corrupt::ExtraBytes { at, count } => {
                write!(
                    f,
                    "bytes after the last of the {count} records, from byte {at}"
                )
            }
            Corrupt::Changed => f.write_str("the file changed while it was being read"),
        }
    }
}

impl std::error::Error for LoadError {}

impl From<Truncated> for LoadError {
    fn from(t: Truncated) -> Self {
        LoadError::Truncated(t)
    }
}

impl From<Corrupt> for LoadError {
    fn from(c: Corrupt) -> Self {
        LoadError::Corrupt(c)
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// The header of a file with `count` records of `payload_len` bytes whose
/// CRC-32 is `payload_crc`.
pub fn encode_header(count: u64, payload_len: u64, payload_crc: u32) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(&MAGIC);
    h[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    h[16..24].copy_from_slice(&count.to_le_bytes());
    h[24..32].copy_from_slice(&payload_len.to_le_bytes());
    h[32..36].copy_from_slice(&payload_crc.to_le_bytes());
    let hc = Crc32::of(&h[..36]);
    h[36..40].copy_from_slice(&hc.to_le_bytes());
    h
}

/// Appends the record of `(id, r)` to `out`.
pub fn encode_record(out: &mut Vec<u8>, id: ContainerIdRef<'_>, r: ObjectReferenceRef<'_>) {
    let f = r.fields();
    let parts: [&[u8]; PARTS] = [id.typ, id.id, f[0], f[1], f[2], f[3], f[4], f[5], f[6]];
    for p in parts {
        out.extend_from_slice(&(p.len() as u32).to_le_bytes());
    }
    for p in parts {
        out.extend_from_slice(p);
    }
}

/// Checks the first bytes of a file of `len` bytes (`head`: its first
/// [`HEADER_LEN`] bytes, or all of them if it is shorter) and returns its
/// header. Everything that can be judged without reading the records is
/// judged here, in this order: magic, version, header checksum, flags, the
/// file's size against the header, the record count and payload length
/// against each other.
pub fn decode_header(head: &[u8], len: u64) -> Result<Header, LoadError> {
    let n = head.len();
    let cut = || Truncated {
        len,
        need: HEADER_LEN as u64,
    };
    if n < MAGIC.len() {
        // An empty file or a prefix of the magic is a cut-off file.
        return Err(if MAGIC.starts_with(head) {
            cut().into()
        } else {
            LoadError::Foreign
        });
    }
    if head[..8] != MAGIC {
        return Err(LoadError::Foreign);
    }
    if n < 12 {
        return Err(cut().into());
    }
    let version = u32_at(head, 8);
    if version != FORMAT_VERSION {
        return Err(LoadError::Version(version));
    }
    if n < HEADER_LEN {
        return Err(cut().into());
    }
    let (stored, computed) = (u32_at(head, 36), Crc32::of(&head[..36]));
    if stored != computed {
        return Err(Corrupt::HeaderChecksum { stored, computed }.into());
    }
    let flags = u32_at(head, 12);
    if flags != 0 {
        return Err(Corrupt::Flags(flags).into());
    }
    let h = Header {
        count: u64_at(head, 16),
        payload_len: u64_at(head, 24),
        payload_crc: u32_at(head, 32),
    };
    // A sum past u64::MAX is more than any file has: saturated, it is
    // still judged a truncation, as every payload length the file lacks is.
    let need = h.payload_len.saturating_add(HEADER_LEN as u64);
    if len < need {
        return Err(Truncated { len, need }.into());
    }
    if len > need {
        return Err(Corrupt::TrailingBytes { len, need }.into());
    }
    if h.count > h.payload_len / MIN_RECORD {
        return Err(Corrupt::Count {
            count: h.count,
            payload_len: h.payload_len,
        }
        .into());
    }
    if h.count.saturating_mul(MAX_RECORD) < h.payload_len {
        return Err(Corrupt::PayloadLength {
            count: h.count,
            payload_len: h.payload_len,
        }
        .into());
    }
    Ok(h)
}

/// A snapshot whose header has been checked against its size, ready to
/// be verified and read record by record.
#[derive(Debug)]
pub struct SnapshotReader<R> {
    src: R,
    header: Header,
    len: u64,
    /// A pass over every record found the file whole.
    verified: bool,
}

impl SnapshotReader<File> {
    /// Opens the snapshot file at `path` (following symbolic links) without
    /// blocking, and without opening anything but a regular file: anything
    /// else is [`LoadError::NotRegular`] (opening a device or a FIFO can
    /// have effects; one the caller may not open is still not a regular
    /// file). See [`open_regular`] for how, and for the one case where a
    /// special file can be opened (never blocking, still refused). Then
    /// checks the header against the file's size (see [`decode_header`]).
    pub fn open(path: &Path) -> Result<Self, LoadError> {
        let file = open_regular(path)?;
        let meta = file.metadata().map_err(LoadError::Io)?;
        if !meta.is_file() {
            return Err(LoadError::NotRegular);
        }
        SnapshotReader::new(file, meta.len())
    }
}

/// The regular file at `path`, opened for reading without blocking.
///
/// On Linux the path is resolved (following links) to an `O_PATH`
/// descriptor, which opens nothing, that descriptor's type is checked, and
/// that same file is opened through `/proc/self/fd`: the path changing
/// meanwhile changes nothing. Where that reopening fails or does not give
/// the same file (no `/proc`), and on other systems, the path is checked,
/// then opened: a path changed in between to a special file then has it
/// opened (without blocking), and the caller's check of the descriptor
/// refuses it.
fn open_regular(path: &Path) -> Result<File, LoadError> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt;
        use std::os::unix::io::AsRawFd;
        let handle = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH)
            .open(path)
            .map_err(open_error)?;
        let meta = handle.metadata().map_err(LoadError::Io)?;
        if !meta.is_file() {
            return Err(LoadError::NotRegular);
        }
        let through = format!("/proc/self/fd/{}", handle.as_raw_fd());
        if let Ok(file) = read_nonblocking(Path::new(&through)) {
            if let Ok(m) = file.metadata() {
                if (m.dev(), m.ino()) == (meta.dev(), meta.ino()) {
                    return Ok(file);
                }
            }
        }
    }
    // Other errors (a directory on the way that cannot be searched, a loop
    // of links) are left to the open, which reports them.
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => return Err(LoadError::NotRegular),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(LoadError::NotFound),
        _ => {}
    }
    read_nonblocking(path).map_err(open_error)
}

/// `path` opened for reading, without waiting for a FIFO's writer or a
/// device, and never as a controlling terminal.
fn read_nonblocking(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

/// The load error of a failed open.
fn open_error(e: io::Error) -> LoadError {
    match e.kind() {
        io::ErrorKind::NotFound => LoadError::NotFound,
        // open(2) of a Unix socket.
        _ if e.raw_os_error() == Some(libc::ENXIO) => LoadError::NotRegular,
        _ => LoadError::Io(e),
    }
}

impl<R: Read + Seek> SnapshotReader<R> {
    /// Reads and checks the header of `src`, a snapshot of `len` bytes
    /// positioned at its start. Up to [`HEADER_LEN`] bytes are read whatever
    /// `len` says (a file in `/proc` or `/sys` reports a size of 0), so that
    /// a file is judged by the bytes it starts with.
    pub fn new(mut src: R, len: u64) -> Result<Self, LoadError> {
        let mut head = [0u8; HEADER_LEN];
        let mut n = 0;
        while n < HEADER_LEN {
            match src.read(&mut head[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(LoadError::Io(e)),
            }
        }
        // A file that shrank under us is judged by what could be read, one
        // that reports fewer bytes than it has by no more than its size.
        let len = if n < HEADER_LEN {
            n as u64
        } else {
            len.max(n as u64)
        };
        let header = decode_header(&head[..n], len)?;
        Ok(SnapshotReader {
            src,
            header,
            len,
            verified: false,
        })
    }

    /// The checked header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The file's size in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file has no bytes (never true of a reader that opened).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Checks every record's lengths and the payload's checksum, reading
    /// the file once through a fixed buffer; allocates nothing per record.
    /// Stops at the first record that does not fit, or at bytes after the
    /// last record, so a file that lies is never read further than that;
    /// the checksum is checked when every record fits.
    pub fn verify(&mut self) -> Result<(), LoadError> {
        self.walk(None)?;
        self.verified = true;
        Ok(())
    }

    /// Calls `f(at, id, reference)` for each record, in file order (`at`:
    /// the record's byte offset), and returns how many there were. The
    /// records are checked as they are read, but `f` sees a record before
    /// the checksum at the end has been checked: call [`verify`](Self::verify)
    /// first to apply nothing from a damaged file. A failure here after a
    /// successful `verify` is [`Corrupt::Changed`] (the file changed between
    /// the two passes), or [`LoadError::Io`] if a read failed.
    pub fn for_each_record(
        &mut self,
        mut f: impl FnMut(u64, ContainerIdRef<'_>, ObjectReferenceRef<'_>),
    ) -> Result<u64, LoadError> {
        match self.walk(Some(&mut f)) {
            Err(LoadError::Io(e)) => Err(LoadError::Io(e)),
            Err(_) if self.verified => Err(Corrupt::Changed.into()),
            result => result,
        }
    }

    fn walk(&mut self, mut visit: Option<&mut RecordVisitor<'_>>) -> Result<u64, LoadError> {
        self.src
            .seek(SeekFrom::Start(HEADER_LEN as u64))
            .map_err(LoadError::Io)?;
        let h = self.header;
        let mut p = Payload {
            r: BufReader::with_capacity(CHUNK, &mut self.src),
            crc: Crc32::default(),
            at: HEADER_LEN as u64,
            end: HEADER_LEN as u64 + h.payload_len,
        };
        let mut body = Vec::new();
        let mut index = 0;
        while index < h.count {
            let at = p.at;
            let lens = p.lengths(index)?;
            let total: u64 = lens.iter().sum();
            match visit.as_mut() {
                None => p.skip(total)?,
                Some(f) => {
                    // `total` fits in what is left of the file (checked by
                    // `lengths`), so this allocation is bounded by its size.
                    body.clear();
                    body.resize(total as usize, 0);
                    p.read_exact(&mut body)?;
                    let mut start = 0;
                    let parts = lens.map(|l| {
                        let s = &body[start..start + l as usize];
                        start += l as usize;
                        s
                    });
                    let [typ, id, fields @ ..] = parts;
                    f(
                        at,
                        ContainerIdRef { typ, id },
                        ObjectReferenceRef::from_fields(fields),
                    );
                }
            }
            index += 1;
        }
        if p.at < p.end {
            return Err(Corrupt::ExtraBytes {
                at: p.at,
                count: h.count,
            }
            .into());
        }
        let computed = p.crc.finish();
        if computed != h.payload_crc {
            return Err(Corrupt::PayloadChecksum {
                stored: h.payload_crc,
                computed,
            }
            .into());
        }
        Ok(index)
    }
}

/// What [`SnapshotReader::for_each_record`] calls with each record.
type RecordVisitor<'f> = dyn FnMut(u64, ContainerIdRef<'_>, ObjectReferenceRef<'_>) + 'f;

/// The payload of a file being read: its checksum so far, and where the
/// next byte is.
struct Payload<'a, R> {
    r: BufReader<&'a mut R>,
    crc: Crc32,
    at: u64,
    end: u64,
}

impl<R: Read> Payload<'_, R> {
    fn eof(&self) -> LoadError {
        // The file shrank after its size was taken.
        Truncated {
            len: self.at,
            need: self.end,
        }
        .into()
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), LoadError> {
        self.r.read_exact(buf).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => self.eof(),
            _ => LoadError::Io(e),
        })?;
        self.crc.update(buf);
        self.at += buf.len() as u64;
        Ok(())
    }

    fn skip(&mut self, mut n: u64) -> Result<(), LoadError> {
        while n > 0 {
            let buf = match self.r.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(LoadError::Io(e)),
            };
            if buf.is_empty() {
                return Err(self.eof());
            }
            let k = buf.len().min(usize::try_from(n).unwrap_or(usize::MAX));
            self.crc.update(&buf[..k]);
            self.r.consume(k);
            self.at += k as u64;
            n -= k as u64;
        }
        Ok(())
    }

    /// The nine lengths of record `index`, each checked against the limit
    /// and together against the rest of the payload.
    fn lengths(&mut self, index: u64) -> Result<[u64; PARTS], LoadError> {
        let at = self.at;
        let bad = |problem| Err(Corrupt::Record { index, at, problem }.into());
        if self.end - self.at < MIN_RECORD {
            return bad(RecordProblem::LengthsPastEnd);
        }
        let mut raw = [0u8; 4 * PARTS];
        self.read_exact(&mut raw)?;
        let mut lens = [0u64; PARTS];
        for (k, l) in lens.iter_mut().enumerate() {
            *l = u64::from(u32_at(&raw, 4 * k));
            if *l > MAX_STR_LEN as u64 {
                return bad(RecordProblem::PartTooLong { part: k, len: *l });
            }
        }
        let total: u64 = lens.iter().sum();
        if total > self.end - self.at {
            return bad(RecordProblem::PastEnd { len: total });
        }
        Ok(lens)
    }
}
