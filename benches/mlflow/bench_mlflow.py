"""Side-by-side benchmark: the same `mlflow` client workload against `trackbench serve` and
against `mlflow server --backend-store-uri sqlite:///...`, both on loopback, in one run.

Workload (issue 4, "Benchmarks"):
  1. ingest: `MlflowClient.log_batch`, BATCHES batches x 1000 metrics (10 keys x 100 steps
     per batch), timed end to end -> points/s;
  2. series read: `MlflowClient.get_metric_history` of one 100,000-point series (logged with
     log_batch first, untimed), best of REPEATS.

Needs the full `mlflow` package (for `mlflow server`) in the running Python:
  python -m venv /tmp/mlfull && /tmp/mlfull/bin/pip install mlflow==3.17.2
  cargo build --release -p trackbench-cli
  /tmp/mlfull/bin/python benches/mlflow/bench_mlflow.py --trackbench target/release/trackbench
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

TOKEN = "bench-token"
KEYS = 10


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_trackbench(binary, workdir):
    env = dict(os.environ, TRACKBENCH_TOKEN=TOKEN)
    proc = subprocess.Popen(
        [binary, "--store", os.path.join(workdir, "tb-store"), "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
    )
    for line in proc.stdout:
        m = re.search(r"MLFLOW_TRACKING_URI=(\S+)", line)
        if m:
            return proc, m.group(1)
    raise RuntimeError("trackbench serve did not print its URL")


def start_mlflow(workdir):
    port = free_port()
    db = os.path.join(workdir, "mlflow.db")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
         "--backend-store-uri", f"sqlite:///{db}", "--artifacts-destination", os.path.join(workdir, "mlartifacts"),
         "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "/health", timeout=2).read()
            return proc, url
        except Exception:
            if proc.poll() is not None:
                raise RuntimeError("mlflow server exited during start-up")
            time.sleep(0.5)
    raise RuntimeError("mlflow server did not answer /health within 180 s")


def workload(url, batches, history_points, repeats):
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    client = MlflowClient(tracking_uri=url)
    exp = client.create_experiment(f"bench-{time.time_ns()}")
    run = client.create_run(exp).info.run_id
    now = int(time.time() * 1000)
    payloads = []
    for b in range(batches):
        payloads.append([
            Metric(f"m{j % KEYS}", float(j) * 0.001, now + b, b * 100 + j // KEYS) for j in range(1000)
        ])
    t = time.perf_counter()
    for metrics in payloads:
        client.log_batch(run, metrics=metrics)
    ingest_s = time.perf_counter() - t

    # The same batches as raw HTTP posts (bodies serialized up front): the server's own rate,
    # without the client's per-metric protobuf work.
    raw_run = client.create_run(exp).info.run_id
    bodies = [
        json.dumps({"run_id": raw_run, "metrics": [
            {"key": m.key, "value": m.value, "timestamp": m.timestamp, "step": m.step} for m in metrics
        ]}).encode()
        for metrics in payloads
    ]
    t = time.perf_counter()
    for body in bodies:
        req = urllib.request.Request(
            f"{url}/api/2.0/mlflow/runs/log-batch", data=body, method="POST",
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
        urllib.request.urlopen(req, timeout=600).read()
    ingest_http_s = time.perf_counter() - t

    series = [Metric("series", float(i), now + i, i) for i in range(history_points)]
    t = time.perf_counter()
    for i in range(0, history_points, 1000):
        client.log_batch(run, metrics=series[i:i + 1000])
    series_ingest_s = time.perf_counter() - t
    reads = []
    for _ in range(repeats):
        t = time.perf_counter()
        hist = client.get_metric_history(run, "series")
        reads.append(time.perf_counter() - t)
        assert len(hist) == history_points, len(hist)
    # The same read as raw HTTP (response bytes only, no protobuf parsing in the client): how much
    # of the client's time is the server's.
    raw = []
    for _ in range(repeats):
        req = urllib.request.Request(
            f"{url}/api/2.0/mlflow/metrics/get-history?run_id={run}&metric_key=series",
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        t = time.perf_counter()
        body = urllib.request.urlopen(req, timeout=600).read()
        raw.append(time.perf_counter() - t)
    return {
        "history_http_s": min(raw),
        "history_http_bytes": len(body),
        "ingest_s": ingest_s,
        "ingest_http_points_per_s": batches * 1000 / ingest_http_s,
        "points_per_s": batches * 1000 / ingest_s,
        "series_ingest_s": series_ingest_s,
        "history_read_s": min(reads),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trackbench", required=True, help="path to the trackbench binary (release build)")
    ap.add_argument("--batches", type=int, default=100)
    ap.add_argument("--history-points", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    import mlflow

    workdir = tempfile.mkdtemp(prefix="mlflow-bench-")
    results = {"mlflow_version": mlflow.__version__, "cpus": os.cpu_count(), "batches": args.batches,
               "history_points": args.history_points}
    try:
        proc, url = start_trackbench(args.trackbench, workdir)
        try:
            os.environ["MLFLOW_TRACKING_TOKEN"] = TOKEN
            results["trackbench"] = workload(url, args.batches, args.history_points, args.repeats)
        finally:
            proc.terminate()
            proc.wait()
        os.environ.pop("MLFLOW_TRACKING_TOKEN", None)
        proc, url = start_mlflow(workdir)
        try:
            results["mlflow"] = workload(url, args.batches, args.history_points, args.repeats)
        finally:
            proc.terminate()
            proc.wait()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    tb, ml = results["trackbench"], results["mlflow"]
    results["ingest_ratio"] = tb["points_per_s"] / ml["points_per_s"]
    results["history_ratio"] = ml["history_read_s"] / tb["history_read_s"]
    results["ingest_http_ratio"] = tb["ingest_http_points_per_s"] / ml["ingest_http_points_per_s"]
    results["history_http_ratio"] = ml["history_http_s"] / tb["history_http_s"]
    print(json.dumps(results, indent=2))
    print(f"log_batch ingest: trackbench {tb['points_per_s']:,.0f} points/s, mlflow {ml['points_per_s']:,.0f} "
          f"points/s -> {results['ingest_ratio']:.1f}x (target >= 10x: {'met' if results['ingest_ratio'] >= 10 else 'MISSED'})")
    print(f"  same batches as raw HTTP posts: trackbench {tb['ingest_http_points_per_s']:,.0f} points/s, mlflow "
          f"{ml['ingest_http_points_per_s']:,.0f} points/s -> {results['ingest_http_ratio']:.1f}x")
    print(f"get_metric_history {args.history_points:,} points: trackbench {tb['history_read_s'] * 1000:.0f} ms, "
          f"mlflow {ml['history_read_s'] * 1000:.0f} ms -> {results['history_ratio']:.1f}x "
          f"(target >= 10x: {'met' if results['history_ratio'] >= 10 else 'MISSED'})")
    print(f"  same read as raw HTTP (no client parsing): trackbench {tb['history_http_s'] * 1000:.0f} ms, "
          f"mlflow {ml['history_http_s'] * 1000:.0f} ms -> {results['history_http_ratio']:.1f}x")


if __name__ == "__main__":
    main()
