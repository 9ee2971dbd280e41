"""``run.log_dataset``: tables from numpy, dicts, pandas, polars and pyarrow profiled in Rust,
stored with the run, and read back through the real CLI's ``trackbench drift``. A library the
test venv lacks is skipped with the reason (``pytest -rs`` prints it), unless
``TRACKBENCH_REQUIRE_FRAMEWORKS=1`` says ``cargo xtask test`` installed them
(tests/requirements-frameworks.txt): then its absence fails."""

from __future__ import annotations

import json
import math
import os

import pytest

from conftest import cli


def need(module):
    """The module, or a skip naming it (a failure when the test venv should have it)."""
    try:
        return __import__(module)
    except ImportError as e:
        why = f"{module} is not installed in the test venv ({e})"
        if os.environ.get("TRACKBENCH_REQUIRE_FRAMEWORKS") == "1":
            pytest.fail(why + ", but TRACKBENCH_REQUIRE_FRAMEWORKS=1 says it was installed")
        pytest.skip(why)


np = pytest.importorskip("numpy", reason="numpy is not installed in the test venv")


def drift(store, ref, cur, *args):
    out = cli(store, "drift", ref, cur, "--json", *args, check=False)
    assert out.returncode in (0, 1), f"exit {out.returncode}:\n{out.stdout}\n{out.stderr}"
    return out.returncode, json.loads(out.stdout)


def columns(report):
    return {c["column"]: c for c in report["report"]["columns"]}


def table(rng, n):
    return {
        "age": rng.normal(40, 10, n),
        "clicks": rng.integers(0, 100, n),
        "member": rng.random(n) < 0.3,
        "city": rng.choice(["Paris", "Berlin", "Rome"], n),
    }


def test_numpy_and_dicts_log_profiles_that_drift_reads(tb, store):
    rng = np.random.default_rng(7)
    run = tb.init(project="data", name="np")
    ref = table(rng, 800)
    d1 = run.log_dataset(ref, name="train")
    assert run.log_dataset(ref, name="train") == d1, "the same table again is the same input"
    # The same rows in another order, and the same rows with age shifted (no sampling noise).
    run.log_dataset({k: v[::-1] for k, v in ref.items()}, name="same", context="validation")
    run.log_dataset({**ref, "age": ref["age"] + 8.0}, name="shifted", context="serving", step=1)
    a = np.column_stack([ref["age"], ref["clicks"].astype(float)])
    run.log_dataset(a, name="matrix", columns=["age", "clicks"])
    plain = {"x": [1.5, None, float("nan"), 3.0], "s": ["a", None, "b", "a"], "n": [1, 2, 3, None]}
    run.log_dataset(plain, name="plain")
    with pytest.raises(ValueError, match="2-D"):
        run.log_dataset(np.zeros(3), name="bad")
    with pytest.raises(TypeError, match="dict of columns"):
        run.log_dataset(42, name="bad")
    run.finish()

    code, same = drift(store, f"{run.id}:train", f"{run.id}:same")
    assert code == 0
    cols = columns(same)
    assert {k: (c["ref_dtype"], c["test"]) for k, c in cols.items()} == {
        "age": ("float", "ks"),
        "clicks": ("int", "ks"),
        "member": ("bool", "chi2"),
        "city": ("string", "chi2"),
    }
    assert same["reference"]["rows"] == 800 and all(c["exact"] for c in cols.values())

    code, shifted = drift(store, f"{run.id}:train", f"{run.id}:shifted@1")
    assert code == 0, "one column of four is below the dataset's share"
    assert [k for k, c in columns(shifted).items() if c["drift"]] == ["age"]
    code, only_age = drift(store, f"{run.id}:train", f"{run.id}:shifted", "--columns", "age")
    assert code == 1

    code, m = drift(store, f"{run.id}:matrix", f"{run.id}:matrix")
    assert code == 0 and set(columns(m)) == {"age", "clicks"}
    assert columns(m)["age"]["ref_n"] == 800

    _, p = drift(store, f"{run.id}:plain", f"{run.id}:plain")
    pc = columns(p)
    assert pc["x"]["ref_dtype"] == "float" and pc["x"]["ref_n"] == 2, "null and NaN are not tested values"
    assert pc["s"]["ref_dtype"] == "string" and pc["s"]["ref_n"] == 3
    assert pc["n"]["ref_n"] == 3


def test_pandas_frames_with_nullable_and_object_columns(tb, store):
    pd = need("pandas")
    run = tb.init(project="data", name="pandas")
    df = pd.DataFrame({
        "f": [1.0, 2.0, math.nan, 4.0],
        "i": pd.array([1, None, 3, 4], dtype="Int64"),
        "o": ["a", None, "b", math.nan],
        "c": pd.Categorical(["x", "y", "x", None]),
        "t": pd.to_datetime(["2024-01-01", None, "2024-01-03", "2024-01-04"]),
    })
    run.log_dataset(df, name="frame")
    run.finish()
    _, r = drift(store, f"{run.id}:frame", f"{run.id}:frame")
    c = columns(r)
    assert {k: (v["ref_dtype"], v["ref_n"]) for k, v in c.items()} == {
        "f": ("float", 3), "i": ("int", 3), "o": ("string", 2), "c": ("string", 3), "t": ("int", 3),
    }


def test_polars_frames(tb, store):
    pl = need("polars")
    run = tb.init(project="data", name="polars")
    df = pl.DataFrame({"f": [1.0, None, 3.0], "s": ["a", "b", None], "b": [True, False, None]})
    run.log_dataset(df, name="frame")
    run.finish()
    _, r = drift(store, f"{run.id}:frame", f"{run.id}:frame")
    c = columns(r)
    assert {k: (v["ref_dtype"], v["ref_n"]) for k, v in c.items()} == {
        "f": ("float", 2), "s": ("string", 2), "b": ("bool", 2),
    }


def test_pyarrow_tables(tb, store):
    pa = need("pyarrow")
    run = tb.init(project="data", name="arrow")
    t = pa.table({
        "f": pa.chunked_array([[1.0, None], [3.0, 4.0]]),
        "i": pa.array([1, 2, None, 4], type=pa.int32()),
        "s": pa.array(["a", None, "b", "a"]),
    })
    run.log_dataset(t, name="table")
    run.finish()
    _, r = drift(store, f"{run.id}:table", f"{run.id}:table")
    c = columns(r)
    assert {k: (v["ref_dtype"], v["ref_n"]) for k, v in c.items()} == {
        "f": ("float", 3), "i": ("int", 3), "s": ("string", 3),
    }


def test_a_frame_with_ten_thousand_columns(tb, store):
    pd = need("pandas")
    rng = np.random.default_rng(3)
    n_cols = 10_000
    df = pd.DataFrame(rng.normal(0, 1, (50, n_cols)), columns=[f"c{i}" for i in range(n_cols)])
    run = tb.init(project="data", name="wide")
    run.log_dataset(df, name="wide")
    shifted = df.copy()
    shifted["c9999"] = shifted["c9999"] + 5.0
    run.log_dataset(shifted, name="wide", step=1)
    run.finish()
    code, r = drift(store, f"{run.id}:wide", f"{run.id}:wide@1", "--columns", "c0,c9999")
    assert code == 1 and [k for k, c in columns(r).items() if c["drift"]] == ["c9999"]
    code, whole = drift(store, f"{run.id}:wide", f"{run.id}:wide@1")
    assert code == 0, "one drifted column of 10,000 is far below the dataset's share"
    assert len(whole["report"]["columns"]) == n_cols


def test_a_pandas_object_column_of_mixed_types_is_a_clear_error(tb, store):
    pd = need("pandas")
    run = tb.init(project="data", name="mixed")
    df = pd.DataFrame({"ok": [1.0, 2.0, 3.0], "bad": ["a", 2.5, "c"]})
    with pytest.raises((TypeError, ValueError), match="bad"):
        run.log_dataset(df, name="mixed")
    run.log_dataset(df[["ok"]], name="fine")
    run.finish()
    code, r = drift(store, f"{run.id}:fine", f"{run.id}:fine")
    assert code == 0 and set(columns(r)) == {"ok"}
