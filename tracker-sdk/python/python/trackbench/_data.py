"""Tables for ``Run.log_dataset``: pandas, polars, pyarrow, numpy or a dict of columns, turned
into the columns the native profiler reads.

Each column becomes ``(name, kind, data, mask)``: ``kind`` ``"f64"``/``"i64"``/``"bool"`` with
``data`` a 1-D contiguous numpy array (float64 arrays without nulls are profiled in place, no
copy) and ``mask`` ``None`` or a bool array (True = null); or ``"obj"`` with ``data`` a list of
None/bool/int/float/str (strings, categories, pandas ``object`` columns). No library is imported
unless the data is of it (numpy is needed for anything but plain lists). Floats' NaN stays NaN
(counted apart from nulls, never in a statistic); pandas' and Arrow's missing values are nulls.
Dates and times are profiled as integers (their storage: nanoseconds since the epoch for numpy
and pandas, the Arrow type's unit for Arrow and polars).
"""

from __future__ import annotations

from typing import Any, List, Mapping, Optional, Sequence, Tuple

Column = Tuple[str, str, Any, Any]


def _module(obj: Any) -> str:
    return type(obj).__module__.split(".")[0]


def columns_of(data: Any, columns: Optional[Sequence[str]] = None) -> List[Column]:
    """The columns of ``data``, named by ``columns`` where given (required names for a numpy
    2-D array without them are ``"0"``, ``"1"``, …)."""
    mod = _module(data)
    if mod == "pandas" and hasattr(data, "columns") and hasattr(data, "dtypes"):
        out = [_pandas(str(name), data[name]) for name in data.columns]
    elif mod == "polars" and hasattr(data, "get_columns"):
        out = [_polars(s.name, s) for s in data.get_columns()]
    elif mod == "pyarrow" and hasattr(data, "column_names"):
        out = [_arrow(name, data.column(i)) for i, name in enumerate(data.column_names)]
    elif mod == "numpy" and hasattr(data, "ndim"):
        if data.ndim != 2:
            raise ValueError(f"log_dataset: a numpy array must be 2-D (rows x columns), got {data.ndim}-D")
        names = list(columns) if columns is not None else [str(i) for i in range(data.shape[1])]
        if len(names) != data.shape[1]:
            raise ValueError(f"log_dataset: {len(names)} column names for {data.shape[1]} columns")
        return [_numpy(n, data[:, i]) for i, n in enumerate(names)]
    elif isinstance(data, Mapping):
        out = [_sequence(str(k), v) for k, v in data.items()]
    else:
        raise TypeError(
            "log_dataset takes a pandas or polars DataFrame, a pyarrow Table, a 2-D numpy array "
            f"or a dict of columns, not {type(data).__name__}"
        )
    if columns is not None:
        wanted = set(columns)
        out = [c for c in out if c[0] in wanted]
    return out


def _numpy(name: str, a: Any, mask: Any = None) -> Column:
    import numpy as np

    a = np.asarray(a)
    if a.ndim != 1:
        raise ValueError(f"log_dataset: column {name!r} is not 1-D")
    if mask is not None:
        mask = np.ascontiguousarray(mask, dtype=np.bool_)
        if not mask.any():
            mask = None
    kind = a.dtype.kind
    if kind == "f":
        return (name, "f64", np.ascontiguousarray(a, dtype=np.float64), mask)
    if kind == "b":
        return (name, "bool", np.ascontiguousarray(a, dtype=np.bool_), mask)
    if kind == "u" and a.dtype.itemsize == 8:
        # Beyond int64: as floats (exact up to 2^53).
        return (name, "f64", np.ascontiguousarray(a, dtype=np.float64), mask)
    if kind in "iu":
        return (name, "i64", np.ascontiguousarray(a, dtype=np.int64), mask)
    if kind in "mM":
        nat = np.isnat(a)
        if mask is not None:
            nat = nat | mask
        return (name, "i64", np.ascontiguousarray(a.view(np.int64)), nat if nat.any() else None)
    cells = a.tolist()
    if mask is not None:
        cells = [None if m else v for v, m in zip(cells, mask.tolist())]
    return (name, "obj", [_missing_to_none(v) for v in cells], None)


def _missing_to_none(v: Any) -> Any:
    # In an object column, a float NaN (pandas' marker) is a missing value, not a number.
    if isinstance(v, float) and v != v:
        return None
    return v


def _sequence(name: str, values: Any) -> Column:
    mod = _module(values)
    if mod == "pandas":
        return _pandas(name, values)
    if mod == "polars":
        return _polars(name, values)
    if mod == "pyarrow":
        return _arrow(name, values)
    if mod == "numpy" or hasattr(values, "__array_interface__"):
        return _numpy(name, values)
    # A plain list: values as they are (a float NaN in a list of numbers is a NaN).
    return (name, "obj", list(values), None)


def _pandas(name: str, s: Any) -> Column:
    import numpy as np

    dtype = s.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "fiub":
        return _numpy(name, s.to_numpy())
    if isinstance(dtype, np.dtype) and dtype.kind == "M":
        return _numpy(name, s.to_numpy())
    na = s.isna().to_numpy(dtype=bool)
    kind = getattr(dtype, "kind", "O")
    if kind in "fiub":
        # Nullable extension types (Int64, Float64, boolean): values with nulls filled, and the mask.
        fill = False if kind == "b" else 0
        target = bool if kind == "b" else ("float64" if kind == "f" or (kind == "u" and dtype.itemsize == 8) else "int64")
        return _numpy(name, s.to_numpy(dtype=target, na_value=fill), na)
    if kind == "M":
        # Time zone aware: the instants, as UTC nanoseconds.
        return _numpy(name, s.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(), na)
    cells = s.astype(object).tolist()
    return (name, "obj", [None if m else v for v, m in zip(cells, na.tolist())], None)


def _polars(name: str, s: Any) -> Column:
    dtype = s.dtype
    if dtype.is_numeric():
        mask = s.is_null().to_numpy()
        return _numpy(name, s.fill_null(0).to_numpy(), mask)
    if dtype.is_temporal():
        phys = s.to_physical()
        return _numpy(name, phys.fill_null(0).to_numpy(), s.is_null().to_numpy())
    return (name, "obj", [_missing_to_none(v) for v in s.to_list()], None)


def _arrow(name: str, col: Any) -> Column:
    import pyarrow as pa

    t = col.type
    if pa.types.is_floating(t) or pa.types.is_integer(t):
        mask = col.is_null().to_numpy(zero_copy_only=False) if col.null_count else None
        values = col.fill_null(0) if col.null_count else col
        return _numpy(name, values.to_numpy(), mask)
    if pa.types.is_temporal(t) and not pa.types.is_time(t):
        ints = col.cast(pa.int64())
        mask = col.is_null().to_numpy(zero_copy_only=False) if col.null_count else None
        return _numpy(name, ints.fill_null(0).to_numpy(), mask)
    return (name, "obj", [_missing_to_none(v) for v in col.to_pylist()], None)
