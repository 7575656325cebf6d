//! Behaviour of the crash-safe writer: modes, no-clobber creation, symlink swaps, errors.
// A test fails by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use kubetrust_fs::{
    Mode, NewFile, Operation, TEMP_MARKER, create_dir_all, read, replace_symlink, write_atomic,
    write_atomic_all, write_new, write_new_all,
};

fn mode_of(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(TEMP_MARKER))
        .collect()
}

#[test]
fn write_atomic_sets_exact_mode_and_replaces() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("admin.conf");
    write_atomic(&path, b"old", Mode::PUBLIC).unwrap();
    assert_eq!(mode_of(&path), 0o644);
    write_atomic(&path, b"new", Mode::PRIVATE).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"new");
    assert_eq!(mode_of(&path), 0o600);
    assert!(leftovers(dir.path()).is_empty());
}

#[test]
fn write_new_refuses_an_existing_file_and_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ca.key");
    write_new(&path, b"first", Mode::PRIVATE).unwrap();
    let err = write_new(&path, b"second", Mode::PRIVATE).unwrap_err();
    assert_eq!(err.operation(), Operation::CreateNew);
    assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
    assert_eq!(err.path(), path);
    assert_eq!(std::fs::read(&path).unwrap(), b"first");
    assert_eq!(mode_of(&path), 0o600);
    assert!(leftovers(dir.path()).is_empty(), "temporary file left behind");
}

#[test]
fn missing_directory_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-dir").join("ca.crt");
    let err = write_atomic(&path, b"x", Mode::PUBLIC).unwrap_err();
    assert_eq!(err.operation(), Operation::CreateTemp);
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    let message = err.to_string();
    assert!(message.contains("no-such-dir/ca.crt"), "{message}");
}

#[test]
fn a_directory_in_the_way_is_an_error_and_stays() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubelet.conf");
    std::fs::create_dir(&path).unwrap();
    let err = write_atomic(&path, b"x", Mode::PRIVATE).unwrap_err();
    assert_eq!(err.operation(), Operation::Rename);
    assert!(path.is_dir());
    assert!(leftovers(dir.path()).is_empty());
}

#[test]
fn create_dir_all_applies_mode_to_new_directories_only() {
    let dir = tempfile::tempdir().unwrap();
    let existing = dir.path().join("etc");
    std::fs::create_dir(&existing).unwrap();
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o751)).unwrap();
    let keys = existing.join("pki").join("etcd");
    create_dir_all(&keys, Mode::PRIVATE_DIR).unwrap();
    assert_eq!(mode_of(&keys), 0o700);
    assert_eq!(mode_of(&existing.join("pki")), 0o700);
    assert_eq!(mode_of(&existing), 0o751, "an existing directory was changed");
    create_dir_all(&keys, Mode::PUBLIC_DIR).unwrap();
    assert_eq!(mode_of(&keys), 0o700, "an existing directory was changed");
}

#[test]
fn create_dir_all_refuses_a_file_in_the_way() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pki");
    std::fs::write(&file, b"").unwrap();
    let err = create_dir_all(&file.join("etcd"), Mode::PUBLIC_DIR).unwrap_err();
    assert_eq!(err.operation(), Operation::CreateDir);
}

#[test]
fn replace_symlink_swaps_link_targets_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("kubelet-client-2026-01-01-00-00-00.pem");
    let new = dir.path().join("kubelet-client-2026-11-25-00-00-00.pem");
    std::fs::write(&old, b"old").unwrap();
    std::fs::write(&new, b"new").unwrap();
    let current = dir.path().join("kubelet-client-current.pem");
    replace_symlink(&current, &old).unwrap();
    assert_eq!(std::fs::read_link(&current).unwrap(), old);
    replace_symlink(&current, &new).unwrap();
    assert_eq!(std::fs::read_link(&current).unwrap(), new);
    assert_eq!(std::fs::read(&current).unwrap(), b"new");
    assert!(leftovers(dir.path()).is_empty());
}

#[test]
fn read_names_the_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let err = read(&dir.path().join("absent.crt")).unwrap_err();
    assert_eq!(err.operation(), Operation::Read);
    assert!(err.to_string().contains("absent.crt"));
}

#[test]
fn write_new_all_creates_every_file_with_its_mode() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let (a, b, c) = (
        dir.path().join("a.crt"),
        dir.path().join("a.key"),
        dir.path().join("sub/b.key"),
    );
    write_new_all(&[
        NewFile {
            path: &a,
            contents: b"cert",
            mode: Mode::PUBLIC,
        },
        NewFile {
            path: &b,
            contents: b"key",
            mode: Mode::PRIVATE,
        },
        NewFile {
            path: &c,
            contents: b"other",
            mode: Mode::PRIVATE,
        },
    ])
    .unwrap();
    assert_eq!((read(&a).unwrap(), mode_of(&a)), (b"cert".to_vec(), 0o644));
    assert_eq!((read(&b).unwrap(), mode_of(&b)), (b"key".to_vec(), 0o600));
    assert_eq!(read(&c).unwrap(), b"other");
    assert!(leftovers(dir.path()).is_empty());
    assert!(leftovers(&dir.path().join("sub")).is_empty());
}

#[test]
fn write_new_all_stops_at_an_existing_file_and_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let (first, taken, last) = (dir.path().join("1"), dir.path().join("2"), dir.path().join("3"));
    std::fs::write(&taken, "old").unwrap();
    let err = write_new_all(&[
        NewFile {
            path: &first,
            contents: b"new",
            mode: Mode::PRIVATE,
        },
        NewFile {
            path: &taken,
            contents: b"new",
            mode: Mode::PRIVATE,
        },
        NewFile {
            path: &last,
            contents: b"new",
            mode: Mode::PRIVATE,
        },
    ])
    .unwrap_err();
    assert_eq!(err.operation(), Operation::CreateNew);
    assert_eq!(read(&taken).unwrap(), b"old");
    assert_eq!(
        read(&first).unwrap(),
        b"new",
        "files before the conflict are complete"
    );
    assert!(!last.exists(), "nothing after the conflict");
    assert!(leftovers(dir.path()).is_empty());
}

#[test]
fn write_atomic_all_replaces_every_file_with_its_mode() {
    let dir = tempfile::tempdir().unwrap();
    let (crt, key) = (dir.path().join("a.crt"), dir.path().join("a.key"));
    std::fs::write(&crt, "old cert").unwrap();
    std::fs::write(&key, "old key").unwrap();
    write_atomic_all(&[
        NewFile {
            path: &crt,
            contents: b"new cert",
            mode: Mode::PUBLIC,
        },
        NewFile {
            path: &key,
            contents: b"new key",
            mode: Mode::PRIVATE,
        },
    ])
    .unwrap();
    assert_eq!(
        (read(&crt).unwrap(), mode_of(&crt)),
        (b"new cert".to_vec(), 0o644)
    );
    assert_eq!((read(&key).unwrap(), mode_of(&key)), (b"new key".to_vec(), 0o600));
    assert!(leftovers(dir.path()).is_empty());
}

/// The regression behind it: `certs renew` wrote a certificate and then its key with two
/// separate atomic writes, so a failure (or a kill, see the root crate's crash test) between
/// them left a new certificate beside the old key. Now a file that cannot be written stops
/// the batch before anything is replaced.
#[test]
fn write_atomic_all_replaces_nothing_when_one_file_cannot_be_written() {
    let dir = tempfile::tempdir().unwrap();
    let crt = dir.path().join("a.crt");
    let key = dir.path().join("missing-dir/a.key");
    std::fs::write(&crt, "old cert").unwrap();
    let err = write_atomic_all(&[
        NewFile {
            path: &crt,
            contents: b"new cert",
            mode: Mode::PUBLIC,
        },
        NewFile {
            path: &key,
            contents: b"new key",
            mode: Mode::PRIVATE,
        },
    ])
    .unwrap_err();
    assert_eq!(err.operation(), Operation::CreateTemp);
    assert_eq!(
        read(&crt).unwrap(),
        b"old cert",
        "the certificate was replaced alone"
    );
    assert!(leftovers(dir.path()).is_empty());
}

/// A path that names a device or a huge file is refused at the limit, not read until memory
/// runs out.
#[test]
fn reads_stop_at_the_limit() {
    let error = read(Path::new("/dev/zero")).unwrap_err();
    assert_eq!(error.path(), Path::new("/dev/zero"));
    let cause = std::error::Error::source(&error).unwrap().to_string();
    assert!(cause.contains("larger than 64 MiB"), "{cause}");
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small");
    std::fs::write(&small, b"ok").unwrap();
    assert_eq!(read(&small).unwrap(), b"ok");
}

/// A batch's Debug shows where and how, never the bytes (most batches hold a private key).
#[test]
fn a_batch_file_debug_hides_its_contents() {
    let files = [(
        std::path::PathBuf::from("/etc/kubernetes/pki/ca.key"),
        b"-----BEGIN EC PRIVATE KEY-----secret".to_vec(),
        Mode::PRIVATE,
    )];
    let shown = format!("{:?}", NewFile::batch(&files));
    assert!(
        shown.contains("ca.key") && shown.contains("[36 bytes]"),
        "{shown}"
    );
    assert!(!shown.contains("secret") && !shown.contains("45, 45"), "{shown}");
}
