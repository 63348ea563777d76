//! Writing a snapshot file atomically, safely in a shared directory.
//!
//! A save writes a new temporary file next to the target, named
//! `<name>.kuberef-tmp.<16 hex digits>` with a random suffix, created
//! exclusively (`O_CREAT|O_EXCL|O_NOFOLLOW`: never through a link, never
//! over an existing file or a FIFO), owned and locked (`flock`) by the save,
//! mode 0600 set on its own descriptor. It is fsynced, renamed over the
//! target, and the directory is fsynced. No lock is shared between saves:
//! concurrent saves to one path, from threads or processes, each rename a
//! whole file, and the last rename wins.
//!
//! A save that fails removes its temporary file. One killed midway leaves
//! it behind; a later successful save to the same path removes such
//! leftovers once nobody holds their lock and they are [`STALE_AFTER`] old.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::crc32::Crc32;
use super::format::{encode_header, encode_record, HEADER_LEN};
use crate::enumerate::ShardCopy;
use crate::manager::RefManager;

/// What separates a target's name from the random suffix of its temporary
/// files.
pub const TEMP_TAG: &str = ".kuberef-tmp.";
/// How long a temporary file that no save holds must have been left
/// unchanged before another save removes it.
pub const STALE_AFTER: Duration = Duration::from_secs(5);
/// The longest prefix of the target's name a temporary name keeps, so that
/// it stays within `NAME_MAX` (255 bytes).
const NAME_KEPT: usize = 200;

/// Why a save failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum SaveError {
    /// Nothing was replaced: the file at the path is as it was.
    Io(io::Error),
    /// The file at the path now holds the new snapshot of `saved`
    /// references, but its directory could not be synced, so after a crash
    /// or power loss the previous file may be back.
    NotDurable { saved: usize, error: io::Error },
}

impl std::fmt::Display for SaveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SaveError::Io(e) => write!(f, "snapshot not saved: {e}"),
            SaveError::NotDurable { saved, error } => write!(
                f,
                "snapshot of {saved} references saved, but its directory could not be synced: {error}"
            ),
        }
    }
}

impl std::error::Error for SaveError {}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// `<name>.kuberef-tmp.`, with `name` cut to [`NAME_KEPT`] bytes.
fn temp_prefix(name: &OsStr) -> OsString {
    let b = name.as_bytes();
    let mut p = b[..b.len().min(NAME_KEPT)].to_vec();
    p.extend_from_slice(TEMP_TAG.as_bytes());
    OsString::from_vec(p)
}

/// Whether `name` is a temporary file name with this prefix.
fn is_temp_name(name: &OsStr, prefix: &OsStr) -> bool {
    let (n, p) = (name.as_bytes(), prefix.as_bytes());
    n.len() == p.len() + 16 && n.starts_with(p) && n[p.len()..].iter().all(u8::is_ascii_hexdigit)
}

/// 64 bits an outsider cannot predict (the operating system's generator;
/// see `random.rs` for where it gives none: names are then still unique,
/// and creation is exclusive either way).
fn random_u64() -> u64 {
    crate::random::seed()[0]
}

/// Creates a new temporary file for `name` in `dir`, exclusively and not
/// through a link, locked and with mode 0600; `names` gives the candidate
/// suffixes (a name that exists already is skipped).
fn create_temp(
    dir: &Path,
    name: &OsStr,
    names: &mut dyn FnMut() -> u64,
) -> io::Result<(PathBuf, File)> {
    let prefix = temp_prefix(name);
    for _ in 0..16 {
        let mut t = prefix.clone();
        t.push(format!("{:016x}", names()));
        let path = dir.join(t);
        let file = match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        };
        // The lock tells other saves this file is in use (best effort: a
        // file system without flock only loses that protection).
        let _ = file.lock();
        // The umask may have narrowed the mode: set it on our own file.
        if let Err(e) = file.set_permissions(fs::Permissions::from_mode(0o600)) {
            let _ = fs::remove_file(&path);
            return Err(e);
        }
        return Ok((path, file));
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no unused temporary file name",
    ))
}

/// Writes every reference of `m` to `file` as a snapshot, and fsyncs it.
fn write_snapshot(m: &RefManager, mut file: &File) -> io::Result<usize> {
    file.write_all(&[0u8; HEADER_LEN])?;
    let mut copy = ShardCopy::default();
    let mut chunk = Vec::new();
    let (mut count, mut payload_len, mut crc) = (0u64, 0u64, Crc32::default());
    for shard in 0..RefManager::SHARD_COUNT {
        copy.fill(m, shard);
        chunk.clear();
        for (id, r) in copy.iter() {
            encode_record(&mut chunk, id, r);
        }
        count += copy.len() as u64;
        payload_len += chunk.len() as u64;
        crc.update(&chunk);
        file.write_all(&chunk)?;
    }
    file.write_all_at(&encode_header(count, payload_len, crc.finish()), 0)?;
    file.sync_all()?;
    Ok(count as usize)
}

/// Removes the temporary files of `name` in `dir` that killed saves left:
/// regular files, unchanged for [`STALE_AFTER`], whose lock nobody holds.
/// Best effort: errors only leave a file in place.
fn remove_stale_temps(dir: &Path, name: &OsStr) {
    let prefix = temp_prefix(name);
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if !is_temp_name(&entry.file_name(), &prefix) {
            continue;
        }
        // Not followed: a link or a FIFO of that name is left alone.
        let Ok(meta) = entry.metadata() else { continue };
        let old = meta
            .modified()
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age >= STALE_AFTER);
        if !meta.file_type().is_file() || !old {
            continue;
        }
        let path = entry.path();
        let Ok(f) = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(&path)
        else {
            continue;
        };
        let same = f
            .metadata()
            .is_ok_and(|m| m.ino() == meta.ino() && m.dev() == meta.dev());
        if same && f.try_lock().is_ok() {
            let _ = fs::remove_file(&path);
        }
    }
}

/// Saves `m` to `path` (see the module docs), drawing temporary names from
/// `names`.
pub(super) fn save(
    m: &RefManager,
    path: &Path,
    names: &mut dyn FnMut() -> u64,
) -> Result<usize, SaveError> {
    let name = match path.file_name() {
        Some(n) if !path.as_os_str().is_empty() => n,
        _ => {
            return Err(SaveError::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a file path is needed",
            )))
        }
    };
    let dir = parent_dir(path);
    let (tmp, file) = create_temp(dir, name, names).map_err(SaveError::Io)?;
    let written = write_snapshot(m, &file).and_then(|n| fs::rename(&tmp, path).map(|()| n));
    let saved = match written {
        Ok(n) => n,
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            return Err(SaveError::Io(e));
        }
    };
    // From here on, `path` holds the new snapshot.
    drop(file);
    let synced = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NONBLOCK)
        .open(dir)
        .and_then(|d| d.sync_all());
    remove_stale_temps(dir, name);
    match synced {
        Ok(()) => Ok(saved),
        Err(error) => Err(SaveError::NotDurable { saved, error }),
    }
}

/// [`save`] with unpredictable temporary names.
pub(super) fn save_random(m: &RefManager, path: &Path) -> Result<usize, SaveError> {
    save(m, path, &mut random_u64)
}
