//! A table from Python, as `trackbench-data` columns, for `Run.log_dataset`.
//!
//! The Python layer (`trackbench/_data.py`) turns a pandas/polars DataFrame, a pyarrow Table,
//! a numpy 2-D array or a dict of columns into `(name, kind, data, mask)` tuples:
//!
//! - `"f64"`, `"i64"`, `"bool"`: `data` a 1-D C-contiguous numpy array of float64, int64 or
//!   bool, read through its `__array_interface__` (the buffer protocol is not in the limited
//!   API before Python 3.11, and we build for 3.10's); a float64 column without nulls is profiled
//!   in place, without a copy. `mask`: `None`, or a bool array of the same length, true = null.
//! - `"obj"`: `data` a list of `None`, bool, int, float or str (anything else is profiled as
//!   its `str()`); profiled as an untyped column (a pandas `object` column).
//!
//! The arrays are only read while the GIL is held, after every Python call the conversion
//! makes, and the tuples keep them alive.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyString, PyTuple};
use trackbench_sdk::data::{Column, ColumnValues, Value};

/// One column as the Python layer hands it over.
pub type PyColumn<'py> = (String, String, Bound<'py, PyAny>, Option<Bound<'py, PyAny>>);

/// The data a column's values borrow: arrays read in place or built here, and Python strings.
enum Owned<'py> {
    F64(&'py [f64]),
    F64Opt(Vec<Option<f64>>),
    I64(Vec<Option<i64>>),
    Bool(Vec<Option<bool>>),
    Obj(Vec<Bound<'py, PyAny>>),
}

/// A numpy array's memory, checked against its `__array_interface__`.
struct ArrayMem {
    addr: usize,
    len: usize,
}

fn bad(column: &str, why: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(format!("column {column:?}: {why}"))
}

/// The memory of a 1-D C-contiguous numpy array with element type `typestr` (`<f8`, `<i8`, `|b1`).
fn array(column: &str, obj: &Bound<'_, PyAny>, typestr: &str) -> PyResult<ArrayMem> {
    if !cfg!(target_endian = "little") {
        return Err(bad(column, "only little-endian machines are supported"));
    }
    let ai = obj.getattr("__array_interface__").map_err(|_| bad(column, "expected a numpy array"))?;
    let ai = ai.cast::<PyDict>().map_err(|_| bad(column, "__array_interface__ is not a dict"))?;
    let get = |k: &str| ai.get_item(k).ok().flatten();
    let ts: String = get("typestr").ok_or_else(|| bad(column, "no typestr"))?.extract()?;
    if ts != typestr {
        return Err(bad(column, format!("expected element type {typestr}, got {ts}")));
    }
    let shape = get("shape").ok_or_else(|| bad(column, "no shape"))?;
    let shape = shape.cast::<PyTuple>().map_err(|_| bad(column, "shape is not a tuple"))?;
    if shape.len() != 1 {
        return Err(bad(column, format!("expected a 1-D array, got {} dimensions", shape.len())));
    }
    let len: usize = shape.get_item(0)?.extract()?;
    if get("strides").is_some_and(|s| !s.is_none()) {
        return Err(bad(column, "expected a contiguous array"));
    }
    let data = get("data").ok_or_else(|| bad(column, "no data pointer"))?;
    let (addr, _readonly): (usize, bool) =
        data.extract().map_err(|_| bad(column, "data is not (address, readonly)"))?;
    let align = if typestr == "|b1" { 1 } else { 8 };
    if len > 0 && (addr == 0 || addr % align != 0) {
        return Err(bad(column, "the array's memory is not aligned"));
    }
    Ok(ArrayMem { addr, len })
}

/// Reads `mem` as `len` values of `T`.
///
/// SAFETY: `mem` comes from [`array`] for `T`'s type string on an array the caller keeps alive
/// (and does not let Python code run on) while the slice is used.
unsafe fn slice<'a, T>(mem: &ArrayMem) -> &'a [T] {
    if mem.len == 0 {
        return &[];
    }
    // SAFETY: see the function's contract; address, alignment and length were checked.
    unsafe { std::slice::from_raw_parts(mem.addr as *const T, mem.len) }
}

fn mask(column: &str, m: &Option<Bound<'_, PyAny>>, len: usize) -> PyResult<Option<Vec<bool>>> {
    let Some(m) = m.as_ref().filter(|m| !m.is_none()) else { return Ok(None) };
    let mem = array(column, m, "|b1")?;
    if mem.len != len {
        return Err(bad(column, format!("the null mask has {} values for {len} rows", mem.len)));
    }
    // SAFETY: checked by `array` for `|b1` (numpy bools are bytes 0 or 1); `m` is alive.
    let bytes: &[u8] = unsafe { slice(&mem) };
    Ok(Some(bytes.iter().map(|&b| b != 0).collect()))
}

/// One cell of an `obj` column as a plain Python value (None, bool, int, float or str).
fn plain<'py>(v: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    if v.is_none() || v.is_instance_of::<PyBool>() || v.is_instance_of::<PyInt>() || v.is_instance_of::<PyFloat>() {
        return Ok(v);
    }
    if v.is_instance_of::<PyString>() {
        return Ok(v);
    }
    // numpy scalars: `.item()` gives the Python value.
    if let Ok(item) = v.call_method0("item")
        && (item.is_none()
            || item.is_instance_of::<PyBool>()
            || item.is_instance_of::<PyInt>()
            || item.is_instance_of::<PyFloat>())
    {
        return Ok(item);
    }
    Ok(v.str()?.into_any())
}

fn owned<'py>(c: &PyColumn<'py>) -> PyResult<Owned<'py>> {
    let (name, kind, data, m) = c;
    Ok(match kind.as_str() {
        "f64" => {
            let mem = array(name, data, "<f8")?;
            // SAFETY: checked by `array` for `<f8`; the tuple keeps `data` alive for the call and
            // no Python code runs while the values are read.
            let xs: &'py [f64] = unsafe { slice(&mem) };
            match mask(name, m, xs.len())? {
                None => Owned::F64(xs),
                Some(nulls) => Owned::F64Opt(xs.iter().zip(nulls).map(|(&x, n)| (!n).then_some(x)).collect()),
            }
        }
        "i64" => {
            let mem = array(name, data, "<i8")?;
            // SAFETY: as for f64.
            let xs: &[i64] = unsafe { slice(&mem) };
            let nulls = mask(name, m, xs.len())?;
            Owned::I64(
                xs.iter().enumerate().map(|(i, &x)| (!nulls.as_ref().is_some_and(|n| n[i])).then_some(x)).collect(),
            )
        }
        "bool" => {
            let mem = array(name, data, "|b1")?;
            // SAFETY: as for f64; numpy bools are the bytes 0 and 1.
            let xs: &[u8] = unsafe { slice(&mem) };
            let nulls = mask(name, m, xs.len())?;
            Owned::Bool(
                xs.iter()
                    .enumerate()
                    .map(|(i, &x)| (!nulls.as_ref().is_some_and(|n| n[i])).then_some(x != 0))
                    .collect(),
            )
        }
        "obj" => {
            let mut cells = Vec::with_capacity(data.len().unwrap_or(0));
            for v in data.try_iter()? {
                cells.push(plain(v?)?);
            }
            Owned::Obj(cells)
        }
        other => return Err(bad(name, format!("unknown column kind {other:?}"))),
    })
}

/// One cell of an `obj` column; `cell` is already [`plain`].
fn value<'a>(cell: &'a Bound<'_, PyAny>) -> PyResult<Value<'a>> {
    Ok(if cell.is_none() {
        Value::Null
    } else if let Ok(b) = cell.cast::<PyBool>() {
        Value::Bool(b.is_true())
    } else if let Ok(s) = cell.cast::<PyString>() {
        Value::Str(s.to_str()?)
    } else if cell.is_instance_of::<PyInt>() {
        match cell.extract::<i64>() {
            Ok(i) => Value::I64(i),
            Err(_) => Value::F64(cell.extract::<f64>()?),
        }
    } else {
        Value::F64(cell.extract::<f64>()?)
    })
}

/// Converts the columns and hands them to `f`, all under the GIL.
pub fn with_columns<R>(columns: &[PyColumn<'_>], f: impl FnOnce(&[Column<'_>]) -> R) -> PyResult<R> {
    // Object columns first: converting them runs Python code (`.item()`, `str()`), which must
    // not run while array memory is borrowed.
    let mut slots: Vec<Option<Owned<'_>>> = Vec::with_capacity(columns.len());
    for c in columns {
        slots.push(if c.1 == "obj" { Some(owned(c)?) } else { None });
    }
    for (slot, c) in slots.iter_mut().zip(columns) {
        if slot.is_none() {
            *slot = Some(owned(c)?);
        }
    }
    let owned: Vec<Owned<'_>> = slots.into_iter().flatten().collect();
    let mut cells: Vec<Vec<Value<'_>>> = Vec::new();
    for o in &owned {
        if let Owned::Obj(v) = o {
            cells.push(v.iter().map(value).collect::<PyResult<_>>()?);
        }
    }
    let mut cells = cells.iter();
    let cols: Vec<Column<'_>> = columns
        .iter()
        .zip(&owned)
        .map(|((name, ..), o)| {
            let values = match o {
                Owned::F64(x) => ColumnValues::F64(x),
                Owned::F64Opt(x) => ColumnValues::F64Opt(x),
                Owned::I64(x) => ColumnValues::I64(x),
                Owned::Bool(x) => ColumnValues::Bool(x),
                Owned::Obj(_) => ColumnValues::Any(cells.next().expect("one cell list per obj column")),
            };
            Column::new(name, values)
        })
        .collect();
    Ok(f(&cols))
}
