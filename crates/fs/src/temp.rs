//! Temporary siblings: created beside their destination so a rename never crosses file systems.

use std::fs::{self, OpenOptions};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{Error, Mode, Operation};

/// Part of the name of every temporary file kubetrust-fs creates, so stale ones left by a crash
/// can be recognised: `.<file name>.kubetrust-tmp-<unique>`.
pub const TEMP_MARKER: &str = "kubetrust-tmp-";

/// A temporary file that is removed on drop unless [`TempFile::disarm`] says it was renamed.
pub(crate) struct TempFile {
    path: PathBuf,
    armed: bool,
}

impl TempFile {
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The file now lives under another name; nothing to clean up.
    pub(crate) fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Creates a temporary sibling of `dest` with `mode`, writes `contents` and syncs it.
pub(crate) fn write_synced(dest: &Path, contents: &[u8], mode: Mode) -> Result<TempFile, Error> {
    let path = sibling_name(dest)?;
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode.bits())
        .open(&path)
        .map_err(|e| Error::new(Operation::CreateTemp, dest, e))?;
    let temp = TempFile { path, armed: true };
    // The umask may have removed bits from the creation mode; set exactly what was asked.
    file.set_permissions(fs::Permissions::from_mode(mode.bits()))
        .map_err(|e| Error::new(Operation::SetPermissions, dest, e))?;
    crate::write_all_synced(&mut file, contents).map_err(|e| Error::new(Operation::Write, dest, e))?;
    Ok(temp)
}

/// A fresh, unused name in `dest`'s directory.
pub(crate) fn sibling_name(dest: &Path) -> Result<PathBuf, Error> {
    let file_name = dest.file_name().ok_or_else(|| {
        Error::new(
            Operation::CreateTemp,
            dest,
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "path has no file name"),
        )
    })?;
    let mut name = std::ffi::OsString::from(".");
    name.push(file_name);
    name.push(".");
    name.push(TEMP_MARKER);
    name.push(unique());
    Ok(crate::parent_dir(dest).join(name))
}

/// `<pid>-<counter>-<nanoseconds>`: unique among this process's names, and it names the
/// process, so that recovery can tell a crashed writer's leftovers from a running one's.
pub(crate) fn unique() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
