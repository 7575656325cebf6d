//! Commit records that make a batch all-or-nothing across a crash.
//!
//! A batch ([`write_new_all`](crate::write_new_all), [`write_atomic_all`](crate::write_atomic_all))
//! first makes every file durable under a temporary name. Then one small record, written
//! atomically, names where each temporary file goes: from that moment the batch is committed.
//! The files are moved into place, and the record is removed. A crash while they are moved
//! leaves the record, and [`recover`] finishes the moves; a crash before the record exists
//! leaves only temporary files, and [`recover`] removes them. Either way a certificate is
//! never left without its key.
//!
//! The record lives in the batch's deepest common directory, named
//! `.kubetrust-batch-<unique>`: a line `kubetrust-batch 1`, then per file its operation
//! (`link`: create, never replace; `rename`: replace), its temporary name and its final name,
//! relative to the record's directory, each ended by a NUL byte (paths may hold newlines).

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use crate::temp::TEMP_MARKER;
use crate::{Error, Operation};

/// Part of the name of every commit record.
const RECORD_MARKER: &str = "kubetrust-batch-";
const HEADER: &[u8] = b"kubetrust-batch 1\n";

/// How a temporary file goes into place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Move {
    /// Hard link: the final name must not exist (create, never replace).
    Link,
    /// Rename over whatever is there (replace).
    Rename,
}

impl Move {
    fn word(self) -> &'static [u8] {
        match self {
            Self::Link => b"link",
            Self::Rename => b"rename",
        }
    }
}

/// A committed batch whose moves are under way.
pub(crate) struct Commit {
    record: PathBuf,
}

/// Writes the commit record of a batch: `(move, temporary path, final path)` per file.
pub(crate) fn commit(moves: &[(Move, &Path, &Path)]) -> Result<Commit, Error> {
    let dir = common_dir(moves.iter().map(|(_, _, to)| *to));
    let mut record = HEADER.to_vec();
    for (how, from, to) in moves {
        for field in [
            how.word(),
            relative(from, &dir).as_bytes(),
            relative(to, &dir).as_bytes(),
        ] {
            record.extend_from_slice(field);
            record.push(0);
        }
    }
    let record_path = dir.join(format!(".{RECORD_MARKER}{}", crate::temp::unique()));
    crate::write_atomic(&record_path, &record, crate::Mode::PRIVATE)?;
    Ok(Commit { record: record_path })
}

impl Commit {
    /// Every file is in place and its directory synced: the record can go.
    pub(crate) fn finish(self) -> Result<(), Error> {
        remove_record(&self.record)
    }
}

/// What [`recover`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recovered {
    /// Files a committed batch had not yet moved into place, now in place.
    pub completed: Vec<PathBuf>,
    /// Temporary files of batches or writes that never committed, now removed.
    pub removed: Vec<PathBuf>,
}

/// Finishes what a crash interrupted in `dir` and its direct subdirectories (a certificate
/// directory and its `etcd/`): committed batches are completed, then the temporary files
/// of writes that never committed are removed. Temporary files of processes that are still
/// running are left alone. Call it before reading a directory that kubetrust-fs writes in
/// batches; a directory that does not exist has nothing to recover.
pub fn recover(dir: &Path) -> Result<Recovered, Error> {
    let mut recovered = Recovered::default();
    let mut dirs = vec![dir.to_path_buf()];
    dirs.extend(subdirectories(dir)?);
    for dir in &dirs {
        let records = entries_named(dir, |name| {
            name.starts_with(&format!(".{RECORD_MARKER}")) && !name.contains(TEMP_MARKER)
        })?;
        for record in records {
            recovered.completed.extend(replay(dir, &record)?);
        }
    }
    for dir in &dirs {
        for temp in entries_named(dir, |name| name.starts_with('.') && name.contains(TEMP_MARKER))? {
            if !written_by_live_process(&temp) {
                fs::remove_file(&temp).map_err(|e| Error::new(Operation::Remove, &temp, e))?;
                recovered.removed.push(temp);
            }
        }
    }
    Ok(recovered)
}

/// Completes the moves of one record, then removes it. A record that cannot be read in full
/// is removed without moving anything: it was never committed (records are written atomically,
/// so this is a record some other program damaged).
fn replay(dir: &Path, record: &Path) -> Result<Vec<PathBuf>, Error> {
    let bytes = fs::read(record).map_err(|e| Error::new(Operation::Read, record, e))?;
    let mut completed = Vec::new();
    if let Some(moves) = parse(&bytes) {
        for (how, from, to) in moves {
            let (from, to) = (dir.join(from), dir.join(to));
            if fs::symlink_metadata(&from).is_err() {
                continue; // moved before the crash
            }
            match how {
                Move::Rename => {
                    fs::rename(&from, &to).map_err(|e| Error::new(Operation::Rename, &to, e))?;
                    completed.push(to.clone());
                }
                Move::Link => {
                    if fs::symlink_metadata(&to).is_err() {
                        fs::hard_link(&from, &to).map_err(|e| Error::new(Operation::CreateNew, &to, e))?;
                        completed.push(to.clone());
                    }
                    fs::remove_file(&from).map_err(|e| Error::new(Operation::Remove, &from, e))?;
                }
            }
            crate::sync_parent(&to)?;
        }
    }
    remove_record(record)?;
    Ok(completed)
}

fn parse(bytes: &[u8]) -> Option<Vec<(Move, &OsStr, &OsStr)>> {
    let body = bytes.strip_prefix(HEADER)?;
    let fields: Vec<&[u8]> = body.strip_suffix(b"\0")?.split(|b| *b == 0).collect();
    if !fields.len().is_multiple_of(3) {
        return None;
    }
    fields
        .chunks_exact(3)
        .map(|entry| {
            let how = match *entry.first()? {
                b"link" => Move::Link,
                b"rename" => Move::Rename,
                _ => return None,
            };
            let (from, to) = (OsStr::from_bytes(entry.get(1)?), OsStr::from_bytes(entry.get(2)?));
            // Only names inside the record's directory tree: a damaged record must not move
            // files anywhere else.
            let inside = |p: &OsStr| {
                !p.is_empty()
                    && Path::new(p)
                        .components()
                        .all(|c| matches!(c, Component::Normal(_)))
            };
            (inside(from) && inside(to)).then_some((how, from, to))
        })
        .collect()
}

fn remove_record(record: &Path) -> Result<(), Error> {
    fs::remove_file(record).map_err(|e| Error::new(Operation::Remove, record, e))?;
    crate::sync_parent(record)
}

/// The deepest directory that holds every path (lexically); `.` when they share none.
fn common_dir<'a>(paths: impl Iterator<Item = &'a Path>) -> PathBuf {
    let mut common: Option<PathBuf> = None;
    for path in paths {
        let parent = crate::parent_dir(path);
        common = Some(match common {
            None => parent.to_path_buf(),
            Some(dir) => dir
                .components()
                .zip(parent.components())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect(),
        });
    }
    common
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."))
}

fn relative<'a>(path: &'a Path, dir: &Path) -> &'a OsStr {
    path.strip_prefix(dir).map_or(path.as_os_str(), Path::as_os_str)
}

fn subdirectories(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    Ok(read_dir(dir)?
        .into_iter()
        .filter(|path| fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()))
        .collect())
}

/// Files (or links) of `dir` whose name passes `wanted`.
fn entries_named(dir: &Path, wanted: impl Fn(&str) -> bool) -> Result<Vec<PathBuf>, Error> {
    Ok(read_dir(dir)?
        .into_iter()
        .filter(|path| {
            path.file_name().and_then(OsStr::to_str).is_some_and(&wanted)
                && fs::symlink_metadata(path).is_ok_and(|m| !m.is_dir())
        })
        .collect())
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    match fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|entry| entry.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(|e| Error::new(Operation::Read, dir, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::new(Operation::Read, dir, e)),
    }
}

/// Whether the process that named this temporary file (`...kubetrust-tmp-<pid>-...`) still
/// runs, or is this one: its write may be under way. Unknown means yes.
fn written_by_live_process(temp: &Path) -> bool {
    let pid = temp
        .file_name()
        .and_then(OsStr::to_str)
        .and_then(|name| name.split(TEMP_MARKER).nth(1))
        .and_then(|unique| unique.split('-').next())
        .and_then(|pid| pid.parse::<u32>().ok());
    let proc = Path::new("/proc");
    match pid {
        Some(pid) if pid != std::process::id() && proc.join("self").exists() => {
            proc.join(pid.to_string()).exists()
        }
        _ => true,
    }
}
