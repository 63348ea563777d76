//! Persistence: saving every reference to a file and loading it back after a
//! restart, so that events for containers that outlive the process keep
//! their reference (upstream lost them all on a kubelet restart).
//!
//! # File format, version 1 (all integers little-endian)
//!
//! ```text
//! header (40 bytes):
//!   magic        8 bytes  "KUBEREF\0"
//!   version      u32      1
//!   flags        u32      0 (reserved)
//!   count        u64      number of records
//!   payload_len  u64      bytes of records after the header
//!   payload_crc  u32      CRC-32 (IEEE, as zlib's crc32) of the records
//!   header_crc   u32      CRC-32 of the 36 header bytes before it
//! records (payload_len bytes), each:
//!   9 x u32 lengths: type, id, kind, namespace, name, uid, apiVersion,
//!                    resourceVersion, fieldPath
//!   the 9 strings' bytes, back to back
//! ```
//!
//! The file is exactly `40 + payload_len` bytes.
//!
//! # Atomic save
//!
//! [`RefManager::save`] writes `<path>.kuberef-tmp` in the same directory
//! (mode 0600), fsyncs it, renames it over `path` and fsyncs the directory,
//! so `path` is always either the old complete file or the new one. Saves
//! in one process are serialised; two processes must not save to the same
//! path at once. The manager is copied shard by shard (each shard one
//! consistent view, like enumeration), with no lock held during I/O.
//!
//! # Load
//!
//! [`RefManager::load`] reads and checks the whole file before changing
//! anything: a missing, foreign, wrong-version, truncated or corrupt file is
//! reported as such and the manager is left unchanged.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::container_id::ContainerIdRef;
use crate::manager::{RefManager, MAX_STR_LEN};
use crate::reference::{ObjectReferenceRef, FIELD_COUNT};
use crate::snapshot::ShardCopy;

/// The first 8 bytes of every kuberef references file.
pub const MAGIC: [u8; 8] = *b"KUBEREF\0";
/// The format version this library writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// The header's size in bytes.
pub const HEADER_LEN: usize = 40;
const PARTS: usize = 2 + FIELD_COUNT;

/// Why a load failed. The manager is unchanged in every case.
#[derive(Debug)]
pub enum LoadError {
    /// There is no file at that path.
    NotFound,
    /// The file could not be read.
    Io(io::Error),
    /// The file does not start with the kuberef magic: not a references file.
    Foreign,
    /// A references file of a format version this library does not read.
    Version(u32),
    /// The file ends before its header says it does.
    Truncated,
    /// A checksum does not match, or the contents are inconsistent.
    Corrupt,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::NotFound => f.write_str("no references file at that path"),
            LoadError::Io(e) => write!(f, "cannot read the references file: {e}"),
            LoadError::Foreign => f.write_str("not a kuberef references file"),
            LoadError::Version(v) => write!(f, "unsupported references file version {v}"),
            LoadError::Truncated => f.write_str("references file is truncated"),
            LoadError::Corrupt => f.write_str("references file is corrupt"),
        }
    }
}

impl std::error::Error for LoadError {}

/// How [`RefManager::load`] combines the file with what is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadMode {
    /// The file's references are set over the stored ones (same IDs are
    /// overwritten, others kept).
    Merge,
    /// Afterwards the manager holds exactly the file's references: they are
    /// set first, then every other reference is removed (so a reference in
    /// both is never missing to a concurrent reader).
    Replace,
}

// --- CRC-32 (IEEE 802.3, reflected, as zlib), slicing by 8 -------------------

const fn crc_tables() -> [[u32; 256]; 8] {
    let mut t = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut s = 1;
    while s < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = t[s - 1][i];
            t[s][i] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            i += 1;
        }
        s += 1;
    }
    t
}

static CRC: [[u32; 256]; 8] = crc_tables();

/// A running CRC-32.
#[derive(Clone, Copy)]
pub struct Crc32(u32);

impl Default for Crc32 {
    fn default() -> Self {
        Crc32(!0)
    }
}

impl Crc32 {
    /// Adds `data`.
    pub fn update(&mut self, data: &[u8]) {
        let mut c = self.0;
        let mut chunks = data.chunks_exact(8);
        for b in &mut chunks {
            let lo = c ^ u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            c = CRC[7][(lo & 0xff) as usize]
                ^ CRC[6][((lo >> 8) & 0xff) as usize]
                ^ CRC[5][((lo >> 16) & 0xff) as usize]
                ^ CRC[4][(lo >> 24) as usize]
                ^ CRC[3][b[4] as usize]
                ^ CRC[2][b[5] as usize]
                ^ CRC[1][b[6] as usize]
                ^ CRC[0][b[7] as usize];
        }
        for &b in chunks.remainder() {
            c = (c >> 8) ^ CRC[0][((c ^ u32::from(b)) & 0xff) as usize];
        }
        self.0 = c;
    }

    /// The checksum of everything added.
    pub fn finish(self) -> u32 {
        !self.0
    }

    /// The checksum of `data`.
    pub fn of(data: &[u8]) -> u32 {
        let mut c = Crc32::default();
        c.update(data);
        c.finish()
    }
}

// --- encoding -------------------------------------------------------------------

fn encode_record(out: &mut Vec<u8>, id: ContainerIdRef<'_>, r: ObjectReferenceRef<'_>) {
    let f = r.fields();
    let parts: [&[u8]; PARTS] = [id.typ, id.id, f[0], f[1], f[2], f[3], f[4], f[5], f[6]];
    for p in parts {
        out.extend_from_slice(&(p.len() as u32).to_le_bytes());
    }
    for p in parts {
        out.extend_from_slice(p);
    }
}

fn header(count: u64, payload_len: u64, payload_crc: u32) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(&MAGIC);
    h[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    h[12..16].copy_from_slice(&0u32.to_le_bytes());
    h[16..24].copy_from_slice(&count.to_le_bytes());
    h[24..32].copy_from_slice(&payload_len.to_le_bytes());
    h[32..36].copy_from_slice(&payload_crc.to_le_bytes());
    let hc = Crc32::of(&h[..36]);
    h[36..40].copy_from_slice(&hc.to_le_bytes());
    h
}

/// The records of a checked file, ready to apply.
pub(crate) struct Decoded<'a> {
    records: Vec<[&'a [u8]; PARTS]>,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// Checks a whole file's bytes and splits them into records.
pub(crate) fn decode(file: &[u8]) -> Result<Decoded<'_>, LoadError> {
    let n = file.len();
    if n < MAGIC.len() {
        // An empty file or a prefix of the magic is a cut-off file.
        return Err(if MAGIC.starts_with(file) {
            LoadError::Truncated
        } else {
            LoadError::Foreign
        });
    }
    if file[..8] != MAGIC {
        return Err(LoadError::Foreign);
    }
    if n < 12 {
        return Err(LoadError::Truncated);
    }
    let version = u32_at(file, 8);
    if version != FORMAT_VERSION {
        return Err(LoadError::Version(version));
    }
    if n < HEADER_LEN {
        return Err(LoadError::Truncated);
    }
    if Crc32::of(&file[..36]) != u32_at(file, 36) || u32_at(file, 12) != 0 {
        return Err(LoadError::Corrupt);
    }
    let count = u64_at(file, 16);
    let payload_len = u64_at(file, 24);
    let have = (n - HEADER_LEN) as u64;
    if have < payload_len {
        return Err(LoadError::Truncated);
    }
    if have > payload_len {
        return Err(LoadError::Corrupt);
    }
    let payload = &file[HEADER_LEN..];
    if Crc32::of(payload) != u32_at(file, 32) {
        return Err(LoadError::Corrupt);
    }
    // Every record takes at least 36 bytes: a count beyond that is a lie.
    if count > (payload.len() / (4 * PARTS)) as u64 {
        return Err(LoadError::Corrupt);
    }
    let mut records = Vec::with_capacity(count as usize);
    let mut at = 0;
    for _ in 0..count {
        if payload.len() - at < 4 * PARTS {
            return Err(LoadError::Corrupt);
        }
        let mut lens = [0usize; PARTS];
        for (k, l) in lens.iter_mut().enumerate() {
            *l = u32_at(payload, at + 4 * k) as usize;
            if *l > MAX_STR_LEN {
                return Err(LoadError::Corrupt);
            }
        }
        at += 4 * PARTS;
        if lens.iter().sum::<usize>() > payload.len() - at {
            return Err(LoadError::Corrupt);
        }
        records.push(lens.map(|l| {
            let p = &payload[at..at + l];
            at += l;
            p
        }));
    }
    if at != payload.len() {
        return Err(LoadError::Corrupt);
    }
    Ok(Decoded { records })
}

/// One save at a time in this process: the temporary file's name is fixed
/// per path, so concurrent saves must not interleave.
static SAVE_LOCK: Mutex<()> = Mutex::new(());

fn temp_path(path: &Path) -> PathBuf {
    let mut t = path.as_os_str().to_owned();
    t.push(".kuberef-tmp");
    PathBuf::from(t)
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

impl RefManager {
    /// Writes every stored reference to `path` atomically (see the module
    /// docs) and returns how many were written. On error `path` is as it was
    /// and the temporary file is removed.
    pub fn save(&self, path: &Path) -> io::Result<usize> {
        if path.as_os_str().is_empty() || path.file_name().is_none() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a file path is needed",
            ));
        }
        let _one_at_a_time = SAVE_LOCK
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let tmp = temp_path(path);
        let result = self.write_file(&tmp).and_then(|count| {
            fs::rename(&tmp, path)?;
            File::open(parent_dir(path))?.sync_all()?;
            Ok(count)
        });
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    fn write_file(&self, tmp: &Path) -> io::Result<usize> {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(tmp)?;
        // A leftover temporary file keeps its old mode: set it.
        f.set_permissions(fs::Permissions::from_mode(0o600))?;
        f.write_all(&[0u8; HEADER_LEN])?;
        let mut copy = ShardCopy::default();
        let mut chunk = Vec::new();
        let (mut count, mut payload_len, mut crc) = (0u64, 0u64, Crc32::default());
        for shard in 0..Self::SHARD_COUNT {
            copy.fill(self, shard);
            chunk.clear();
            for (id, r) in copy.iter() {
                encode_record(&mut chunk, id, r);
            }
            count += copy.len() as u64;
            payload_len += chunk.len() as u64;
            crc.update(&chunk);
            f.write_all(&chunk)?;
        }
        f.seek(SeekFrom::Start(0))?;
        f.write_all(&header(count, payload_len, crc.finish()))?;
        f.sync_all()?;
        Ok(count as usize)
    }

    /// Restores the references saved in `path` and returns how many the
    /// file held. The whole file is read and checked first; on any error the
    /// manager is unchanged.
    pub fn load(&self, path: &Path, mode: LoadMode) -> Result<usize, LoadError> {
        let mut f = File::open(path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => LoadError::NotFound,
            _ => LoadError::Io(e),
        })?;
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).map_err(LoadError::Io)?;
        let decoded = decode(&bytes)?;
        Ok(self.apply(&decoded, mode))
    }

    pub(crate) fn apply(&self, d: &Decoded<'_>, mode: LoadMode) -> usize {
        for p in &d.records {
            let id = ContainerIdRef::new(p[0], p[1]);
            let r = ObjectReferenceRef::from_fields([p[2], p[3], p[4], p[5], p[6], p[7], p[8]]);
            self.set(id, r).expect("decode checked every length");
        }
        if mode == LoadMode::Replace {
            self.retain(d.records.iter().map(|p| ContainerIdRef::new(p[0], p[1])));
        }
        d.records.len()
    }
}

/// A path given as bytes (Unix): empty or with a NUL byte is `None`.
pub fn path_from_bytes(bytes: &[u8]) -> Option<&Path> {
    if bytes.is_empty() || bytes.contains(&0) {
        None
    } else {
        Some(Path::new(OsStr::from_bytes(bytes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container_id::ContainerId;
    use crate::reference::ObjectReference;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("kuberef-persist-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn filled(n: usize, tag: &str) -> RefManager {
        let m = RefManager::new();
        for i in 0..n {
            let r = ObjectReference {
                kind: b"Pod".to_vec(),
                namespace: b"ns".to_vec(),
                name: format!("{tag}{i}").into(),
                uid: vec![0, 0xff, i as u8],
                field_path: format!("spec.containers{{{tag}}}").into(),
                ..Default::default()
            };
            m.set(
                ContainerId::new("containerd", format!("{i:x}")).as_ref(),
                r.as_ref(),
            )
            .unwrap();
        }
        m
    }

    fn sorted(m: &RefManager) -> Vec<(ContainerId, ObjectReference)> {
        let mut v = m.snapshot();
        v.sort_by(|a, b| (&a.0.typ, &a.0.id).cmp(&(&b.0.typ, &b.0.id)));
        v
    }

    #[test]
    fn crc32_known_values() {
        assert_eq!(Crc32::of(b""), 0);
        assert_eq!(Crc32::of(b"123456789"), 0xCBF4_3926);
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        let mut c = Crc32::default();
        c.update(&data[..3]);
        c.update(&data[3..]);
        assert_eq!(c.finish(), Crc32::of(&data));
    }

    #[test]
    fn save_load_round_trip_with_mode_0600() {
        let d = dir("rt");
        let p = d.join("refs");
        let a = filled(500, "a");
        assert_eq!(a.save(&p).unwrap(), 500);
        let mode = fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(!temp_path(&p).exists());
        let b = RefManager::new();
        assert_eq!(b.load(&p, LoadMode::Merge).unwrap(), 500);
        assert_eq!(sorted(&a), sorted(&b));
        let empty = RefManager::new();
        empty.save(&p).unwrap();
        assert_eq!(fs::metadata(&p).unwrap().len(), HEADER_LEN as u64);
        assert_eq!(b.load(&p, LoadMode::Merge).unwrap(), 0);
        assert_eq!(b.len(), 500, "merging nothing changes nothing");
        assert_eq!(b.load(&p, LoadMode::Replace).unwrap(), 0);
        assert!(b.is_empty(), "replacing with nothing empties");
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn merge_and_replace() {
        let d = dir("modes");
        let p = d.join("refs");
        filled(10, "file").save(&p).unwrap();
        let m = filled(20, "mem");
        m.set(
            ContainerIdRef::new(b"x", b"y"),
            ObjectReference::default().as_ref(),
        )
        .unwrap();
        assert_eq!(m.load(&p, LoadMode::Merge).unwrap(), 10);
        assert_eq!(m.len(), 21);
        let first = m.get(ContainerIdRef::new(b"containerd", b"0")).unwrap();
        assert_eq!(first.name, b"file0", "the file wins on the same ID");
        let last = m.get(ContainerIdRef::new(b"containerd", b"13")).unwrap();
        assert_eq!(last.name, b"mem19");
        assert_eq!(m.load(&p, LoadMode::Replace).unwrap(), 10);
        assert_eq!(sorted(&m), sorted(&filled(10, "file")));
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn bad_files_have_distinct_errors_and_change_nothing() {
        let d = dir("bad");
        let p = d.join("refs");
        filled(50, "x").save(&p).unwrap();
        let good = fs::read(&p).unwrap();
        let m = filled(3, "keep");
        let before = sorted(&m);
        let check = |bytes: &[u8], want: &str| {
            fs::write(&p, bytes).unwrap();
            let err = m.load(&p, LoadMode::Replace).unwrap_err();
            assert_eq!(format!("{err:?}").split('(').next().unwrap(), want, "{err}");
            assert_eq!(sorted(&m), before);
        };
        check(b"", "Truncated");
        check(b"KUBE", "Truncated");
        check(b"hello world, this is not it", "Foreign");
        check(b"KUBEREX\0aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "Foreign");
        let mut v2 = good.clone();
        v2[8] = 2;
        check(&v2, "Version");
        for cut in [9, 20, 39, 40, 41, good.len() / 2, good.len() - 1] {
            check(&good[..cut], "Truncated");
        }
        let mut longer = good.clone();
        longer.push(0);
        check(&longer, "Corrupt");
        for at in [12, 17, 30, 38, 40, 100, good.len() - 1] {
            let mut flipped = good.clone();
            flipped[at] ^= 0x10;
            check(&flipped, "Corrupt");
        }
        fs::remove_file(&p).unwrap();
        assert!(matches!(
            m.load(&p, LoadMode::Merge),
            Err(LoadError::NotFound)
        ));
        assert!(matches!(m.load(&d, LoadMode::Merge), Err(LoadError::Io(_))));
        assert_eq!(sorted(&m), before);
        fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn a_checksummed_but_inconsistent_payload_is_corrupt() {
        // Records that do not add up, with valid checksums over them.
        let mut payload = Vec::new();
        encode_record(
            &mut payload,
            ContainerIdRef::new(b"a", b"b"),
            ObjectReferenceRef::default(),
        );
        let mut file = header(2, payload.len() as u64, Crc32::of(&payload)).to_vec();
        file.extend_from_slice(&payload);
        assert!(matches!(decode(&file), Err(LoadError::Corrupt)));
        let mut file = header(1, payload.len() as u64 + 1, 0).to_vec();
        payload.push(7);
        file[32..36].copy_from_slice(&Crc32::of(&payload).to_le_bytes());
        let hc = Crc32::of(&file[..36]);
        file[36..40].copy_from_slice(&hc.to_le_bytes());
        file.extend_from_slice(&payload);
        assert!(matches!(decode(&file), Err(LoadError::Corrupt)));
    }

    #[test]
    fn save_errors_leave_the_target_alone() {
        let d = dir("saveerr");
        let m = filled(5, "a");
        assert!(m.save(&d.join("missing-dir/refs")).is_err());
        assert!(m.save(Path::new("")).is_err());
        assert!(path_from_bytes(b"a\0b").is_none());
        assert!(path_from_bytes(b"").is_none());
        fs::remove_dir_all(d).unwrap();
    }
}
