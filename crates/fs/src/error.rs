use std::fmt;
use std::path::{Path, PathBuf};

/// What kubetrust-fs was doing when the file system said no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Operation {
    /// Creating the temporary file next to the destination.
    CreateTemp,
    /// Writing and syncing the temporary file.
    Write,
    /// Setting a file's or directory's mode.
    SetPermissions,
    /// Renaming the temporary file or link over the destination.
    Rename,
    /// Linking a new file into place without replacing anything.
    CreateNew,
    /// Syncing the directory after a rename.
    SyncDir,
    /// Creating a directory.
    CreateDir,
    /// Creating a symbolic link.
    Symlink,
    /// Reading a file or a directory.
    Read,
    /// Removing a leftover temporary file or a finished commit record.
    Remove,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::CreateTemp => "create a temporary file for",
            Self::Write => "write",
            Self::SetPermissions => "set the mode of",
            Self::Rename => "rename into place",
            Self::CreateNew => "create",
            Self::SyncDir => "sync directory",
            Self::CreateDir => "create directory",
            Self::Symlink => "create symlink",
            Self::Read => "read",
            Self::Remove => "remove",
        })
    }
}

/// A failed file-system operation, naming the operation and the path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file-system call failed.
    #[error("cannot {operation} {path:?}")]
    Io {
        /// The step that failed.
        operation: Operation,
        /// The file or directory it failed on.
        path: PathBuf,
        /// What the operating system reported.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn new(operation: Operation, path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            operation,
            path: path.to_path_buf(),
            source,
        }
    }

    /// The operating system's error, for callers with an `io::Error` of their own to fill.
    pub fn into_io(self) -> std::io::Error {
        match self {
            Self::Io { source, .. } => source,
        }
    }

    /// The step that failed.
    pub fn operation(&self) -> Operation {
        match self {
            Self::Io { operation, .. } => *operation,
        }
    }

    /// The path the failed step was working on.
    pub fn path(&self) -> &Path {
        match self {
            Self::Io { path, .. } => path,
        }
    }

    /// The operating system's error kind, e.g. `AlreadyExists` from [`crate::write_new`].
    pub fn kind(&self) -> std::io::ErrorKind {
        match self {
            Self::Io { source, .. } => source.kind(),
        }
    }
}
