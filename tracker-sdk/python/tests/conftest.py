"""Fixtures: a fresh store per test, the real `trackbench` CLI to read it back, and a way to
run Python snippets in child processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

import trackbench
from trackbench import _run

CLI = os.environ.get("TRACKBENCH_BIN") or "trackbench"


@pytest.fixture(autouse=True)
def store(tmp_path, monkeypatch):
    """Every test gets its own store folder in $TRACKBENCH_DIR and no current run."""
    d = tmp_path / "store"
    monkeypatch.setenv("TRACKBENCH_DIR", str(d))
    for var in ("TRACKBENCH_RUN_ID", "TRACKBENCH_URL", "TRACKBENCH_PROJECT"):
        monkeypatch.delenv(var, raising=False)
    yield d
    for run in list(_run._open_runs):
        if not run.finished:
            run.finish()
    _run._current = None


def cli(store, *args, check=True):
    """Runs the real CLI against `store`; parses JSON output when `--json`-like."""
    out = subprocess.run([CLI, "--store", str(store), *args], capture_output=True, text=True)
    if check and out.returncode != 0:
        raise AssertionError(f"trackbench {args} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    return out


def show(store, run_id, timeout=None):
    args = ["runs", "show", run_id, "--json"]
    if timeout is not None:
        args = ["--heartbeat-timeout", str(timeout), *args]
    return json.loads(cli(store, *args).stdout)


def export(store, run_id):
    """Every point and param of a run, via `trackbench export --format json`."""
    return json.loads(cli(store, "export", run_id, "--format", "json").stdout)["runs"][0]


def py(code, *, env=None, **kw):
    """Starts `python -c code` (dedented) with this interpreter."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=full_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


@pytest.fixture
def tb():
    return trackbench
