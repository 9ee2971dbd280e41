"""Converting Python values (numpy/torch/jax scalars included, by duck typing) to JSON."""

from __future__ import annotations

import json
import math
from typing import Any, Dict, Iterable, List, Mapping, Tuple


def scalar(value: Any) -> Any:
    """A JSON-able version of ``value``: numbers, bools, str, None, lists; ``.item()``
    objects (numpy/torch/jax scalars, 0-d arrays) unwrapped; NaN/inf as strings."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return repr(value)  # 'nan', 'inf', '-inf'
        return value
    if hasattr(value, "item") and callable(value.item):
        try:
            return scalar(value.item())
        except (TypeError, ValueError):
            pass  # a multi-element array: fall through to tolist()
    if hasattr(value, "tolist") and callable(value.tolist):
        return scalar(value.tolist())
    if isinstance(value, (list, tuple)):
        return [scalar(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): scalar(v) for k, v in value.items()}
    return str(value)


def flatten(config: Mapping[str, Any], prefix: str = "") -> Dict[str, Any]:
    """``{"model": {"depth": 4}}`` -> ``{"model.depth": 4}``, values made JSON-able.

    Integer keys become their decimal text (Hugging Face configs carry ``id2label = {0: ...}``,
    which W&B and MLflow both accept); any other non-str key is refused."""
    out: Dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(key, int) and not isinstance(key, bool):
            key = str(key)
        elif not isinstance(key, str):
            raise ValueError(f"config keys must be str or int, got {type(key).__name__}: {key!r}")
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping):
            out.update(flatten(value, full))
        else:
            out[full] = scalar(value)
    return out


def to_config(config: Any) -> Mapping[str, Any]:
    """Accepts a dict, an argparse Namespace, a dataclass or anything with ``__dict__``."""
    if config is None:
        return {}
    if isinstance(config, Mapping):
        return config
    import dataclasses

    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return dataclasses.asdict(config)
    if hasattr(config, "__dict__"):
        return dict(vars(config))
    raise ValueError(f"config must be a mapping, got {type(config).__name__}")


def json_pairs(flat: Mapping[str, Any]) -> List[Tuple[str, str]]:
    return [(k, json.dumps(v, allow_nan=False)) for k, v in flat.items()]


def json_text(value: Any) -> str:
    return json.dumps(scalar(value), allow_nan=False)


def metrics_dict(pairs: Iterable[Tuple[str, Any]]) -> Dict[str, Any]:
    return {k: v for k, v in pairs}
