"""Starts the real `trackbench serve` (from $TRACKBENCH_BIN) on a free port over a temp store,
and points the MLflow client at it with the token in MLFLOW_TRACKING_TOKEN.

Reference mode: with MLFLOW_REFERENCE=1 the same fixtures start a real MLflow tracking server
(`mlflow server` over SQLite, serving artifacts) instead, so the suite can be checked against
MLflow's own behaviour. Trackbench-only steps (`server.cli(...)`) skip there, saying why."""

import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

TOKEN = "pytest-mlflow-token"
REFERENCE = os.environ.get("MLFLOW_REFERENCE") == "1"


def _binary():
    path = os.environ.get("TRACKBENCH_BIN")
    if not path or not os.path.exists(path):
        pytest.fail("set TRACKBENCH_BIN to the built `trackbench` binary (cargo xtask test does)")
    return path


class Server:
    reference = False

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


class ReferenceServer:
    """A real `mlflow server` (SQLite backend, proxied artifacts) in place of trackbench."""

    reference = True

    def __init__(self, root):
        root.mkdir(parents=True, exist_ok=True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        # The server's log (its access log lists every REST call the client made).
        self.log_path = root / "mlflow-server.log"
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [
                sys.executable, "-m", "mlflow", "server",
                "--host", "127.0.0.1",
                "--port", str(port),
                "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
                "--artifacts-destination", str(root / "artifacts"),
                "--serve-artifacts",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=str(root),
        )
        deadline = time.monotonic() + 180
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mlflow server exited: {self.log_path.read_text()[-4000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"mlflow server did not answer /health: {self.log_path.read_text()[-4000:]}")
            time.sleep(0.5)
        print(f"\nreference mode: real MLflow server at {self.url}, log {self.log_path}")

    def cli(self, *args):
        pytest.skip(f"reference mode: `trackbench {' '.join(args[:2])}` is trackbench-only, not in MLflow")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._log.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    if REFERENCE:
        s = ReferenceServer(tmp_path_factory.mktemp("mlflow-reference"))
    else:
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
