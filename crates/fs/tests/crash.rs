//! Crash safety: a child process rewrites files in a loop and is killed (SIGKILL) at random
//! moments, 200 times per kind of write. After every kill, a single file must be wholly one of
//! the versions the child writes, with that version's mode; after `recover`, a pair written as
//! one batch (`write_atomic_all`, files in two directories) must hold one version in both
//! files, and a batch of new files (`write_new_all`) must exist whole or not at all, with no
//! temporary file or commit record left. Runs with `harness = false`: the same binary is the
//! child.
// A test fails by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kubetrust_fs::{
    Mode, NewFile, TEMP_MARKER, create_dir_all, recover, write_atomic, write_atomic_all, write_new_all,
};

const CHILD_ENV: &str = "KUBETRUST_FS_CRASH_CHILD";
const KIND_ENV: &str = "KUBETRUST_FS_CRASH_KIND";
const KILLS: usize = 200;
/// Large enough that a write spans many syscalls and pages.
const VERSION_LEN: usize = 256 * 1024;

/// Version `n` of the file: its mode and its bytes (each byte derived from `n`).
fn version(n: u8) -> (Mode, Vec<u8>) {
    let mode = if n.is_multiple_of(2) {
        Mode::PRIVATE
    } else {
        Mode::PUBLIC
    };
    (mode, vec![b'a' + n % 26; VERSION_LEN])
}

/// The pair of one batch: a certificate in the directory and its key in a subdirectory.
fn pair(dir: &Path) -> [PathBuf; 2] {
    [dir.join("server.crt"), dir.join("etcd").join("server.key")]
}

/// The same version of both files of a pair, as one batch.
fn batch<'a>(a: &'a Path, b: &'a Path, bytes: &'a [u8], mode: Mode) -> [NewFile<'a>; 2] {
    [a, b].map(|path| NewFile {
        path,
        contents: bytes,
        mode,
    })
}

fn child(path: &Path, kind: &str) -> ! {
    let mut n: u8 = 0;
    loop {
        let (mode, bytes) = version(n);
        let written = match kind {
            "single" => write_atomic(path, &bytes, mode),
            "pair" => {
                let [a, b] = pair(path);
                write_atomic_all(&batch(&a, &b, &bytes, mode))
            }
            _ => {
                // A fresh directory per batch: `write_new_all` never replaces.
                let dir = path.join(n.to_string());
                let [a, b] = pair(&dir);
                create_dir_all(&dir.join("etcd"), Mode::PUBLIC_DIR)
                    .and_then(|()| write_new_all(&batch(&a, &b, &bytes, mode)))
            }
        };
        if let Err(e) = written {
            eprintln!("child: {e}");
            std::process::exit(3);
        }
        n = n.wrapping_add(1);
        if kind == "new" && n == 0 {
            std::process::exit(0); // 256 directories are enough for one round
        }
    }
}

/// A small xorshift generator seeded from the clock; the seed is printed for reproduction.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The version a file holds, checked whole and with its mode.
fn check(path: &Path, round: usize) -> u8 {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("round {round}: read {path:?}: {e}"));
    let first = *bytes
        .first()
        .unwrap_or_else(|| panic!("round {round}: file is empty"));
    let n = first - b'a';
    let (mode, expected) = version(n);
    assert!(
        bytes == expected,
        "round {round}: torn file (starts with {:?}, {} bytes)",
        first as char,
        bytes.len()
    );
    let actual = std::fs::metadata(path).unwrap().permissions().mode() & 0o7777;
    assert_eq!(actual, mode.bits(), "round {round}: wrong mode for version {n}");
    n
}

/// After `recover(dir)`: no temporary file or commit record is left in `dir` or `dir/etcd`.
fn check_clean(dir: &Path, round: usize) {
    for dir in [dir.to_path_buf(), dir.join("etcd")] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            assert!(
                !name.contains(TEMP_MARKER) && !name.contains("kubetrust-batch"),
                "round {round}: {name} left in {dir:?} after recover"
            );
        }
    }
}

/// Kills a child writing `kind` at `path` at a random moment.
fn kill_child(exe: &Path, path: &Path, kind: &str, rng: &mut Rng, round: usize) {
    let mut child = Command::new(exe)
        .env(CHILD_ENV, path)
        .env(KIND_ENV, kind)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_micros(rng.next() % 30_000));
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(
        status.code() != Some(3),
        "round {round}: the child's write failed"
    );
}

fn parent() {
    let dir = tempfile::tempdir().unwrap();
    let seed = std::env::var("KUBETRUST_FS_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64 | 1);
    println!("crash test: {KILLS} kills per kind, seed {seed} (KUBETRUST_FS_CRASH_SEED to repeat)");
    let mut rng = Rng(seed);
    let exe = std::env::current_exe().unwrap();

    let single: PathBuf = dir.path().join("kubelet.conf");
    let (mode, bytes) = version(0);
    write_atomic(&single, &bytes, mode).unwrap();
    for round in 0..KILLS {
        kill_child(&exe, &single, "single", &mut rng, round);
        check(&single, round);
    }

    let pki = dir.path().join("pki");
    create_dir_all(&pki.join("etcd"), Mode::PUBLIC_DIR).unwrap();
    let [a, b] = pair(&pki);
    write_atomic(&a, &bytes, mode).unwrap();
    write_atomic(&b, &bytes, mode).unwrap();
    for round in 0..KILLS {
        kill_child(&exe, &pki, "pair", &mut rng, round);
        recover(&pki).unwrap();
        let (va, vb) = (check(&a, round), check(&b, round));
        assert_eq!(
            va, vb,
            "round {round}: a torn pair after recover: versions {va} and {vb}"
        );
        check_clean(&pki, round);
    }

    for round in 0..KILLS {
        let root = dir.path().join(format!("new-{round}"));
        std::fs::create_dir(&root).unwrap();
        kill_child(&exe, &root, "new", &mut rng, round);
        for entry in std::fs::read_dir(&root).unwrap() {
            let batch = entry.unwrap().path();
            recover(&batch).unwrap();
            let [a, b] = pair(&batch);
            match (a.exists(), b.exists()) {
                (true, true) => assert_eq!(check(&a, round), check(&b, round)),
                (false, false) => {}
                (a, b) => panic!("round {round}: half a batch in {batch:?} after recover ({a}, {b})"),
            }
            check_clean(&batch, round);
        }
    }
    println!("crash test: ok");
}

fn main() {
    match std::env::var_os(CHILD_ENV) {
        Some(path) => child(Path::new(&path), &std::env::var(KIND_ENV).unwrap_or_default()),
        None => parent(),
    }
}
