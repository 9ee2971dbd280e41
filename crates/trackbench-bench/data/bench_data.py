#!/usr/bin/env python3
"""Data profiles and drift (issue 19), side by side with whylogs and Evidently, in one process and
one run on the same data. `cargo xtask bench` (part "data profiles and drift") runs it in a venv
built from `requirements.txt` beside it, with the Trackbench wheel installed; by hand:

    python bench_data.py --trackbench target/release/trackbench \\
        --native target/release/trackbench-data-bench [--rows 1000000] [--repeat 5]

One seeded 1M-row x 20-column DataFrame (14 float columns of varied distributions, some NaN and
±inf, one float32; 3 int columns; 3 string/categorical columns of 5, 60 and 2,000 categories, one
with nulls) and a shifted copy (6 columns changed: means, variances, a new category, new
proportions; the other 14 drawn from the same distributions with another seed). Measured:

* profile: Trackbench `run.log_dataset(df)` on a run in a temporary store (the SDK's whole path:
  pandas -> columns, the native profile, the store write; it returns once stored), and its parts:
  `trackbench._data.columns_of(df)` (the Python conversion) and `Profile::from_columns` alone in
  Rust (`trackbench-data-bench profile`, on those columns dumped to files); whylogs `why.log(df)`;
  Evidently `Report([DataSummaryPreset()]).run(df)`, its closest to a profile.
* size: Trackbench's stored profile JSON (and the whole MLflow DatasetInput holding it); whylogs'
  serialized profile view (protobuf); Evidently's snapshot JSON. Raw and gzip-compressed.
* drift over the 20 columns between the DataFrame and the shifted copy: Trackbench
  `trackbench drift RUN:reference RUN:current --json` end to end (a process reading both stored
  profiles) and in process (`trackbench-data-bench drift`: open + parse + test, parse, test alone);
  whylogs `calculate_drift_scores` on the two profile views in memory; Evidently
  `Report([DataDriftPreset()]).run(current, reference)` (from the raw data: Evidently has no
  profile to test). And from raw data for all three: both profiles plus the test.

Each side's per-column statistics are in the JSON (`drift_stats`: test, statistic, p-value).
Times are the best of N wall times (`--repeat` for Trackbench, `--peer-repeat` for the peers,
which stop repeating once one measurement has used `--peer-budget-s`). Prints one JSON line
(`{"bench": "data", ...}`, also written to `--json-out`), then a Markdown table. Exit status 0
unless something fails to run; a missed target is a result, not a failure.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
import zlib
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
SEED = 19


# ---------------------------------------------------------------------------------------------
# Data


def make_frame(rows: int, seed: int, shifted: bool = False) -> pd.DataFrame:
    """The benchmark's table: 20 columns a tabular data set might have. `shifted` moves 6 of
    them (f_normal mean +0.25 sd, f_gamma scale x1.3, f_sensor32 sd x1.5, i_age +3, s_country a
    new category at 5%, s_device new proportions); the rest keep their distributions."""
    rng = np.random.default_rng(seed)
    n = rows
    cols: Dict[str, Any] = {}
    cols["f_normal"] = rng.normal(0.25 if shifted else 0.0, 1.0, n)
    cols["f_lognormal"] = rng.lognormal(3.0, 1.0, n)
    cols["f_exponential"] = rng.exponential(2.0, n)
    cols["f_uniform"] = rng.uniform(0.0, 1.0, n)
    cols["f_beta"] = rng.beta(2.0, 5.0, n)
    cols["f_gamma"] = rng.gamma(2.0, 3.9 if shifted else 3.0, n)
    cols["f_student_t"] = rng.standard_t(3.0, n)
    bimodal = np.where(rng.uniform(size=n) < 0.4, rng.normal(-2.0, 0.5, n), rng.normal(3.0, 1.0, n))
    cols["f_bimodal"] = bimodal
    cols["f_price"] = np.round(rng.lognormal(2.5, 0.8, n), 2)  # many repeated values
    cols["f_rating"] = rng.integers(2, 11, n) / 2.0  # 1.0 .. 5.0 by 0.5: 9 distinct values
    with_nan = rng.normal(50.0, 10.0, n)
    with_nan[rng.uniform(size=n) < 0.05] = np.nan
    cols["f_with_nan"] = with_nan
    with_inf = rng.normal(0.0, 100.0, n)
    u = rng.uniform(size=n)
    with_inf[u < 0.001] = np.inf
    with_inf[(u >= 0.001) & (u < 0.002)] = -np.inf
    with_inf[(u >= 0.002) & (u < 0.012)] = np.nan
    cols["f_with_inf"] = with_inf
    cols["f_sensor32"] = rng.normal(20.0, 7.5 if shifted else 5.0, n).astype(np.float32)
    cols["f_pareto"] = rng.pareto(2.5, n)
    cols["i_age"] = rng.integers(18, 91, n) + (3 if shifted else 0)
    cols["i_count"] = rng.poisson(3.0, n)
    cols["i_user_id"] = rng.integers(0, 10_000_000, n)
    # 60 countries, Zipf-like weights; the shifted copy adds "ZZ" at 5%.
    countries = np.array([f"C{i:02d}" for i in range(60)])
    w = 1.0 / np.arange(1, 61) ** 1.1
    w /= w.sum()
    country = rng.choice(countries, n, p=w)
    if shifted:
        country = np.where(rng.uniform(size=n) < 0.05, "ZZ", country)
    cols["s_country"] = pd.Categorical(country)
    products = np.array([f"sku-{i:05d}" for i in range(2000)])
    w = 1.0 / np.arange(1, 2001) ** 0.8
    w /= w.sum()
    cols["s_product"] = rng.choice(products, n, p=w).astype(object)
    devices = np.array(["ios", "android", "web", "desktop", "tv"])
    p = [0.2, 0.3, 0.3, 0.15, 0.05] if shifted else [0.35, 0.35, 0.2, 0.08, 0.02]
    device = rng.choice(devices, n, p=p).astype(object)
    device[rng.uniform(size=n) < 0.02] = None
    cols["s_device"] = device
    return pd.DataFrame(cols)


SHIFTED = ["f_normal", "f_gamma", "f_sensor32", "i_age", "s_country", "s_device"]


# ---------------------------------------------------------------------------------------------
# Timing


def best_of(repeat: int, f: Callable[[], Any], budget_s: float = float("inf")) -> Tuple[float, Any, int]:
    """The best wall time of up to `repeat` calls of `f` (fewer once `budget_s` is spent), its
    last result, and how many calls ran."""
    best, out, spent, n = float("inf"), None, 0.0, 0
    for _ in range(max(1, repeat)):
        gc.collect()
        t = time.perf_counter()
        out = f()
        dt = time.perf_counter() - t
        best, spent, n = min(best, dt), spent + dt, n + 1
        if spent >= budget_s:
            break
    return best, out, n


def gz(b: bytes) -> int:
    return len(zlib.compress(b, 6))


def run_json(cmd: List[str], ok_codes=(0,)) -> Tuple[Any, float]:
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t
    if p.returncode not in ok_codes:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()}")
    return json.loads(p.stdout), dt


# ---------------------------------------------------------------------------------------------
# Trackbench


def dump_columns(df: pd.DataFrame, out: str) -> None:
    """The columns the Python SDK makes of `df` (`_data.columns_of`), as files for
    `trackbench-data-bench profile` (format in its `read_columns`)."""
    from trackbench import _data

    os.makedirs(out, exist_ok=True)
    manifest = {"rows": len(df), "columns": []}
    for i, (name, kind, data, mask) in enumerate(_data.columns_of(df)):
        entry: Dict[str, Any] = {"name": name, "data": f"{i}.bin", "mask": None}
        path = os.path.join(out, entry["data"])
        if kind in ("f64", "i64", "bool"):
            entry["kind"] = kind
            np.ascontiguousarray(data).tofile(path)
        elif kind == "obj":
            if not all(v is None or isinstance(v, str) for v in data):
                raise ValueError(f"column {name!r}: the dump takes strings and nulls only")
            if any(v is not None and "\n" in v for v in data):
                raise ValueError(f"column {name!r}: a cell holds a newline")
            entry["kind"] = "str"
            with open(path, "w", encoding="utf-8") as f:
                f.write("\n".join("" if v is None else v for v in data))
            nulls = np.array([v is None for v in data], dtype=np.uint8)
            if nulls.any():
                mask = nulls
        else:
            raise ValueError(f"column {name!r}: unknown kind {kind!r}")
        if mask is not None:
            entry["mask"] = f"{i}.mask"
            np.ascontiguousarray(mask, dtype=np.uint8).tofile(os.path.join(out, entry["mask"]))
        manifest["columns"].append(entry)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f)


def bench_trackbench(ref: pd.DataFrame, cur: pd.DataFrame, args, tmp: str) -> Dict[str, Any]:
    import trackbench as tb
    from trackbench import _data

    store = os.path.join(tmp, "store")
    res: Dict[str, Any] = {"version": tb.__version__}
    run = tb.init(project="data-bench", name="profiles", dir=store)

    def log(df: pd.DataFrame, name: str, context: str) -> Callable[[], Any]:
        # Each repetition under a new name, so each is a new input the store writes (the same
        # name again would be the same digest, stored once).
        count = iter(range(1_000_000))

        def go() -> Any:
            i = next(count)
            return run.log_dataset(df, name=name if i == 0 else f"{name}-r{i}", context=context)

        return go

    res["log_dataset_s"], _, res["log_dataset_n"] = best_of(args.repeat, log(ref, "reference", "training"))
    res["columns_of_s"], _, _ = best_of(args.repeat, lambda: _data.columns_of(ref))
    res["log_dataset_current_s"], _, _ = best_of(args.repeat, log(cur, "current", "serving"))
    run.finish()
    rid = run.id

    if args.native:
        cols = os.path.join(tmp, "columns")
        dump_columns(ref, cols)
        native, _ = run_json([args.native, "profile", cols, "--repeat", str(args.repeat)])
        shutil.rmtree(cols, ignore_errors=True)
        res["native_profile_s"] = native["profile_s"]
        res["native_to_json_s"] = native["to_json_s"]
        res["native_per_column"] = native["per_column"]
        stored = os.path.join(tmp, "reference-profile.json")
        d, _ = run_json(
            [args.native, "drift", "--store", store, f"{rid}:reference", f"{rid}:current"]
            + ["--repeat", str(args.repeat), "--profile-out", stored]
        )
        res["drift_inprocess"] = d
        res["profile_bytes"] = d["reference_profile_bytes"]
        res["input_bytes"] = d["reference_input_bytes"]
        with open(stored, "rb") as f:
            res["profile_gzip_bytes"] = gz(f.read())

    def cli():
        return run_json(
            [args.trackbench, "--store", store, "drift", f"{rid}:reference", f"{rid}:current", "--json"],
            ok_codes=(0, 1),
        )[0]

    res["drift_cli_s"], report, res["drift_cli_n"] = best_of(args.repeat, cli)
    rep = report["report"]
    res["drift_tested"] = rep["tested"]
    res["drift_columns"] = sorted(c["column"] for c in rep["columns"] if c.get("drift"))
    res["drift_dataset"] = rep["drift"]
    res["drift_tests"] = sorted({c["test"] for c in rep["columns"] if c.get("test")})
    res["drift_stats"] = {c["column"]: [c.get("test"), c.get("statistic"), c.get("p_value")] for c in rep["columns"]}
    return res


# ---------------------------------------------------------------------------------------------
# whylogs


def bench_whylogs(ref: pd.DataFrame, cur: pd.DataFrame, args) -> Dict[str, Any]:
    import whylogs as why
    from whylogs.viz.drift.column_drift_algorithms import calculate_drift_scores

    res: Dict[str, Any] = {"version": why.__version__}
    budget = args.peer_budget_s
    res["profile_s"], result, res["profile_n"] = best_of(args.peer_repeat, lambda: why.log(ref), budget)
    ref_view = result.view()
    blob = ref_view.serialize()
    res["profile_bytes"], res["profile_gzip_bytes"] = len(blob), gz(blob)
    res["profile_current_s"], cur_result, _ = best_of(args.peer_repeat, lambda: why.log(cur), budget)
    cur_view = cur_result.view()
    res["drift_s"], scores, res["drift_n"] = best_of(
        args.peer_repeat,
        lambda: calculate_drift_scores(target_view=cur_view, reference_view=ref_view, with_thresholds=True),
        budget,
    )
    scores = {k: v for k, v in scores.items() if v}
    res["drift_tested"] = len(scores)
    res["drift_columns"] = sorted(k for k, v in scores.items() if v.get("drift_category") == "DRIFT")
    res["drift_tests"] = sorted({v.get("algorithm") for v in scores.values()})
    res["drift_stats"] = {k: [v.get("algorithm"), v.get("statistic"), v.get("pvalue")] for k, v in scores.items()}
    return res


# ---------------------------------------------------------------------------------------------
# Evidently


def bench_evidently(ref: pd.DataFrame, cur: pd.DataFrame, args) -> Dict[str, Any]:
    import evidently
    from evidently import Report
    from evidently.presets import DataDriftPreset, DataSummaryPreset

    res: Dict[str, Any] = {"version": evidently.__version__}
    budget = args.peer_budget_s
    res["profile_s"], snap, res["profile_n"] = best_of(
        args.peer_repeat, lambda: Report([DataSummaryPreset()]).run(ref, None), budget
    )
    text = snap.json().encode()
    res["profile_bytes"], res["profile_gzip_bytes"] = len(text), gz(text)
    res["drift_s"], snap, res["drift_n"] = best_of(
        args.peer_repeat, lambda: Report([DataDriftPreset()]).run(cur, ref), budget
    )
    drifted, tested, methods, stats = [], 0, set(), {}
    for m in snap.dict()["metrics"]:
        cfg = m.get("config", {})
        if not cfg.get("type", "").endswith("ValueDrift"):
            continue
        tested += 1
        method, value, threshold = cfg.get("method", ""), m.get("value"), cfg.get("threshold")
        methods.add(method)
        stats[cfg.get("column")] = [method, value, None]
        if value is None or threshold is None:
            continue
        is_p = "p_value" in method.lower() or "p-value" in method.lower()
        if (value < threshold) if is_p else (value >= threshold):
            drifted.append(cfg.get("column"))
    res["drift_tested"] = tested
    res["drift_columns"] = sorted(drifted)
    res["drift_tests"] = sorted(methods)
    res["drift_stats"] = stats
    return res


# ---------------------------------------------------------------------------------------------
# Report


def secs(s: Optional[float]) -> str:
    if s is None:
        return "-"
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


def kb(b: Optional[int]) -> str:
    if b is None:
        return "-"
    return f"{b / 1000:.1f} KB" if b < 1_000_000 else f"{b / 1e6:.2f} MB"


def ratio(peer: Optional[float], ours: Optional[float]) -> Optional[float]:
    if peer is None or ours is None or ours <= 0:
        return None
    return peer / ours


def fmt_ratio(r: Optional[float], what: str = "faster") -> str:
    if r is None:
        return "-"
    if r >= 1:
        return f"{r:.1f}x {what}"
    return f"{1 / r:.1f}x {'slower' if what == 'faster' else 'larger'}"


def table(res: Dict[str, Any]) -> str:
    tb, wl, ev = res["trackbench"], res.get("whylogs", {}), res.get("evidently", {})
    rows, cols_n = res["rows"], res["columns"]

    def fastest(*vals):
        vals = [v for v in vals if v is not None]
        return min(vals) if vals else None

    lines = [
        f"| measurement ({rows:,} rows x {cols_n} columns) | trackbench | whylogs {wl.get('version', '-')} "
        f"| Evidently {ev.get('version', '-')} | fastest peer / trackbench | target | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    peer_profile = fastest(wl.get("profile_s"), ev.get("profile_s"))
    r = ratio(peer_profile, tb.get("log_dataset_s"))
    fast = tb["log_dataset_s"] <= 1.0
    if r is None:
        verdict = f"1 s: {'met' if fast else '**missed**'}; 10x: not measured (no peer ran)"
    elif r >= 10 and fast:
        verdict = "met"
    else:
        verdict = f"**missed** (1 s: {'met' if fast else 'missed'}; 10x: {'met' if r >= 10 else 'missed'})"
    lines.append(
        f"| profile: trackbench `run.log_dataset(df)` (convert + profile + store); whylogs `why.log(df)`; "
        f"Evidently `DataSummaryPreset` | {secs(tb.get('log_dataset_s'))} | {secs(wl.get('profile_s'))} "
        f"| {secs(ev.get('profile_s'))} | {fmt_ratio(r)} | >= 10x, <= 1 s | {verdict} |"
    )
    lines.append(
        f"| of which the SDK's pandas -> columns conversion (`_data.columns_of`) | {secs(tb.get('columns_of_s'))} "
        f"| - | - | - | - | info |"
    )
    if tb.get("native_profile_s") is not None:
        r2 = ratio(peer_profile, tb["native_profile_s"])
        lines.append(
            f"| profile in Rust alone (`Profile::from_columns` on the same columns; no Python, no store) "
            f"| {secs(tb['native_profile_s'])} | - | - | {fmt_ratio(r2)} | - | info |"
        )
    per = tb.get("native_per_column")
    if per:
        rest = tb["log_dataset_s"] - tb["columns_of_s"] - tb["native_profile_s"]
        lines.append(
            f"| the rest of `log_dataset` (the extension reading the columns, JSON, the store write; "
            f"by difference) | {secs(max(rest, 0.0))} | - | - | - | - | info |"
        )
        slow = sorted(per, key=lambda c: -c["profile_s"])[:4]
        lines.append(
            "| slowest columns in Rust alone, each profiled on its own | "
            + ", ".join(f"{c['column']} {secs(c['profile_s'])}" for c in slow)
            + " | - | - | - | - | info |"
        )
        big = sorted(per, key=lambda c: -c["json_bytes"])[:4]
        lines.append(
            "| largest columns in the profile JSON | "
            + ", ".join(f"{c['column']} {kb(c['json_bytes'])}" for c in big)
            + " | - | - | - | - | info |"
        )
    lines.append(
        f"| profile of the shifted copy (trackbench `log_dataset`, whylogs `why.log`) "
        f"| {secs(tb.get('log_dataset_current_s'))} | {secs(wl.get('profile_current_s'))} | - "
        f"| {fmt_ratio(ratio(wl.get('profile_current_s'), tb.get('log_dataset_current_s')))} | - | info |"
    )
    smallest = fastest(wl.get("profile_bytes"), ev.get("profile_bytes"))
    pb = tb.get("profile_bytes")
    size_ok = pb is not None and pb < 100_000
    lines.append(
        f"| profile size: trackbench stored profile JSON (whole DatasetInput: {kb(tb.get('input_bytes'))}); "
        f"whylogs serialized view (protobuf); Evidently snapshot JSON | {kb(pb)} | {kb(wl.get('profile_bytes'))} "
        f"| {kb(ev.get('profile_bytes'))} | {fmt_ratio(ratio(smallest, pb), 'smaller')} (smallest peer) "
        f"| tens of KB | {'met' if size_ok else '**missed**'} |"
    )
    tb_gz, wl_gz, ev_gz = tb.get("profile_gzip_bytes"), wl.get("profile_gzip_bytes"), ev.get("profile_gzip_bytes")
    lines.append(
        f"| profile size, gzip | {kb(tb_gz)} | {kb(wl_gz)} | {kb(ev_gz)} "
        f"| {fmt_ratio(ratio(fastest(wl_gz, ev_gz), tb_gz), 'smaller')} (smallest peer) | - | info |"
    )
    peer_drift = fastest(wl.get("drift_s"), ev.get("drift_s"))
    lines.append(
        f"| drift, 20 columns, from the profiles: trackbench `trackbench drift REF CUR --json` (a process: "
        f"open store, parse both, test); whylogs `calculate_drift_scores` (views in memory); Evidently "
        f"`DataDriftPreset` (raw data: it keeps no profile) | {secs(tb.get('drift_cli_s'))} "
        f"| {secs(wl.get('drift_s'))} | {secs(ev.get('drift_s'))} "
        f"| {fmt_ratio(ratio(peer_drift, tb.get('drift_cli_s')))} | - | info |"
    )
    d = tb.get("drift_inprocess")
    if d:
        lines.append(
            f"| drift in process: open + parse + test / parse both / test alone | {secs(d['open_parse_drift_s'])} / "
            f"{secs(d['parse_both_s'])} / {secs(d['drift_s'])} | - | - "
            f"| {fmt_ratio(ratio(wl.get('drift_s'), d['drift_s']))} vs whylogs (test alone) | - | info |"
        )
    raw_tb = sum(tb[k] for k in ("log_dataset_s", "log_dataset_current_s", "drift_cli_s") if tb.get(k) is not None)
    raw_wl = (
        wl["profile_s"] + wl["profile_current_s"] + wl["drift_s"]
        if all(wl.get(k) is not None for k in ("profile_s", "profile_current_s", "drift_s"))
        else None
    )
    raw_ev = ev.get("drift_s")
    lines.append(
        f"| drift from raw data (both profiles + test; sums of the rows above for trackbench and whylogs) "
        f"| {secs(raw_tb)} | {secs(raw_wl)} | {secs(raw_ev)} | {fmt_ratio(ratio(fastest(raw_wl, raw_ev), raw_tb))} "
        f"| - | info |"
    )

    def flagged(side):
        c = side.get("drift_columns")
        return "-" if c is None else f"{len(c)} of {side.get('drift_tested')}: {', '.join(c)}"

    lines.append(
        f"| columns flagged drifted (changed: {', '.join(SHIFTED)}) | {flagged(tb)} | {flagged(wl)} | {flagged(ev)} "
        f"| - | - | info |"
    )
    return "\n".join(lines)


def strict(o: Any) -> Any:
    """`o` with NaN and ±inf as strings, so the line is strict JSON (whylogs gives inf)."""
    if isinstance(o, float) and not math.isfinite(o):
        return str(o)
    if isinstance(o, dict):
        return {k: strict(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [strict(v) for v in o]
    return o


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5, help="Trackbench repetitions (best of N)")
    ap.add_argument("--peer-repeat", type=int, default=3, help="whylogs/Evidently repetitions (best of N)")
    ap.add_argument("--peer-budget-s", type=float, default=120.0, help="stop repeating a peer measurement after this")
    ap.add_argument("--trackbench", default=os.path.join(ROOT, "target", "release", "trackbench"))
    ap.add_argument("--native", default=os.path.join(ROOT, "target", "release", "trackbench-data-bench"))
    ap.add_argument("--skip", default="", help="comma-separated: whylogs, evidently")
    ap.add_argument("--json-out", default=None)
    args = ap.parse_args()
    if args.native and not os.path.exists(args.native):
        print(f"note: no {args.native}: the in-process Rust measurements are left out", file=sys.stderr)
        args.native = None
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}

    t0 = time.perf_counter()
    ref = make_frame(args.rows, SEED)
    cur = make_frame(args.rows, SEED + 1, shifted=True)
    print(f"data: 2 x {args.rows:,} rows x {ref.shape[1]} columns in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

    res: Dict[str, Any] = {
        "bench": "data",
        "rows": args.rows,
        "columns": ref.shape[1],
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "loadavg_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    with tempfile.TemporaryDirectory(prefix="tb-data-bench-") as tmp:
        print("trackbench…", file=sys.stderr)
        res["trackbench"] = bench_trackbench(ref, cur, args, tmp)
    # The peers warn about the NaN and ±inf cells (numpy reductions); the table is what matters.
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    if "whylogs" not in skip:
        print("whylogs…", file=sys.stderr)
        res["whylogs"] = bench_whylogs(ref, cur, args)
    if "evidently" not in skip:
        print("Evidently…", file=sys.stderr)
        res["evidently"] = bench_evidently(ref, cur, args)
    res["loadavg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    line = json.dumps(strict(res), allow_nan=False)
    if args.json_out:
        with open(args.json_out, "w") as f:
            f.write(line + "\n")
    print(line)
    print()
    print(table(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
