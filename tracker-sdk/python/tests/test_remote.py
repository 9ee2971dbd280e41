"""The HTTP transport from Python: with TRACKBENCH_URL set, the unchanged API logs to a
Trackbench server (the real `trackbench serve`), and the data lands in the server's store."""

from __future__ import annotations

import math
import subprocess

import pytest

import trackbench

from conftest import CLI, export, show

TOKEN = "py-remote-token"


@pytest.fixture
def server(tmp_path):
    store = tmp_path / "server-store"
    proc = subprocess.Popen([CLI, "--store", str(store), "serve", "--port", "0"],
                            stdout=subprocess.PIPE, text=True, env={"TRACKBENCH_TOKEN": TOKEN, "PATH": "/usr/bin:/bin"})
    url = None
    for line in proc.stdout:
        if line.strip().startswith("open:"):
            url = line.split("open:", 1)[1].strip().split("/?token=")[0]
            break
    assert url, "the server printed its URL"
    yield store, url
    proc.kill()
    proc.wait()


def test_logging_goes_to_the_server_named_by_trackbench_url(server, store, monkeypatch, tmp_path):
    server_store, url = server
    monkeypatch.setenv("TRACKBENCH_URL", url)
    monkeypatch.setenv("TRACKBENCH_TOKEN", TOKEN)
    run = trackbench.init(project="remote-py", name="http", config={"lr": 0.01, "model": {"depth": 3}})
    for step in range(500):
        run.log({"loss": 1.0 / (step + 1), "odd": float("nan") if step == 3 else step}, step=step)
    art = tmp_path / "notes.txt"
    art.write_text("hello")
    run.log_artifact(str(art))
    run.summary["best"] = 0.5
    run_id = run.id
    assert run.dir == url
    run.finish()

    shown = show(server_store, run_id)
    assert shown["status"] == "finished"
    assert shown["name"] == "http"
    data = export(server_store, run_id)
    assert data["params"]["model.depth"] == 3
    loss = data["metrics"]["loss"]
    assert len(loss["steps"]) == 500
    odd = data["metrics"]["odd"]["values"]
    assert odd[3] == "NaN" or (isinstance(odd[3], float) and math.isnan(odd[3]))
    assert not store.exists(), "nothing was written to the local store"


def test_an_explicit_dir_still_means_the_local_store(server, store, monkeypatch, tmp_path):
    _, url = server
    monkeypatch.setenv("TRACKBENCH_URL", url)
    monkeypatch.setenv("TRACKBENCH_TOKEN", TOKEN)
    local = tmp_path / "local"
    run = trackbench.init(project="p", dir=str(local))
    run.log({"x": 1.0})
    run_id = run.id
    run.finish()
    assert show(local, run_id)["status"] == "finished"


def test_a_wrong_token_is_a_clear_error(server, monkeypatch):
    _, url = server
    monkeypatch.setenv("TRACKBENCH_URL", url)
    monkeypatch.setenv("TRACKBENCH_TOKEN", "wrong")
    with pytest.raises(Exception, match="(?i)token"):
        trackbench.init(project="p")


@pytest.mark.parametrize("wire", ["binary", "json"])
def test_every_value_arrives_bit_exact_in_either_wire_form(server, store, monkeypatch, wire):
    server_store, url = server
    monkeypatch.setenv("TRACKBENCH_URL", url)
    monkeypatch.setenv("TRACKBENCH_TOKEN", TOKEN)
    if wire == "json":
        monkeypatch.setenv("TRACKBENCH_WIRE", "json")
    specials = [float("inf"), float("-inf"), -0.0, 5e-324, 1.7976931348623157e308, 0.1]
    values = [specials[s % len(specials)] if s % 7 == 0 else math.sin(s) * 1e3 for s in range(10_000)]
    run = trackbench.init(project="wire-py", name=wire)
    for step, v in enumerate(values):
        run.log({"v": v, "nan": float("nan")}, step=step)
    run_id = run.id
    run.finish()
    data = export(server_store, run_id)
    got = data["metrics"]["v"]["values"]
    as_float = [float(x) if isinstance(x, str) else x for x in got]
    assert [math.copysign(1, x) for x in as_float] == [math.copysign(1, x) for x in values], "signs, -0.0 too"
    assert as_float == values, "every value as logged"
    assert all(x == "NaN" or math.isnan(x) for x in data["metrics"]["nan"]["values"])
