"""Side by side: `trackbench import mlflow` vs the MLflow client reading the same `mlruns/`.

Writes an `mlruns/` folder in MLflow's file-store layout (RUNS runs x 10 metrics x STEPS steps),
then times (a) `trackbench import mlflow` into a fresh store, (b) `MlflowClient` reading every
run and every metric history from it (`search_runs` + `get_metric_history`).

    MLFLOW_ALLOW_FILE_STORE=true /tmp/mlfull/bin/python benches/mlflow/read_mlruns.py \
        --trackbench target/release/trackbench [--runs 1000] [--steps 1000]
"""

import argparse
import math
import os
import subprocess
import tempfile
import time

p = argparse.ArgumentParser()
p.add_argument("--trackbench", required=True)
p.add_argument("--runs", type=int, default=1000)
p.add_argument("--steps", type=int, default=1000)
a = p.parse_args()

tmp = tempfile.mkdtemp(prefix="mlruns-bench-")
root = os.path.join(tmp, "mlruns")
exp = os.path.join(root, "1")
os.makedirs(exp)
with open(os.path.join(exp, "meta.yaml"), "w") as f:
    f.write(f"artifact_location: file://{exp}\nexperiment_id: '1'\nlifecycle_stage: active\nname: bench\n"
            "creation_time: 1700000000000\nlast_update_time: 1700000000000\n")
for r in range(a.runs):
    rid = f"{r:032x}"
    d = os.path.join(exp, rid)
    for sub in ("metrics", "params", "tags", "artifacts"):
        os.makedirs(os.path.join(d, sub))
    with open(os.path.join(d, "meta.yaml"), "w") as f:
        f.write(f"artifact_uri: file://{d}/artifacts\nend_time: 1700000100000\nentry_point_name: ''\n"
                f"experiment_id: '1'\nlifecycle_stage: active\nrun_id: '{rid}'\nrun_name: run-{r}\nrun_uuid: '{rid}'\n"
                "source_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: 1700000000000\nstatus: 3\n"
                "tags: []\nuser_id: bench\n")
    with open(os.path.join(d, "params", "lr"), "w") as f:
        f.write(str(0.001 * (r % 7 + 1)))
    for k in range(10):
        with open(os.path.join(d, "metrics", f"m{k}"), "w") as f:
            f.write("".join(f"{1700000000000 + s * 100} {math.sin(s * 1e-3 + k)} {s}\n" for s in range(a.steps)))
points = a.runs * 10 * a.steps
print(f"mlruns/: {a.runs} runs x 10 metrics x {a.steps} steps = {points:,} points")

store = os.path.join(tmp, "store")
t = time.perf_counter()
subprocess.run([a.trackbench, "--store", store, "import", "mlflow", root, "--json"], check=True, stdout=subprocess.DEVNULL)
tb = time.perf_counter() - t
print(f"trackbench import mlflow: {tb:.2f} s")

from mlflow.tracking import MlflowClient  # noqa: E402

client = MlflowClient(f"file://{root}")
t = time.perf_counter()
n = 0
runs = client.search_runs(["1"], max_results=50000)
for run in runs:
    for k in run.data.metrics:
        n += len(client.get_metric_history(run.info.run_id, k))
mc = time.perf_counter() - t
assert n == points, (n, points)
print(f"MlflowClient search_runs + get_metric_history of every series: {mc:.2f} s")
print(f"ratio: the MLflow client takes {mc / tb:.1f}x as long to read what trackbench imports")
