"""Starts the real `trackbench serve` (from $TRACKBENCH_BIN) on a free port over a temp store,
and points the MLflow client at it with the token in MLFLOW_TRACKING_TOKEN.

Reference mode: with MLFLOW_REFERENCE=1 the same fixtures start a real MLflow tracking server
(`mlflow server` over SQLite, serving artifacts) instead, so the suite can be checked against
MLflow's own behaviour. Trackbench-only steps (`server.cli(...)`) skip there, saying why.

Team mode: with TRACKBENCH_TEST_TEAM_POSTGRES (an admin URL, `postgres://USER@HOST:PORT/DB`, whose
user may create databases) and TRACKBENCH_TEST_TEAM_S3 (`http://KEY:SECRET@HOST:PORT/BUCKET`, an
S3-protocol server such as the moto one `cargo xtask test` starts) both set, the server runs on a
team store instead: a fresh database on that PostgreSQL and a fresh prefix in that bucket, and
`server.cli(...)` runs the CLI against the same team store. The tests themselves are unchanged."""

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid

import pytest

TOKEN = "pytest-mlflow-token"
REFERENCE = os.environ.get("MLFLOW_REFERENCE") == "1"
TEAM_POSTGRES = os.environ.get("TRACKBENCH_TEST_TEAM_POSTGRES", "")
TEAM_S3 = os.environ.get("TRACKBENCH_TEST_TEAM_S3", "")
TEAM = bool(TEAM_POSTGRES and TEAM_S3)


def _binary():
    path = os.environ.get("TRACKBENCH_BIN")
    if not path or not os.path.exists(path):
        pytest.fail("set TRACKBENCH_BIN to the built `trackbench` binary (cargo xtask test does)")
    return path


def _psql():
    """PostgreSQL's `psql` client: on PATH, else in Debian's versioned folder."""
    found = shutil.which("psql")
    if found:
        return found
    root = "/usr/lib/postgresql"
    versions = sorted(os.listdir(root), key=lambda v: int(v) if v.isdigit() else 0) if os.path.isdir(root) else []
    for v in reversed(versions):
        candidate = os.path.join(root, v, "bin", "psql")
        if os.path.exists(candidate):
            return candidate
    pytest.fail("team mode needs PostgreSQL's `psql` client (on PATH or in /usr/lib/postgresql/*/bin)")


class TeamStore:
    """A fresh database on the admin URL's PostgreSQL and a fresh prefix in the S3 URL's bucket."""

    def __init__(self, admin_url, s3_url):
        self.admin_url = admin_url
        self.database = f"tb_pytest_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self._sql(f'CREATE DATABASE "{self.database}"')
        admin = urllib.parse.urlsplit(admin_url)
        self.url = urllib.parse.urlunsplit(admin._replace(path="/" + self.database))
        s3 = urllib.parse.urlsplit(s3_url)
        bucket = s3.path.strip("/")
        if not (s3.hostname and s3.username and s3.password and bucket):
            pytest.fail(f"TRACKBENCH_TEST_TEAM_S3 must be http://KEY:SECRET@HOST:PORT/BUCKET, not {s3_url!r}")
        self.artifacts = f"s3://{bucket}/pytest-{uuid.uuid4().hex[:12]}"
        self.env = {
            "AWS_ENDPOINT_URL": f"{s3.scheme}://{s3.hostname}:{s3.port}" if s3.port else f"{s3.scheme}://{s3.hostname}",
            "AWS_ALLOW_HTTP": "true",
            "AWS_ACCESS_KEY_ID": urllib.parse.unquote(s3.username),
            "AWS_SECRET_ACCESS_KEY": urllib.parse.unquote(s3.password),
            "AWS_REGION": "us-east-1",
        }
        # The team store is named on the command line; nothing may fall back to a folder's.
        self.args = ["--store", self.url, "--artifacts", self.artifacts]

    def _sql(self, statement):
        out = subprocess.run(
            [_psql(), self.admin_url, "-v", "ON_ERROR_STOP=1", "-q", "-c", statement],
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            pytest.fail(f"psql {statement!r} on {self.admin_url} failed: {out.stderr.strip()}")

    def drop(self):
        self._sql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


class Server:
    reference = False

    def __init__(self, store, team=None):
        self.store = str(store)
        self.team = team
        env = dict(os.environ, TRACKBENCH_TOKEN=TOKEN, TRACKBENCH_DIR=self.store)
        self.store_args = ["--store", self.store]
        if team is not None:
            env.update(team.env)
            self.store_args = team.args
            print(f"\nteam mode: trackbench serve on {team.url} with artifacts in {team.artifacts}")
        # The CLI gets the S3 settings too (a store folder's CLI runs as before).
        self.cli_env = dict(os.environ, **team.env) if team is not None else None
        self.proc = subprocess.Popen(
            [_binary(), *self.store_args, "serve", "--port", "0"],
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
            if team is not None:
                team.drop()
            raise RuntimeError(f"trackbench serve did not print its URL: {err}")
        # Keep draining stderr so the server never blocks on a full pipe.
        threading.Thread(target=lambda: [sys.stderr.write(l) for l in self.proc.stderr], daemon=True).start()

    def cli(self, *args):
        out = subprocess.run(
            [_binary(), *self.store_args, *args], capture_output=True, text=True, env=self.cli_env
        )
        if out.returncode != 0:
            raise AssertionError(f"trackbench {' '.join(args)} exited {out.returncode}: {out.stderr.strip()}")
        return out.stdout

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        if self.team is not None:
            self.team.drop()


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
    elif TEAM_POSTGRES or TEAM_S3:
        if not TEAM:
            pytest.fail("team mode needs both TRACKBENCH_TEST_TEAM_POSTGRES and TRACKBENCH_TEST_TEAM_S3")
        s = Server(tmp_path_factory.mktemp("store"), TeamStore(TEAM_POSTGRES, TEAM_S3))
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
