"""``run.log_dataset``: tables from numpy, dicts, pandas, polars and pyarrow profiled in Rust,
stored with the run, and read back through the real CLI's ``trackbench drift``. A library the
test venv lacks is skipped with the reason (``pytest -rs`` prints it)."""

from __future__ import annotations

import json
import math

import pytest

from conftest import cli

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
    pd = pytest.importorskip("pandas", reason="pandas is not installed in the test venv")
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
    pl = pytest.importorskip("polars", reason="polars is not installed in the test venv")
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
    pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed in the test venv")
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
