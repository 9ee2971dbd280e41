"""The W&B- and MLflow-style API in one process, read back through the real CLI."""

from __future__ import annotations

import math
import subprocess
import time

import pytest

from conftest import export, py, show


class Scalar:
    """Stands in for numpy/torch/jax scalars: anything with `.item()`."""

    def __init__(self, v):
        self.v = v

    def item(self):
        return self.v


def test_init_log_config_summary_tags_artifact_finish(tb, store, tmp_path):
    run = tb.init(project="mnist", name="baseline", config={"lr": 3e-4, "model": {"depth": 4, "act": "relu"}},
                  tags=["baseline"], group="g1", notes="first try")
    assert tb.active_run() is run
    assert run.name == "baseline" and run.project == "mnist" and len(run.id) == 16
    assert run.url is None
    for step in range(100):
        run.log({"loss": 1.0 / (step + 1), "acc": step / 100}, step=step)
    run.log({"auto": 1.0})
    run.log({"auto": 2.0})
    tb.log({"via_module": 5.0})
    run.config["batch_size"] = 64
    run.config.update({"opt": {"name": "adam", "betas": [0.9, 0.99]}})
    run.summary["best_acc"] = 0.91
    run.set_tag("stage", "dev")
    art = tmp_path / "weights.bin"
    art.write_bytes(b"\x00" * 1000)
    run.log_artifact(art)
    run.log_artifact(art, name="ckpt/final.bin")
    run.finish()
    assert run.finished and tb.active_run() is None

    r = export(store, run.id)
    assert r["status"] == "finished" and r["group"] == "g1" and r["notes"] == "first try"
    assert r["params"] == {"lr": 3e-4, "model.depth": 4, "model.act": "relu", "batch_size": 64,
                           "opt.name": "adam", "opt.betas": [0.9, 0.99]}
    assert r["tags"] == {"baseline": "", "stage": "dev"}
    assert r["summary"] == {"best_acc": 0.91}
    assert r["metrics"]["loss"]["steps"] == list(range(100))
    assert r["metrics"]["loss"]["values"][3] == 0.25
    assert r["metrics"]["auto"]["steps"] == [100, 101], "no step = the run's own counter"
    assert r["metrics"]["via_module"]["steps"] == [102]
    arts = {a["path"]: a for a in show(store, run.id)["artifacts"]}
    assert set(arts) == {"weights.bin", "ckpt/final.bin"}
    assert arts["weights.bin"]["hash"] == arts["ckpt/final.bin"]["hash"]


def test_context_manager_marks_failed_with_the_exception_text(tb, store):
    with pytest.raises(RuntimeError):
        with tb.init(project="p") as run:
            run.log({"x": 1.0})
            raise RuntimeError("loss went to the moon")
    r = show(store, run.id)
    assert r["status"] == "failed"
    assert "loss went to the moon" in r["error"]
    with pytest.raises(KeyboardInterrupt):
        with tb.init(project="p") as run2:
            raise KeyboardInterrupt
    assert show(store, run2.id)["status"] == "killed"


def test_mlflow_style_helpers(tb, store, tmp_path):
    run = tb.start_run(run_name="mlf", experiment_name="exp")
    tb.log_param("lr", "0.01")
    tb.log_params({"epochs": 3, "opt": "sgd"})
    tb.log_metric("loss", 0.5, step=1)
    tb.log_metrics({"loss": 0.4, "acc": 0.8}, step=2)
    tb.set_tag("k", "v")
    tb.set_tags({"a": 1, "b": "two"})
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.txt").write_text("a")
    (tmp_path / "out" / "sub").mkdir()
    (tmp_path / "out" / "sub" / "b.json").write_text("{}")
    (tmp_path / "single.txt").write_text("s")
    tb.log_artifacts(tmp_path / "out", "outputs")
    tb.log_artifact(tmp_path / "single.txt", "extra")
    tb.end_run()
    r = show(store, run.id)
    assert r["project"] == "exp" and r["name"] == "mlf" and r["status"] == "finished"
    assert r["params"] == {"lr": "0.01", "epochs": 3, "opt": "sgd"}
    assert r["tags"] == {"k": "v", "a": "1", "b": "two"}
    assert r["metrics"]["loss"]["count"] == 2 and r["metrics"]["loss"]["last"] == 0.4
    assert sorted(a["path"] for a in r["artifacts"]) == ["extra/single.txt", "outputs/a.txt", "outputs/sub/b.json"]
    out = tb.start_run()
    tb.end_run(status="FAILED")
    assert show(store, out.id)["status"] == "failed"


def test_scalars_like_numpy_and_torch_bools_ints_nan_inf(tb, store):
    run = tb.init(project="p", config={"seed": Scalar(7), "wd": Scalar(0.5), "nan_param": float("nan")})
    run.log({"s": Scalar(0.25), "b": True, "i": 3, "big": 2**70, "nan": float("nan"), "inf": float("inf"),
             "ninf": -math.inf, "nested": {"a": 1.5, "b": Scalar(2)}}, step=0)
    run.log({"s": 0.75}, step=Scalar(1))
    run.finish()
    r = export(store, run.id)
    m = r["metrics"]
    assert m["s"]["values"] == [0.25, 0.75] and m["s"]["steps"] == [0, 1]
    assert m["b"]["values"] == [1.0] and m["i"]["values"] == [3.0] and m["big"]["values"] == [float(2**70)]
    assert m["nan"]["values"] == ["NaN"] and m["inf"]["values"] == ["Infinity"] and m["ninf"]["values"] == ["-Infinity"]
    assert m["nested.a"]["values"] == [1.5] and m["nested.b"]["values"] == [2.0]
    assert r["params"] == {"seed": 7, "wd": 0.5, "nan_param": "nan"}


@pytest.mark.parametrize("bad", [
    {"": 1.0},
    {"a\nb": 1.0},
    {"k" * 251: 1.0},
    {" padded": 1.0},
    {"ok": "not a number"},
    {"ok": None},
    {"ok": [1, 2]},
    {1: 1.0},
])
def test_refused_metrics_raise_valueerror_and_store_nothing(tb, store, bad):
    run = tb.init(project="p")
    with pytest.raises(ValueError):
        run.log({"good": 1.0, **bad}, step=0)
    run.finish()
    assert export(store, run.id)["metrics"] == {}, "a refused call stores none of its keys"


class GilReleasingScalar(Scalar):
    """A scalar whose `.item()` lets other threads run, as torch's CUDA `.item()` does."""

    def item(self):
        time.sleep(0)
        return self.v


def test_key_cache_orders_fresh_key_objects_overflow_and_threads(tb, store):
    """`run.log` remembers key objects by identity: every way a loop can break that (keys in
    another order, equal strings that are other objects, more keys than the cache holds,
    values that need `.item()`) still stores exactly what was logged."""
    run = tb.init(project="p")
    want = {}

    def log(d, step):
        run.log(d, step=step)
        for k, v in d.items():
            want.setdefault(k, []).append((step, float(v.item() if isinstance(v, Scalar) else v)))

    for step in range(300):
        keys = ["loss", "acc", "lr"] if step % 3 else ["lr", "loss", "acc", "extra"]
        # Every 5th step "loss" is an equal string that is another object.
        d = {("".join(["lo", "ss"]) if k == "loss" and step % 5 == 0 else k): step + i * 0.5
             for i, k in enumerate(keys)}
        if step % 7 == 0:
            d["acc"] = GilReleasingScalar(step * 2.0)
        log(d, step)
    for step in range(300, 305):  # 5 x 1000 new keys: the cache (4096) fills up
        log({f"wide/{step}/{k}": float(k) for k in range(1000)}, step)
    log({"loss": 1.0, "wide/300/0": 2.0, "late/new": 3.0}, 305)
    with pytest.raises(ValueError):
        run.log({"loss": 9.0, "bad\nkey": 1.0}, step=306)

    run.finish()
    m = export(store, run.id)["metrics"]
    assert set(m) == set(want)
    for k, pts in want.items():
        got = sorted(zip(m[k]["steps"], m[k]["values"]))
        assert got == sorted(pts), k


def test_two_threads_logging_values_whose_item_releases_the_gil_do_not_deadlock(store):
    """No lock of the run is held while `.item()` runs: it may release the GIL (torch's CUDA
    `.item()` does) and let another thread log. In a child process, so a deadlock fails the
    test instead of hanging the suite."""
    p = py("""
        import threading, time
        import trackbench
        class Slow:
            def __init__(self, v): self.v = v
            def item(self):
                time.sleep(0)
                return self.v
        run = trackbench.init(project="p")
        def worker(offset):
            for step in range(offset, 4000, 2):
                run.log({"thread": Slow(float(step)), "loss": float(step)}, step=step)
        threads = [threading.Thread(target=worker, args=(o,)) for o in (0, 1)]
        for t in threads: t.start()
        for t in threads: t.join()
        run.finish()
        print(run.id)
    """)
    try:
        out, err = p.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        p.kill()
        pytest.fail("two threads logging through run.log deadlocked")
    assert p.returncode == 0, err
    m = export(store, out.strip())["metrics"]
    for k in ("thread", "loss"):
        assert sorted(zip(m[k]["steps"], m[k]["values"])) == [(s, float(s)) for s in range(4000)], k


def test_refused_params_tags_and_artifacts(tb, store, tmp_path):
    run = tb.init(project="p")
    with pytest.raises(ValueError):
        run.config[""] = 1
    with pytest.raises(ValueError):
        run.config["x" * 300] = 1
    with pytest.raises(ValueError):
        run.config.update({"m": {(0, 1): "tuple keys have no text form"}})
    with pytest.raises(ValueError):
        run.config.update({True: "a bool is not a label id"})
    with pytest.raises(ValueError):
        run.set_tag("bad\tkey", "v")
    with pytest.raises(ValueError):
        run.log_artifact(tmp_path / "missing.bin")
    f = tmp_path / "f.txt"
    f.write_text("x")
    with pytest.raises(ValueError):
        run.log_artifact(f, name="../../etc/passwd")
    run.config.update({"model": {"id2label": {0: "neg", 1: "pos"}}})  # int keys, as in HF configs
    run.config["lr"] = 0.1
    run.config["lr"] = 0.2  # params are write-once
    run.flush()
    assert any("write-once" in r for r in run.rejected())
    run.finish()
    assert show(store, run.id)["params"] == {"lr": 0.1, "model.id2label.0": "neg", "model.id2label.1": "pos"}
    with pytest.raises(RuntimeError):
        run.log({"late": 1.0})


def test_attach_via_env_and_url(tb, store, monkeypatch):
    first = tb.init(project="p", name="launched")
    first.log({"a": 1.0}, step=0)
    first.finish()
    monkeypatch.setenv("TRACKBENCH_RUN_ID", first.id)
    again = tb.init(project="ignored")
    assert again.id == first.id and again.name == "launched"
    assert again.url is None
    # (TRACKBENCH_URL also switches the transport; see test_remote.py. Here only the link.)
    monkeypatch.setenv("TRACKBENCH_URL", "http://127.0.0.1:5005/")
    assert again.url == f"http://127.0.0.1:5005/runs/{first.id}"
    again.log({"a": 2.0}, step=1)
    again.finish()
    assert export(store, first.id)["metrics"]["a"]["values"] == [1.0, 2.0]
    monkeypatch.setenv("TRACKBENCH_RUN_ID", "doesnotexist")
    with pytest.raises(tb.StoreError):
        tb.init(project="p")


def test_store_errors_are_trackbench_storeerror(tb, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(tb.StoreError):
        tb.init(project="p", dir=str(blocker / "store"))
