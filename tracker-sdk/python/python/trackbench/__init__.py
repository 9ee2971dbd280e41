"""Trackbench: local-first experiment tracking.

W&B-style::

    import trackbench as tb
    run = tb.init(project="mnist", config={"lr": 3e-4, "model": {"depth": 4}})
    for step in range(1000):
        run.log({"loss": loss, "acc": acc}, step=step)
    run.summary["best_acc"] = 0.91
    run.finish()

MLflow-style helpers act on the current run (started on first use)::

    tb.start_run(run_name="baseline")
    tb.log_param("lr", 3e-4); tb.log_metric("loss", 0.3, step=1)
    tb.end_run()

Logging only enqueues; a Rust background thread writes batches into the local SQLite store
(``$TRACKBENCH_DIR`` or the platform data dir). Nothing logged before a normal exit is lost.
"""

from __future__ import annotations

from ._native import StoreError
from ._run import (
    Config,
    Run,
    Summary,
    active_run,
    end_run,
    finish,
    init,
    log,
    log_artifact,
    log_artifacts,
    log_dataset,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    set_tag,
    set_tags,
    start_run,
)

__version__ = "0.1.0"

__all__ = [
    "Config",
    "Run",
    "StoreError",
    "Summary",
    "active_run",
    "end_run",
    "finish",
    "init",
    "log",
    "log_artifact",
    "log_artifacts",
    "log_dataset",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "set_tag",
    "set_tags",
    "start_run",
    "__version__",
]
