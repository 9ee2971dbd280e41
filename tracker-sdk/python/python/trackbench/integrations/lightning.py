"""PyTorch Lightning logger: ``Trainer(logger=TrackbenchLogger(project="mnist"))``.

Importing this module imports Lightning (``lightning`` or ``pytorch_lightning``) if it is
installed; without it the class still works as a plain object (its hook methods can be called
directly), which is how it is unit-tested on machines without Lightning.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

import trackbench

try:  # Lightning 2.x
    from lightning.pytorch.loggers.logger import Logger as _Base
    from lightning.pytorch.utilities import rank_zero_only
except ImportError:  # pragma: no cover - depends on what is installed
    try:
        from pytorch_lightning.loggers.logger import Logger as _Base  # type: ignore[no-redef]
        from pytorch_lightning.utilities import rank_zero_only  # type: ignore[no-redef]
    except ImportError:
        _Base = object  # type: ignore[assignment,misc]

        def rank_zero_only(fn: Any) -> Any:  # type: ignore[no-redef]
            return fn


class TrackbenchLogger(_Base):  # type: ignore[misc,valid-type]
    """Logs hyperparameters and metrics of a Lightning run to Trackbench (rank zero only)."""

    def __init__(self, project: Optional[str] = None, name: Optional[str] = None, **init_kwargs: Any) -> None:
        if _Base is not object:
            super().__init__()
        self._project = project
        self._name = name
        self._init_kwargs = init_kwargs
        self._run: Optional[trackbench.Run] = None

    @property
    def experiment(self) -> "trackbench.Run":
        """The Trackbench run (started on first use)."""
        if self._run is None:
            self._run = trackbench.init(project=self._project, name=self._name, **self._init_kwargs)
        return self._run

    @property
    def name(self) -> str:
        return self.experiment.project

    @property
    def version(self) -> str:
        return self.experiment.id

    @rank_zero_only
    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        if hasattr(params, "__dict__") and not isinstance(params, Mapping):
            params = vars(params)
        self.experiment.config.update(dict(params))

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, Any], step: Optional[int] = None) -> None:
        clean: Dict[str, Any] = {k: v for k, v in metrics.items() if k != "epoch" or step is None}
        if "epoch" in metrics and step is not None:
            clean["epoch"] = metrics["epoch"]
        self.experiment.log(clean, step=step)

    @rank_zero_only
    def save(self) -> None:
        if self._run is not None:
            self._run.flush()

    @rank_zero_only
    def finalize(self, status: str) -> None:
        if self._run is not None and not self._run.finished:
            self._run.finish(status="finished" if status in ("success", "finished") else "failed")
