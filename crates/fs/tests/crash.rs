//! Crash safety: a child process rewrites one file in a loop and is killed (SIGKILL) at random
//! moments, 200 times. After every kill the file must be wholly one of the versions the child
//! writes, with that version's mode. Runs with `harness = false`: the same binary is the child.
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

use kubetrust_fs::{Mode, write_atomic};

const CHILD_ENV: &str = "KUBETRUST_FS_CRASH_CHILD";
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

fn child(path: &Path) -> ! {
    let mut n: u8 = 0;
    loop {
        let (mode, bytes) = version(n);
        if let Err(e) = write_atomic(path, &bytes, mode) {
            eprintln!("child: {e}");
            std::process::exit(3);
        }
        n = n.wrapping_add(1);
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

fn check(path: &Path, round: usize) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("round {round}: read: {e}"));
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
}

fn parent() {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("kubelet.conf");
    let (mode, bytes) = version(0);
    write_atomic(&path, &bytes, mode).unwrap();

    let seed = std::env::var("KUBETRUST_FS_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64 | 1);
    println!("crash test: {KILLS} kills, seed {seed} (KUBETRUST_FS_CRASH_SEED to repeat)");
    let mut rng = Rng(seed);
    let exe = std::env::current_exe().unwrap();
    for round in 0..KILLS {
        let mut child = Command::new(&exe)
            .env(CHILD_ENV, &path)
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
        check(&path, round);
    }
    println!("crash test: ok");
}

fn main() {
    match std::env::var_os(CHILD_ENV) {
        Some(path) => child(Path::new(&path)),
        None => parent(),
    }
}
