#!/usr/bin/env python3
"""One benchmark report: every criterion bench of the workspace in one `cargo bench` run, the
references measured in the same run (openssl speed before and after it, the hmac crate and
SHA-256 inside it), the process-level timings paired against their references, and one
Markdown table of medians, targets and ratios (BENCHMARKS.md's first table).

    python3 benches/report.py [--go-tree BIN] [--openssl-tree SCRIPT] [--out DIR]

--go-tree is the built `go_tree` of the team's bench references (kubeadm's own code path:
Go's crypto/rsa + crypto/x509), --openssl-tree its `openssl_tree.sh`; a reference that is not
given is left out of the table. Everything is written to --out (default target/bench-report):
the cargo bench log, raw.json with every measurement, report.md with the table.
Standard library only; needs cargo, openssl and a release build of this workspace (made here).
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MS, US, NS = 1e6, 1e3, 1.0


def log(message):
    print(f"[report] {message}", file=sys.stderr, flush=True)


def run_timed(argv, **kwargs):
    """Runs argv to completion: (wall seconds, CPU seconds, peak RSS KiB, exit status)."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, child.returncode


def openssl_speed(seconds):
    """Seconds per RSA-2048 and per ECDSA-P256 signature, from `openssl speed`."""
    out = subprocess.run(
        ["openssl", "speed", "-seconds", str(seconds), "rsa2048", "ecdsap256"],
        capture_output=True, text=True, check=True,
    ).stdout
    rsa = re.search(r"^rsa\s+2048 bits\s+\S+s\s+\S+s\s+([\d.]+)", out, re.M)
    ecdsa = re.search(r"^\s*256 bits ecdsa \(nistp256\)\s+\S+s\s+\S+s\s+([\d.]+)", out, re.M)
    if not rsa or not ecdsa:
        raise SystemExit(f"cannot read openssl speed's output:\n{out}")
    return {"rsa2048_sign": 1 / float(rsa.group(1)), "ecdsap256_sign": 1 / float(ecdsa.group(1))}


def criterion_medians():
    """full benchmark id -> criterion's median point estimate, in nanoseconds."""
    medians = {}
    for bench in (ROOT / "target" / "criterion").glob("**/new/benchmark.json"):
        full_id = json.loads(bench.read_text())["full_id"]
        estimates = json.loads((bench.parent / "estimates.json").read_text())
        medians[full_id] = estimates["median"]["point_estimate"]
    return medians


def paired(commands, runs, prepare):
    """Runs the named commands alternately `runs` times (prepare(name) before each run):
    name -> list of (wall, cpu, rss)."""
    results = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            prepare(name)
            wall, cpu, rss, code = run_timed(argv)
            if code != 0:
                raise SystemExit(f"{name} failed with exit status {code}: {argv}")
            results[name].append((wall, cpu, rss))
    return results


def median_ratio(ours, reference):
    return statistics.median(a[0] / b[0] for a, b in zip(ours, reference))


def trees(args, work):
    """The RSA-2048 tree + 5 kubeconfigs as one process: ours, Go's (kubeadm's code path),
    the openssl CLI script; paired and alternating."""
    commands = {"kubetrust": [str(ROOT / "target/release/examples/kubeadm_pki"), str(work / "kubetrust")]}
    if args.go_tree:
        commands["go"] = [args.go_tree, str(work / "go")]
    if args.openssl_tree:
        commands["openssl"] = ["bash", args.openssl_tree, str(work / "openssl")]

    def prepare(name):
        shutil.rmtree(work / name, ignore_errors=True)

    # The openssl script takes seconds per run: it gets fewer pairs than the others.
    result = paired({k: v for k, v in commands.items() if k != "openssl"}, args.tree_runs, prepare)
    if "openssl" in commands:
        slow = paired({k: commands[k] for k in ("kubetrust", "openssl")}, args.openssl_runs, prepare)
        result["kubetrust vs openssl"] = slow["kubetrust"]
        result["openssl"] = slow["openssl"]
    return result


def join_process(args, work):
    """`kubetrust join` processes against `kubetrust testcp serve`, one fresh kubelet dir each;
    `kubetrust version` for the process start alone."""
    kubetrust = str(ROOT / "target/release/kubetrust")
    serve = subprocess.Popen(
        [kubetrust, "testcp", "serve", "--cert-dir", str(work / "pki"), "--kubeconfig-dir",
         str(work / "kube"), "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        serve.stdout.readline()  # the URL: serving
        join_command = subprocess.run(
            [kubetrust, "token", "create", "--kubeconfig", str(work / "kube/admin.conf"),
             "--print-join-command"],
            capture_output=True, text=True, check=True,
        ).stdout.split()
        join_args = join_command[2:]  # drop "kubeadm join"
        joins, starts = [], []
        for node in range(args.join_runs):
            argv = [kubetrust, "join", *join_args, "--node-name", f"node-{node}",
                    "--kubelet-dir", str(work / f"node-{node}")]
            wall, cpu, rss, code = run_timed(argv)
            if code != 0:
                raise SystemExit(f"kubetrust join failed with exit status {code}")
            joins.append((wall, cpu, rss))
            starts.append(run_timed([kubetrust, "version"])[:3])
        return {"join": joins, "version": starts}
    finally:
        serve.terminate()
        serve.wait()


def thousand_nodes(bench_log):
    """Per-round lines of the 1000-node bench: (failures, node CPU per bootstrap in ns)."""
    rounds = re.findall(r"1000 nodes at once: wall \S+, (\d+) failed.*?\(([\d.]+)(µs|ms) per bootstrap\)", bench_log)
    return [(int(failed), float(cpu) * (MS if unit == "ms" else US)) for failed, cpu, unit in rounds]


# label, where the median comes from, target (kind, value), reference, what the figure is.
# kind "max": the median must be at most value (ns); "ratio": at most value × the reference.
ROWS = [
    ("token parse", "bootstrap-token/token/parse", ("max", 100 * NS), None),
    ("JWS sign, 2 KiB", "bootstrap-token/jws/sign 2 KiB", ("ratio", 1.5),
     "bootstrap-token/jws/reference: HMAC-SHA256 of the encoded signing input"),
    ("JWS verify, 2 KiB", "bootstrap-token/jws/verify 2 KiB", ("ratio", 1.5),
     "bootstrap-token/jws/reference: HMAC-SHA256 of the encoded signing input"),
    ("pin of a certificate", "pki/pin of a certificate", ("max", 2 * US),
     "pki/reference: SHA-256 of the SPKI bytes"),
    ("discovery `validate()`", "discovery/validate", ("max", 20 * US), None),
    ("kubeconfig load + resolve, 5.4 KiB", "kubeconfig/load+resolve 3 contexts 5.4 KiB", ("max", 50 * US), None),
    ("leaf from an RSA-2048 CA", "pki/leaf from RSA-2048 CA", ("ratio", 1.1), "openssl:rsa2048_sign"),
    ("leaf from an ECDSA-P256 CA", "pki/leaf from ECDSA-P256 CA", ("ratio", 3.0), "openssl:ecdsap256_sign"),
    ("RSA-2048 key", "pki/key/RSA-2048", None, None),
    ("ECDSA-P256 key", "pki/key/ECDSA-P256", None, None),
    ("tree + 5 kubeconfigs, RSA-2048 (in process)", "pki/tree+kubeconfigs/RSA-2048", None, None),
    ("tree + 5 kubeconfigs, ECDSA-P256 (in process)", "pki/tree+kubeconfigs/ECDSA-P256", ("max", 20 * MS), None),
    ("tree + 5 kubeconfigs, RSA-2048, one process, vs Go (kubeadm's code path)", "process:tree",
     ("ratio", 0.2), "process:go"),
    ("tree + 5 kubeconfigs, RSA-2048, one process, vs the openssl CLI script", "process:tree (vs openssl)",
     ("ratio", 0.2), "process:openssl"),
    ("peak RSS of that process", "process:tree rss", ("max", 20 * 1024 * 1024), None),
    ("testcp start-up", "testcp/start-up/start + /version + shutdown, PKI given (P-256)", ("max", 50 * MS), None),
    ("testcp: 1000 CSRs created, approved, signed (P-256 CA)", "testcp/1000 CSR create-approve-sign/ECDSA-P256 CA",
     ("max", 2000 * MS), None),
    ("testcp: 1000 CSRs created, approved, signed (RSA-2048 CA)",
     "testcp/1000 CSR create-approve-sign/RSA-2048 CA", ("max", 2000 * MS), None),
    ("one join (TLS bootstrap) against testcp, in process", "tls_bootstrap/one node, auto-approved",
     ("max", 50 * MS), None),
    ("1000 concurrent joins against one testcp", "tls_bootstrap/1000 nodes at once", ("max", 5000 * MS), None),
    ("node CPU per bootstrap among 1000", "log:nodes-cpu", ("max", 1 * MS), None),
    ("`kubetrust join` process against `testcp serve`", "process:join", ("max", 100 * MS), None),
    ("CPU of that `kubetrust join` process", "process:join-cpu", None, None),
    ("`kubetrust version` process (start-up alone)", "process:version", None, None),
]


def human(ns):
    if ns >= 1e9:
        return f"{ns / 1e9:.2f} s"
    if ns >= 1e6:
        return f"{ns / 1e6:.3g} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.3g} µs"
    return f"{ns:.3g} ns"


def table(values):
    lines = [
        "| figure | median | target | reference (same run) | ratio | met |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for label, source, target, reference in ROWS:
        if source not in values:
            continue
        ours = values[source]
        is_bytes = source.endswith(" rss")
        median = f"{ours / 1024 / 1024:.1f} MiB" if is_bytes else human(ours)
        ref_text, ratio_text, ratio = "—", "—", None
        if reference and reference in values:
            ref_text = human(values[reference])
            # Paired runs give their own ratio (the median of the pairs' ratios).
            ratio = values.get(f"ratio:{source}", ours / values[reference])
            ratio_text = f"{ratio:.2f} ×"
        met = "—"
        if target:
            kind, bound = target
            if kind == "max":
                target_text = f"≤ {bound / 1024 / 1024:.0f} MiB" if is_bytes else f"≤ {human(bound)}"
                met = "✔" if ours <= bound else "✘"
            else:
                target_text = f"≤ {bound} × reference"
                met = "—" if ratio is None else ("✔" if ratio <= bound else "✘")
        else:
            target_text = "—"
        lines.append(f"| {label} | {median} | {target_text} | {ref_text} | {ratio_text} | {met} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--go-tree", help="the built go_tree binary (../shared/bench/go_tree)")
    parser.add_argument("--openssl-tree", help="openssl_tree.sh (../shared/bench)")
    parser.add_argument("--out", default=str(ROOT / "target" / "bench-report"))
    parser.add_argument("--tree-runs", type=int, default=20)
    parser.add_argument("--openssl-runs", type=int, default=5)
    parser.add_argument("--join-runs", type=int, default=20)
    parser.add_argument("--openssl-seconds", type=int, default=5)
    parser.add_argument("--skip-cargo-bench", action="store_true",
                        help="reuse the criterion results already in target/criterion")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    log("release build of the CLI and the examples")
    subprocess.run(["cargo", "build", "--release", "--locked", "-p", "kubetrust-cli", "-p", "kubetrust",
                    "--bins", "--examples"], cwd=ROOT, check=True)
    log("openssl speed (before)")
    before = openssl_speed(args.openssl_seconds)
    bench_log_path = out / "cargo-bench.log"
    if not args.skip_cargo_bench:
        log(f"cargo bench (log: {bench_log_path})")
        with open(bench_log_path, "w") as bench_log:
            subprocess.run(["cargo", "bench", "--locked", "-p", "kubetrust", "--benches"], cwd=ROOT,
                           stdout=bench_log, stderr=subprocess.STDOUT, check=True)
    log("openssl speed (after)")
    after = openssl_speed(args.openssl_seconds)

    values = {f"openssl:{k}": (before[k] + after[k]) / 2 * 1e9 for k in before}
    values.update(criterion_medians())
    rounds = thousand_nodes(bench_log_path.read_text()) if bench_log_path.exists() else []
    if rounds:
        values["log:nodes-cpu"] = statistics.median(cpu for _, cpu in rounds)

    with tempfile.TemporaryDirectory(prefix="kubetrust-bench-") as tmp:
        work = Path(tmp)
        log("trees as processes, paired")
        tree = trees(args, work / "trees")
        join = join_process(args, work / "join")
    walls = {name: [run[0] for run in runs] for name, runs in {**tree, **join}.items()}
    values["process:tree"] = statistics.median(walls["kubetrust"]) * 1e9
    values["process:tree rss"] = max(run[2] for run in tree["kubetrust"]) * 1024
    if "go" in tree:
        values["process:go"] = statistics.median(walls["go"]) * 1e9
        values["ratio:process:tree"] = median_ratio(tree["kubetrust"], tree["go"])
    if "openssl" in tree:
        values["process:openssl"] = statistics.median(walls["openssl"]) * 1e9
        values["process:tree (vs openssl)"] = statistics.median(walls["kubetrust vs openssl"]) * 1e9
        values["ratio:process:tree (vs openssl)"] = median_ratio(tree["kubetrust vs openssl"], tree["openssl"])
    values["process:join"] = statistics.median(walls["join"]) * 1e9
    values["process:join-cpu"] = statistics.median(run[1] for run in join["join"]) * 1e9
    values["process:version"] = statistics.median(walls["version"]) * 1e9

    raw = {"openssl_before": before, "openssl_after": after, "values_ns": values,
           "thousand_node_rounds": rounds, "processes": {**tree, **join},
           "host": {"nproc": os.cpu_count(), "loadavg": os.getloadavg()}}
    (out / "raw.json").write_text(json.dumps(raw, indent=2, ensure_ascii=False))
    report = table(values)
    (out / "report.md").write_text(report + "\n")
    print(report)


if __name__ == "__main__":
    main()
