//! The one crash-safe file writer of kubetrust.
//!
//! Certificates, keys and kubeconfigs are what a cluster runs on: a write torn by a crash or a
//! power cut leaves a node that cannot join or a control plane that cannot start. Every file
//! kubetrust writes therefore goes through this crate, which follows one recipe:
//!
//! 1. create a temporary file *in the same directory*, already carrying its final mode (so a key
//!    is never readable by others, not even for a moment);
//! 2. write the bytes and `fsync` the file;
//! 3. `rename` it over the destination (atomic on POSIX file systems);
//! 4. `fsync` the directory so the rename itself survives a crash.
//!
//! A crash at any point leaves either the old file or the new one, never a mixture. A crash may
//! leave a temporary file behind; its name starts with `.` and contains [`TEMP_MARKER`].
//!
//! ```
//! # fn main() -> Result<(), kubetrust_fs::Error> {
//! # let dir = tempfile::tempdir().unwrap();
//! use kubetrust_fs::{write_atomic, Mode};
//! let key = dir.path().join("ca.key");
//! write_atomic(&key, b"-----BEGIN RSA PRIVATE KEY-----\n...", Mode::PRIVATE)?;
//! # use std::os::unix::fs::PermissionsExt;
//! assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
//! # Ok(()) }
//! ```

#![cfg(unix)]

mod error;
mod journal;
mod mode;
mod temp;

use std::fs::{self, File};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub use error::{Error, Operation};
use journal::Move;
pub use journal::{Recovered, recover};
pub use mode::Mode;
pub use temp::TEMP_MARKER;

/// Atomically replaces (or creates) `path` with `contents`, leaving it with exactly `mode`.
///
/// The parent directory must exist. An existing file at `path` is replaced; use
/// [`write_new`] where an existing file must never be touched.
pub fn write_atomic(path: &Path, contents: &[u8], mode: Mode) -> Result<(), Error> {
    let temp = temp::write_synced(path, contents, mode)?;
    fs::rename(temp.path(), path).map_err(|e| Error::new(Operation::Rename, path, e))?;
    temp.disarm();
    sync_parent(path)
}

/// Atomically creates `path` with `contents` and `mode`, failing with
/// [`Operation::CreateNew`] (kind `AlreadyExists`) if anything already exists there.
///
/// Other processes never see a partial file: the content is written and synced under a
/// temporary name, then hard-linked into place, which fails instead of replacing.
pub fn write_new(path: &Path, contents: &[u8], mode: Mode) -> Result<(), Error> {
    let temp = temp::write_synced(path, contents, mode)?;
    fs::hard_link(temp.path(), path).map_err(|e| Error::new(Operation::CreateNew, path, e))?;
    drop(temp); // removes the temporary name; the data lives on under `path`
    sync_parent(path)
}

/// One file of a [`write_new_all`] batch.
#[derive(Clone, Copy)]
pub struct NewFile<'a> {
    /// Where the file goes; nothing may exist there.
    pub path: &'a Path,
    /// Its bytes.
    pub contents: &'a [u8],
    /// Its exact mode.
    pub mode: Mode,
}

impl<'a> NewFile<'a> {
    /// The batch of `(path, contents, mode)` triples, the shape callers collect files in
    /// (contents often in a wiping buffer: keys, kubeconfigs with credentials).
    pub fn batch<C: AsRef<[u8]>>(files: &'a [(PathBuf, C, Mode)]) -> Vec<Self> {
        files
            .iter()
            .map(|(path, contents, mode)| NewFile {
                path,
                contents: contents.as_ref(),
                mode: *mode,
            })
            .collect()
    }
}

/// The contents are left out: most batches hold a private key.
impl std::fmt::Debug for NewFile<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewFile")
            .field("path", &self.path)
            .field("contents", &format_args!("[{} bytes]", self.contents.len()))
            .field("mode", &self.mode)
            .finish()
    }
}

/// Creates every file as [`write_new`] does, with the same guarantees per file, but writes and
/// syncs the temporary files concurrently and syncs each directory once: the file system can
/// then commit the whole batch in a few journal transactions instead of two per file (a
/// kubeadm tree is thirty files).
///
/// The batch is all or nothing across a crash: once every file is durable under a temporary
/// name, a commit record is written (see [`recover`]), then the files are linked into place in
/// order. A crash before the record leaves none of them; a crash after it leaves a record that
/// [`recover`] completes. On an error nothing more is created; files already linked stay, each
/// one complete.
pub fn write_new_all(files: &[NewFile<'_>]) -> Result<(), Error> {
    if files.is_empty() {
        return Ok(());
    }
    let temps = write_temps(files)?;
    let commit = commit_moves(Move::Link, &temps, files)?;
    let linked = temps.iter().zip(files).try_for_each(|(temp, file)| {
        fs::hard_link(temp.path(), file.path).map_err(|e| Error::new(Operation::CreateNew, file.path, e))
    });
    drop(temps); // removes the temporary names; the data lives on under the final paths
    let synced = linked.and_then(|()| sync_dirs(files));
    // On an error the record goes too: what was not linked is gone with its temporary file.
    let finished = commit.finish();
    synced.and(finished)
}

/// Replaces (or creates) every file as [`write_atomic`] does, but only after all of them are
/// written and synced under temporary names, then renames them in order and syncs each
/// directory once.
///
/// For files that belong together (a certificate and its key) the batch is all or nothing
/// across a crash, as for [`write_new_all`]: a crash between two renames leaves a commit
/// record that [`recover`] completes. On an error before the renames, nothing is replaced.
pub fn write_atomic_all(files: &[NewFile<'_>]) -> Result<(), Error> {
    if files.is_empty() {
        return Ok(());
    }
    let temps = write_temps(files)?;
    let commit = commit_moves(Move::Rename, &temps, files)?;
    let renamed = temps.into_iter().zip(files).try_for_each(|(temp, file)| {
        fs::rename(temp.path(), file.path).map_err(|e| Error::new(Operation::Rename, file.path, e))?;
        temp.disarm();
        Ok(())
    });
    let synced = renamed.and_then(|()| sync_dirs(files));
    let finished = commit.finish();
    synced.and(finished)
}

/// The commit record of a batch whose temporary files are all durable.
fn commit_moves(
    how: Move,
    temps: &[temp::TempFile],
    files: &[NewFile<'_>],
) -> Result<journal::Commit, Error> {
    let moves: Vec<(Move, &Path, &Path)> = temps
        .iter()
        .zip(files)
        .map(|(temp, file)| (how, temp.path(), file.path))
        .collect();
    journal::commit(&moves)
}

/// Writes and syncs a temporary sibling of every file, concurrently.
fn write_temps(files: &[NewFile<'_>]) -> Result<Vec<temp::TempFile>, Error> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .iter()
            .map(|f| scope.spawn(move || temp::write_synced(f.path, f.contents, f.mode)))
            .collect();
        handles
            .into_iter()
            .zip(files)
            .map(|(handle, f)| {
                handle.join().unwrap_or_else(|_| {
                    Err(Error::new(
                        Operation::Write,
                        f.path,
                        std::io::Error::other("writer thread panicked"),
                    ))
                })
            })
            .collect()
    })
}

/// Syncs each directory of `files` once.
fn sync_dirs(files: &[NewFile<'_>]) -> Result<(), Error> {
    let mut dirs: Vec<&Path> = Vec::new();
    for file in files {
        let dir = parent_dir(file.path);
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    dirs.into_iter().try_for_each(sync_dir)
}

/// Creates `path` and any missing parents, each new directory with `mode`.
///
/// Directories that already exist are left as they are (as kubeadm does); a non-directory in
/// the way is an error.
pub fn create_dir_all(path: &Path, mode: Mode) -> Result<(), Error> {
    if path.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(mode.bits())
        .create(path)
        .map_err(|e| Error::new(Operation::CreateDir, path, e))?;
    // The process umask may have masked bits away; the caller asked for exactly `mode`.
    fs::set_permissions(path, fs::Permissions::from_mode(mode.bits()))
        .map_err(|e| Error::new(Operation::SetPermissions, path, e))?;
    sync_parent(path)
}

/// Atomically points the symlink `link` at `target`, replacing whatever `link` was.
///
/// This is how the kubelet's certificate store swaps `kubelet-client-current.pem`: a reader
/// following the link sees the old target or the new one, never a missing file.
pub fn replace_symlink(link: &Path, target: &Path) -> Result<(), Error> {
    let temp_link = temp::sibling_name(link)?;
    std::os::unix::fs::symlink(target, &temp_link).map_err(|e| Error::new(Operation::Symlink, link, e))?;
    if let Err(e) = fs::rename(&temp_link, link) {
        let _ = fs::remove_file(&temp_link);
        return Err(Error::new(Operation::Rename, link, e));
    }
    sync_parent(link)
}

/// The largest file [`read`] reads: far above any certificate, key, kubeconfig or testcp
/// snapshot, far below what exhausts memory when a path names a device (`/dev/zero`).
pub const READ_LIMIT: u64 = 64 * 1024 * 1024;

/// Reads a whole file of at most [`READ_LIMIT`] bytes, with an error that names the path.
pub fn read(path: &Path) -> Result<Vec<u8>, Error> {
    let error = |e| Error::new(Operation::Read, path, e);
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|file| file.take(READ_LIMIT + 1).read_to_end(&mut bytes))
        .map_err(error)?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > READ_LIMIT {
        let message = format!("larger than {} MiB", READ_LIMIT >> 20);
        return Err(error(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            message,
        )));
    }
    Ok(bytes)
}

/// Removes the file `path` and syncs its directory, so the removal survives a crash; `false`
/// when there was nothing to remove.
pub fn remove(path: &Path) -> Result<bool, Error> {
    match fs::remove_file(path) {
        Ok(()) => sync_parent(path).map(|()| true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::new(Operation::Remove, path, e)),
    }
}

/// Makes a completed rename, creation or removal in `path`'s directory durable.
fn sync_parent(path: &Path) -> Result<(), Error> {
    sync_dir(parent_dir(path))
}

fn sync_dir(dir: &Path) -> Result<(), Error> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::new(Operation::SyncDir, dir, e))
}

/// The directory holding `path` (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Writes all of `contents` and syncs it to disk.
fn write_all_synced(file: &mut File, contents: &[u8]) -> std::io::Result<()> {
    file.write_all(contents)?;
    file.sync_all()
}
