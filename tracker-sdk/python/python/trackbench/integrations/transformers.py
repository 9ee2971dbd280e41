"""Hugging Face ``TrainerCallback``: ``Trainer(..., callbacks=[TrackbenchCallback(project="glue")])``.

Importing this module imports ``transformers`` if it is installed; without it the class is a
plain object whose hook methods can still be called (that is how it is unit-tested here).
"""

from __future__ import annotations

from typing import Any, Dict, Optional

import trackbench

try:
    from transformers import TrainerCallback as _Base
except ImportError:  # pragma: no cover - depends on what is installed
    _Base = object  # type: ignore[assignment,misc]


def _is_main(state: Any) -> bool:
    return bool(getattr(state, "is_world_process_zero", True))


class TrackbenchCallback(_Base):  # type: ignore[misc,valid-type]
    """Logs the training arguments, the model config and every ``logs`` dict to Trackbench."""

    def __init__(self, project: Optional[str] = None, name: Optional[str] = None, **init_kwargs: Any) -> None:
        self._project = project
        self._name = name
        self._init_kwargs = init_kwargs
        self.run: Optional[trackbench.Run] = None

    def _ensure(self, args: Any, model: Any = None) -> "trackbench.Run":
        if self.run is None:
            name = self._name or getattr(args, "run_name", None)
            self.run = trackbench.init(project=self._project, name=name, **self._init_kwargs)
            config: Dict[str, Any] = {}
            to_dict = getattr(args, "to_sanitized_dict", None) or getattr(args, "to_dict", None)
            if callable(to_dict):
                config["args"] = to_dict()
            model_config = getattr(model, "config", None)
            if model_config is not None and callable(getattr(model_config, "to_dict", None)):
                config["model"] = model_config.to_dict()
            if config:
                self.run.config.update(config)
        return self.run

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if _is_main(state):
            self._ensure(args, model)

    def on_log(self, args: Any, state: Any, control: Any, logs: Optional[Dict[str, Any]] = None, **kwargs: Any) -> None:
        if not _is_main(state) or not logs:
            return
        run = self._ensure(args, kwargs.get("model"))
        numeric = {k: v for k, v in logs.items() if isinstance(v, (int, float)) or hasattr(v, "item")}
        for k, v in logs.items():
            if k not in numeric:
                run.summary[k] = v
        if numeric:
            run.log(numeric, step=int(getattr(state, "global_step", 0)))

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.run is not None and _is_main(state):
            self.run.flush()

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.run is not None and _is_main(state) and not self.run.finished:
            self.run.finish()
