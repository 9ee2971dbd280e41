"""The Python run API: ``Run``, ``init`` and the MLflow-style module helpers.

Life cycle: ``finish()`` -> finished; an uncaught exception -> failed, with the traceback kept
(``sys.excepthook``); ``KeyboardInterrupt`` -> killed; interpreter exit without ``finish`` ->
flushed and finished (``atexit``); SIGKILL -> ``crashed`` once the heartbeat is stale. In a
forked child (DataLoader workers, multiprocessing) runs inherited from the parent do nothing
and warn once; start a new run in the child to log from it.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import traceback
import warnings
from typing import Any, Dict, Iterator, List, Mapping, MutableMapping, Optional, Sequence, Tuple, Union

from . import _convert, _data
from ._native import NativeRun, mark_forked

_lock = threading.RLock()
_current: Optional["Run"] = None
_open_runs: List["Run"] = []
_pid = os.getpid()
_fork_warned = False


def _warn_forked() -> None:
    global _fork_warned
    if not _fork_warned:
        _fork_warned = True
        warnings.warn(
            "trackbench: this process was forked from the one that started the run; logging to the "
            "parent's run from here is ignored (call trackbench.init() in the child to log from it)",
            RuntimeWarning,
            stacklevel=3,
        )


def _after_fork_in_child() -> None:
    global _current, _open_runs, _pid
    mark_forked()
    _pid = os.getpid()
    for run in _open_runs:
        run._forked = True
    _open_runs = []
    _current = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class Config(MutableMapping[str, Any]):
    """``run.config``: params, logged when set. Nested dicts flatten to dotted keys; params are
    write-once (setting a different value later is refused by the store and reported)."""

    def __init__(self, run: "Run") -> None:
        self._run = run
        self._data: Dict[str, Any] = {}

    def update(self, other: Any = (), /, **kwargs: Any) -> None:  # type: ignore[override]
        merged: Dict[str, Any] = {}
        if other:
            merged.update(_convert.to_config(other) if not isinstance(other, Mapping) else other)
        merged.update(kwargs)
        flat = _convert.flatten(merged)
        self._run._native_call("log_params_json", _convert.json_pairs(flat))
        self._data.update(flat)

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __delitem__(self, key: str) -> None:
        raise TypeError("params are write-once and cannot be deleted")

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self._data[key]
        except KeyError:
            raise AttributeError(key) from None

    def __repr__(self) -> str:
        return f"Config({self._data!r})"


class Summary(MutableMapping[str, Any]):
    """``run.summary``: final values shown with the run (the last write wins)."""

    def __init__(self, run: "Run") -> None:
        self._run = run
        self._data: Dict[str, Any] = {}

    def __setitem__(self, key: str, value: Any) -> None:
        self._run._native_call("set_summary_json", key, _convert.json_text(value))
        self._data[key] = value

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __delitem__(self, key: str) -> None:
        raise TypeError("summary values cannot be deleted; set a new value instead")

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"Summary({self._data!r})"


class Run:
    """One tracked run. Use ``trackbench.init()`` to make one; ``with`` finishes it."""

    def __init__(self, native: NativeRun) -> None:
        self._native = native
        self._forked = False
        self.config = Config(self)
        self.summary = Summary(self)
        # The hot call goes straight to the extension (no Python frame in between); the
        # method below documents it and serves subclasses.
        self.log = native.log  # type: ignore[method-assign]

    # --- identity -------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self._native.id

    @property
    def name(self) -> str:
        return self._native.name

    @property
    def project(self) -> str:
        return self._native.project

    @property
    def dir(self) -> str:
        """The store folder this run writes to."""
        return self._native.store_dir

    @property
    def url(self) -> Optional[str]:
        """The run's page on a Trackbench server, when ``TRACKBENCH_URL`` names one."""
        base = os.environ.get("TRACKBENCH_URL")
        return f"{base.rstrip('/')}/runs/{self.id}" if base else None

    @property
    def finished(self) -> bool:
        return self._native.finished

    def __repr__(self) -> str:
        return f"<trackbench.Run {self.id} {self.project}/{self.name}>"

    # --- logging --------------------------------------------------------------------------
    def _native_call(self, method: str, *args: Any) -> Any:
        if self._forked:
            _warn_forked()
            return None
        result = getattr(self._native, method)(*args)
        if result is False and method != "finish":
            _warn_forked()
        return result

    def log(self, data: Mapping[str, Any], step: Optional[int] = None, commit: Any = None) -> None:
        """Logs metrics at ``step`` (default: the run's own counter, which then advances).
        Values: numbers, bools, or numpy/torch/jax scalars (anything with ``.item()``).
        Nested dicts flatten with ``.``."""
        if self._forked:
            _warn_forked()
            return
        if not isinstance(data, dict):
            data = dict(data)
        if step is not None and not isinstance(step, int):
            step = int(_convert.scalar(step))
        if self._native.log(data, step) is False:
            _warn_forked()

    def log_metric(self, key: str, value: Any, step: Optional[int] = None) -> None:
        self.log({key: value}, step=step)

    def log_metrics(self, metrics: Mapping[str, Any], step: Optional[int] = None) -> None:
        self.log(metrics, step=step)

    def log_param(self, key: str, value: Any) -> None:
        self.config[key] = value

    def log_params(self, params: Mapping[str, Any]) -> None:
        self.config.update(params)

    def set_tag(self, key: str, value: Any) -> None:
        self._native_call("set_tag", key, str(value))

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        for k, v in tags.items():
            self.set_tag(k, v)

    def log_artifact(self, path: Union[str, "os.PathLike[str]"], name: Optional[str] = None) -> None:
        """Stores a file or a folder (recursively) with the run; returns once stored."""
        path = os.fspath(path)
        if not os.path.exists(path):
            raise ValueError(f"cannot log artifact {path!r}: no such file or folder")
        self._native_call("log_artifact", path, name)

    def log_artifacts(self, local_dir: Union[str, "os.PathLike[str]"], artifact_path: Optional[str] = None) -> None:
        self.log_artifact(local_dir, artifact_path or "")

    def log_dataset(
        self,
        data: Any,
        name: str = "train",
        context: Optional[str] = "training",
        step: Optional[int] = None,
        columns: Optional[Sequence[str]] = None,
    ) -> Optional[str]:
        """Profiles a table and stores the profile with the run as dataset input ``name``
        (MLflow's dataset input, with ``context``: ``training``, ``validation``, ``serving``…).
        ``data``: a pandas or polars DataFrame, a pyarrow Table, a 2-D numpy array (names in
        ``columns``) or a dict of columns; for other tables ``columns`` picks the columns.
        ``step`` logs one profile per batch (daily traffic, say) for ``trackbench drift series``.
        The same table again under the same name and step is stored once. Returns the digest."""
        if step is not None and not isinstance(step, int):
            step = int(_convert.scalar(step))
        cols = _data.columns_of(data, columns)
        return self._native_call("log_dataset", name, cols, context, step) or None

    def log_text(self, line: str, stream: str = "stdout") -> None:
        """Records one line of output with the run."""
        self._native_call("log_line", stream, line)

    def flush(self) -> None:
        """Blocks until everything logged so far is stored; raises StoreError if it can't be."""
        self._native_call("flush")

    def rejected(self) -> List[str]:
        """What the store refused so far (e.g. a param set twice with different values)."""
        return list(self._native_call("rejected") or [])

    # --- ending ---------------------------------------------------------------------------
    def finish(self, exit_code: Optional[int] = None, status: Optional[str] = None, error: Optional[str] = None) -> None:
        """Flushes everything and ends the run: ``finished`` (or ``failed`` for a non-zero
        ``exit_code``, or the given ``status``: finished, failed, killed)."""
        global _current
        if self._forked:
            return
        if status is None:
            status = "failed" if exit_code not in (None, 0) else "finished"
        with _lock:
            if _current is self:
                _current = None
            if self in _open_runs:
                _open_runs.remove(self)
        self._native.finish(status.lower(), error)

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.finish()
        elif issubclass(exc_type, KeyboardInterrupt):
            self.finish(status="killed", error="KeyboardInterrupt")
        else:
            self.finish(status="failed", error="".join(traceback.format_exception(exc_type, exc, tb)))


def init(
    project: Optional[str] = None,
    name: Optional[str] = None,
    config: Any = None,
    tags: Union[Sequence[str], Mapping[str, Any], None] = None,
    group: Optional[str] = None,
    notes: Optional[str] = None,
    dir: Optional[str] = None,
    resume: Optional[str] = None,
    **_ignored: Any,
) -> Run:
    """Starts a run (or attaches to ``resume`` / ``$TRACKBENCH_RUN_ID``) and makes it current.

    ``tags`` may be a list of labels (stored as tags with an empty value) or a mapping.
    ``dir`` is the store folder (default ``$TRACKBENCH_DIR`` or the platform data dir).
    """
    global _current
    project = project or os.environ.get("TRACKBENCH_PROJECT") or "default"
    resume = resume or os.environ.get("TRACKBENCH_RUN_ID") or None
    tag_pairs: List[Tuple[str, str]] = []
    if isinstance(tags, Mapping):
        tag_pairs = [(str(k), str(v)) for k, v in tags.items()]
    elif tags:
        tag_pairs = [(str(t), "") for t in tags]
    native = NativeRun(project, name, group, notes, tag_pairs, resume, dir)
    run = Run(native)
    if config is not None:
        run.config.update(_convert.to_config(config))
    with _lock:
        _open_runs.append(run)
        _current = run
    _install_hooks()
    return run


def active_run() -> Optional[Run]:
    """The current run, if any."""
    return _current


def _require_run() -> Run:
    run = _current
    if run is None:
        run = init()
    return run


def log(data: Mapping[str, Any], step: Optional[int] = None, commit: Any = None) -> None:
    """``run.log`` on the current run (one is started if none is)."""
    _require_run().log(data, step=step)


def log_metric(key: str, value: Any, step: Optional[int] = None) -> None:
    _require_run().log({key: value}, step=step)


def log_metrics(metrics: Mapping[str, Any], step: Optional[int] = None) -> None:
    _require_run().log(metrics, step=step)


def log_param(key: str, value: Any) -> None:
    _require_run().config[key] = value


def log_params(params: Mapping[str, Any]) -> None:
    _require_run().config.update(params)


def set_tag(key: str, value: Any) -> None:
    _require_run().set_tag(key, value)


def set_tags(tags: Mapping[str, Any]) -> None:
    _require_run().set_tags(tags)


def log_artifact(local_path: Union[str, "os.PathLike[str]"], artifact_path: Optional[str] = None) -> None:
    """Stores a file; ``artifact_path`` (MLflow) is the folder inside the run."""
    path = os.fspath(local_path)
    name = os.path.basename(path.rstrip("/"))
    _require_run().log_artifact(path, f"{artifact_path.strip('/')}/{name}" if artifact_path else None)


def log_dataset(
    data: Any,
    name: str = "train",
    context: Optional[str] = "training",
    step: Optional[int] = None,
    columns: Optional[Sequence[str]] = None,
) -> Optional[str]:
    """``Run.log_dataset`` on the current run."""
    return _require_run().log_dataset(data, name=name, context=context, step=step, columns=columns)


def log_artifacts(local_dir: Union[str, "os.PathLike[str]"], artifact_path: Optional[str] = None) -> None:
    _require_run().log_artifacts(local_dir, artifact_path)


def start_run(run_name: Optional[str] = None, experiment_name: Optional[str] = None, tags: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> Run:
    """MLflow-style: starts a run in project ``experiment_name``."""
    return init(project=experiment_name or kwargs.pop("project", None), name=run_name, tags=tags, **kwargs)


def end_run(status: str = "FINISHED") -> None:
    """MLflow-style: ends the current run (FINISHED, FAILED or KILLED)."""
    run = _current
    if run is not None:
        run.finish(status=status.lower())


def finish(exit_code: Optional[int] = None) -> None:
    """Finishes the current run."""
    run = _current
    if run is not None:
        run.finish(exit_code=exit_code)


# --- process-level hooks -------------------------------------------------------------------
_hooks_installed = False
_exit_status: Optional[Tuple[str, Optional[str]]] = None


def _excepthook(exc_type: Any, exc: Any, tb: Any) -> None:
    global _exit_status
    if issubclass(exc_type, KeyboardInterrupt):
        _exit_status = ("killed", "KeyboardInterrupt")
    else:
        _exit_status = ("failed", "".join(traceback.format_exception(exc_type, exc, tb)))
    _previous_excepthook(exc_type, exc, tb)


_previous_excepthook = sys.excepthook


def _at_exit() -> None:
    if os.getpid() != _pid:
        return  # a forked child exiting: the runs are the parent's
    status, error = _exit_status or ("finished", None)
    for run in list(_open_runs):
        try:
            run.finish(status=status, error=error)
        except Exception as e:  # noqa: BLE001 - at exit, report and go on
            print(f"trackbench: could not finish run {run.id}: {e}", file=sys.stderr)


def _install_hooks() -> None:
    global _hooks_installed, _previous_excepthook
    if _hooks_installed:
        return
    _hooks_installed = True
    _previous_excepthook = sys.excepthook
    sys.excepthook = _excepthook
    atexit.register(_at_exit)
