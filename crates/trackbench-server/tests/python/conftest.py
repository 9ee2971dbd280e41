"""Starts the real `trackbench serve` (from $TRACKBENCH_BIN) on a free port over a temp store,
and points the MLflow client at it with the token in MLFLOW_TRACKING_TOKEN."""

import os
import re
import subprocess
import sys
import threading

import pytest

TOKEN = "pytest-mlflow-token"


def _binary():
    path = os.environ.get("TRACKBENCH_BIN")
    if not path or not os.path.exists(path):
        pytest.fail("set TRACKBENCH_BIN to the built `trackbench` binary (cargo xtask test does)")
    return path


class Server:
    def __init__(self, store):
        self.store = str(store)
        env = dict(os.environ, TRACKBENCH_TOKEN=TOKEN, TRACKBENCH_DIR=self.store)
        self.proc = subprocess.Popen(
            [_binary(), "--store", self.store, "serve", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.url = None
        for line in self.proc.stdout:
            m = re.search(r"MLFLOW_TRACKING_URI=(\S+)", line)
            if m:
                self.url = m.group(1)
                break
        if self.url is None:
            err = self.proc.stderr.read()
            raise RuntimeError(f"trackbench serve did not print its URL: {err}")
        # Keep draining stderr so the server never blocks on a full pipe.
        threading.Thread(target=lambda: [sys.stderr.write(l) for l in self.proc.stderr], daemon=True).start()

    def cli(self, *args):
        out = subprocess.run(
            [_binary(), "--store", self.store, *args], capture_output=True, text=True, check=True
        )
        return out.stdout

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("store"))
    yield s
    s.stop()


@pytest.fixture()
def tracking(server, monkeypatch):
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", TOKEN)
    mlflow.set_tracking_uri(server.url)
    yield server
    while mlflow.active_run():
        mlflow.end_run()
