//! What the kill -9 crash tests share: a seeded generator, a child process that re-executes
//! this test binary to run one job, killing it at a random moment of its run, and the checks
//! every killed run must pass (files absent or complete, pairs matching, modes as DESIGN says).
//!
//! A child is this same test binary run with `--exact <test name>` and [`CHILD_ENV`] set; the
//! test function sees the variable, runs its job and returns. The child prints [`READY`] when
//! its set-up is done, so kill delays are measured over the job itself, not process start-up.
// Each crash test uses a different part of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kubetrust::pki::{Certificate, PrivateKey};

/// Set in a child's environment: the name of the job it runs.
pub(crate) const CHILD_ENV: &str = "KUBETRUST_CRASH_CHILD";
/// The line a child prints when its set-up is done and the job starts.
pub(crate) const READY: &str = "KUBETRUST-CRASH-READY";
/// Runs per subject unless `KUBETRUST_CRASH_RUNS` says otherwise.
const DEFAULT_RUNS: usize = 200;

/// The job this process runs when it is a child.
pub(crate) fn child_job() -> Option<String> {
    std::env::var(CHILD_ENV).ok()
}

/// A parameter the parent passed to the child (`KUBETRUST_CRASH_<name>`).
pub(crate) fn child_arg(name: &str) -> String {
    std::env::var(format!("KUBETRUST_CRASH_{name}")).unwrap_or_else(|_| panic!("child: {name} not set"))
}

/// Tells the parent that the job starts now.
pub(crate) fn ready() {
    let mut out = std::io::stdout().lock();
    writeln!(out, "\n{READY}").unwrap();
    out.flush().unwrap();
}

/// How many runs per subject.
pub(crate) fn runs() -> usize {
    std::env::var("KUBETRUST_CRASH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_RUNS)
}

/// A small xorshift generator; the seed is printed so a failure can be repeated.
pub(crate) struct Rng(u64);

impl Rng {
    /// Seeded from `KUBETRUST_CRASH_SEED` or the clock; prints the seed for `subject`.
    pub(crate) fn for_subject(subject: &str) -> Self {
        let seed = std::env::var("KUBETRUST_CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64 | 1);
        println!(
            "crash {subject}: {} runs, seed {seed} (KUBETRUST_CRASH_SEED to repeat)",
            runs()
        );
        Self(seed | 1)
    }

    /// The next draw.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A uniform draw in `[0, bound)` (0 when `bound` is 0).
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        self.next().checked_rem(bound).unwrap_or(0)
    }
}

/// How a child run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ended {
    /// SIGKILLed before it finished.
    Killed,
    /// It finished before the kill, its job taking this long.
    Finished(Duration),
}

/// The child process of one test: `test` is the test function's name, `job` its job.
pub(crate) struct Job<'a> {
    pub(crate) test: &'a str,
    pub(crate) job: &'a str,
    pub(crate) args: Vec<(&'static str, String)>,
}

impl Job<'_> {
    // Every caller waits for the child; only a panic (the test failing) skips the wait.
    #[allow(clippy::zombie_processes)]
    fn spawn(&self) -> (Child, BufReader<std::process::ChildStdout>) {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args([self.test, "--exact", "--nocapture", "--test-threads=1", "-q"])
            .env(CHILD_ENV, self.job)
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        for (name, value) in &self.args {
            command.env(format!("KUBETRUST_CRASH_{name}"), value);
        }
        let mut child = command.spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        loop {
            line.clear();
            let read = stdout.read_line(&mut line).unwrap();
            if read == 0 {
                let status = child.wait().unwrap();
                panic!("child {} ended before its job started: {status}", self.job);
            }
            if line.trim_end() == READY {
                return (child, stdout);
            }
        }
    }

    /// Runs the child to the end and returns how long its job took; it must succeed.
    pub(crate) fn run_whole(&self) -> Duration {
        let (mut child, _stdout) = self.spawn();
        let started = Instant::now();
        let status = child.wait().unwrap();
        assert!(status.success(), "child {} failed: {status}", self.job);
        started.elapsed()
    }

    /// Starts the child and kills it `delay` after its job started, unless it ends first.
    pub(crate) fn kill_after(&self, delay: Duration, round: usize) -> Ended {
        let (mut child, _stdout) = self.spawn();
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "round {round}: child {} failed: {status}",
                    self.job
                );
                return Ended::Finished(started.elapsed());
            }
            let left = delay.saturating_sub(started.elapsed());
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(Duration::from_micros(500)));
        }
        let _ = child.kill();
        let status = child.wait().unwrap();
        match status.signal() {
            Some(9) => Ended::Killed,
            _ => {
                assert!(
                    status.success(),
                    "round {round}: child {} failed: {status}",
                    self.job
                );
                Ended::Finished(started.elapsed())
            }
        }
    }
}

/// How long a whole job takes on this host now: the median of the whole runs seen so far (the
/// probes, then every run that ended before its kill), so kill delays follow the host's load.
#[derive(Debug, Default)]
pub(crate) struct Length(Vec<Duration>);

impl Length {
    /// Probes `n` whole runs; `run` runs the `i`th one and returns its job time.
    pub(crate) fn probe(n: usize, run: impl FnMut(usize) -> Duration) -> Self {
        Self((0..n).map(run).collect())
    }

    /// The current estimate.
    pub(crate) fn get(&self) -> Duration {
        let mut times = self.0.clone();
        times.sort();
        times
            .get(times.len() / 2)
            .copied()
            .unwrap_or(Duration::from_millis(100))
    }

    /// A kill delay: uniform over the whole job and a tenth past it.
    pub(crate) fn delay(&self, rng: &mut Rng) -> Duration {
        let span = u64::try_from(self.get().as_micros()).unwrap().max(1) * 11 / 10;
        Duration::from_micros(rng.below(span))
    }

    /// Learns from a run that ended before its kill.
    pub(crate) fn observe(&mut self, ended: Ended) {
        if let Ended::Finished(time) = ended {
            self.0.push(time);
        }
    }
}

/// Counts of how the killed runs ended and what they left, printed at the end of a subject.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub(crate) killed: usize,
    pub(crate) finished: usize,
    /// Temporary files of kubetrust-fs that killed runs left (checked, then removed).
    pub(crate) stray_temps: usize,
}

impl Tally {
    /// Counts one run.
    pub(crate) fn count(&mut self, ended: Ended) {
        match ended {
            Ended::Killed => self.killed += 1,
            Ended::Finished(_) => self.finished += 1,
        }
    }
}

/// The permission bits of `path` (not following a symlink at the end: callers pass files).
pub(crate) fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// Asserts the mode of `path`.
pub(crate) fn assert_mode(path: &Path, expected: u32, round: usize) {
    let actual = mode(path);
    assert_eq!(
        actual,
        expected,
        "round {round}: {} has mode {actual:o}, expected {expected:o}",
        path.display()
    );
}

/// Whether anything (a file or a dangling link) is at `path`.
pub(crate) fn exists(path: &Path) -> bool {
    path.symlink_metadata().is_ok()
}

/// Every file under `dir`, recursively, sorted.
pub(crate) fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.symlink_metadata().unwrap().is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Checks and removes the temporary files a killed run left under `dir`: each has the final
/// mode of its destination from its creation on (0600 unless the destination is a `.crt`), so
/// a key is never readable by others even in a leftover. Returns how many there were.
pub(crate) fn sweep_temps(dir: &Path, round: usize) -> usize {
    let temps = check_temps(dir, round);
    for temp in &temps {
        std::fs::remove_file(temp).unwrap();
    }
    temps.len()
}

/// The temporary files a killed run left under `dir`, each checked as [`sweep_temps`] does but
/// left in place: where kubetrust-fs writes in batches they may be the committed half of one,
/// which the next run's `recover` completes.
pub(crate) fn check_temps(dir: &Path, round: usize) -> Vec<PathBuf> {
    let temps: Vec<PathBuf> = files_under(dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(kubetrust::fs::TEMP_MARKER))
        .collect();
    for temp in &temps {
        let name = temp.file_name().unwrap().to_string_lossy().into_owned();
        let public = name.contains(".crt.");
        let m = mode(temp);
        assert!(
            m & 0o022 == 0 && (public || m & 0o077 == 0),
            "round {round}: leftover {name} has mode {m:o}"
        );
    }
    temps
}

/// After a recovery run nothing of the killed one is left: no temporary file, no commit record.
pub(crate) fn assert_no_leftovers(dir: &Path, round: usize) {
    let left: Vec<PathBuf> = files_under(dir)
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.contains(kubetrust::fs::TEMP_MARKER) || name.contains("kubetrust-batch-")
        })
        .collect();
    assert!(
        left.is_empty(),
        "round {round}: left after the recovery run: {left:?}"
    );
}

/// A certificate file: it must parse whole (a torn file would not).
pub(crate) fn load_cert(path: &Path, round: usize) -> Vec<Certificate> {
    let bytes = std::fs::read(path).unwrap();
    let chain = Certificate::chain_from_pem(&bytes)
        .unwrap_or_else(|e| panic!("round {round}: {} does not parse: {e}", path.display()));
    assert!(!chain.is_empty(), "round {round}: {} is empty", path.display());
    chain
}

/// A key file: it must parse whole.
pub(crate) fn load_key(path: &Path, round: usize) -> PrivateKey {
    let bytes = std::fs::read(path).unwrap();
    PrivateKey::from_pem(&bytes)
        .unwrap_or_else(|e| panic!("round {round}: {} does not parse: {e}", path.display()))
}

/// A clock whose sleeps end at once: a child rotates again and again without waiting for
/// deadlines (the certificate is short-lived; only the order of the steps matters here).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct InstantClock;

impl kubetrust::csr_bootstrap::rotation::Clock for InstantClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    async fn sleep(&self, _: Duration) {
        tokio::task::yield_now().await;
    }
}
