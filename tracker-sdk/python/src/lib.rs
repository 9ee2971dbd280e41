//! `trackbench._native`: the PyO3 extension under the Python SDK.
//!
//! A thin bridge: [`NativeRun`] wraps a Rust SDK [`Run`], so Python logs through exactly the
//! same validation, queue and writer as Rust. The hot call, [`NativeRun::log`], turns a
//! Python dict into `(MetricKey, f64)` pairs (keys resolved once per key object, see
//! [`KeyCache`]) without allocating and enqueues them; values may
//! be floats, ints, bools or anything with `.item()` (numpy, torch and jax scalars), found by
//! duck typing so numpy/torch are never imported. The idiomatic API lives in the Python
//! package (`python/trackbench`).
//!
//! Fork safety: the Python layer calls [`mark_forked`] in a forked child. From then on every
//! run inherited from the parent is inert in the child (runs started in the child work) (its writer thread did not survive the
//! fork and its lock may be held): calls return `False` and the Python layer warns once.

mod table;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use pyo3::exceptions::{PyException, PyRuntimeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyString};
use trackbench_sdk::{MetricKey, Run, RunOptions, RunStatus, SdkError, Stream};

pyo3::create_exception!(_native, StoreError, PyException, "The store could not be read or written.");

/// Bumped in every forked child: a run created in an earlier generation was inherited from
/// a parent process and does nothing here.
static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);

fn to_py(e: SdkError) -> PyErr {
    match e {
        SdkError::Invalid(m) => PyValueError::new_err(m),
        SdkError::Finished(_) => PyRuntimeError::new_err(e.to_string()),
        SdkError::Write { .. } | SdkError::Store(_) => StoreError::new_err(e.to_string()),
    }
}

/// A number from a Python value: float (and subclasses such as numpy.float64), int, bool,
/// or anything with `.item()` returning one of those.
fn number(v: &Bound<'_, PyAny>, depth: u8) -> Option<f64> {
    if let Ok(f) = v.cast::<PyFloat>() {
        return Some(f.value());
    }
    if let Ok(b) = v.cast::<PyBool>() {
        return Some(if b.is_true() { 1.0 } else { 0.0 });
    }
    if v.is_instance_of::<PyInt>() {
        return v.extract::<i64>().map(|i| i as f64).or_else(|_| v.extract::<f64>()).ok();
    }
    if depth == 0 && v.hasattr("item").unwrap_or(false) {
        let item = v.call_method0("item").ok()?;
        return number(&item, 1);
    }
    None
}

fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}

/// Flattens `data` into owned `(key, value)` pairs (nested dicts join keys with `.`).
fn flatten(prefix: &str, data: &Bound<'_, PyDict>, out: &mut Vec<(String, f64)>) -> PyResult<()> {
    for (k, v) in data.iter() {
        let k = k
            .cast::<PyString>()
            .map_err(|_| PyValueError::new_err(format!("metric keys must be str, got {}", type_name(&k))))?;
        let key = if prefix.is_empty() { k.to_cow()?.into_owned() } else { format!("{prefix}.{}", k.to_cow()?) };
        if let Ok(d) = v.cast::<PyDict>() {
            flatten(&key, d, out)?;
        } else {
            let x = number(&v, 0).ok_or_else(|| {
                PyValueError::new_err(format!("metric `{key}` must be a number, got {}", type_name(&v)))
            })?;
            out.push((key, x));
        }
    }
    Ok(())
}

/// Most distinct key objects remembered per run.
const KEY_CACHE_MAX: usize = 4096;

/// Python key string -> the run's [`MetricKey`], by object identity. The cache keeps a
/// reference to each key object, so an address can never be reused by another string while it
/// is cached. Training loops log the same (interned) key objects every step, usually in the
/// same order: a key at the position it had in the previous call is found by one pointer
/// comparison, any other cached key by one hash lookup; its text is converted and validated
/// only the first time.
#[derive(Default)]
struct KeyCache {
    /// Key object address -> its key.
    index: rustc_hash::FxHashMap<usize, MetricKey>,
    /// The cached key objects, held so their addresses stay theirs.
    held: Vec<Py<PyString>>,
    /// `(key address, key)` by position in the previous call's dict.
    last: Vec<(usize, MetricKey)>,
    /// The record of the call in progress, reused between calls.
    scratch: Vec<(MetricKey, f64)>,
}

impl KeyCache {
    /// The key of `k`, found at position `i` of the dict; `None` when the cache is full and
    /// `k` is new. An invalid key is an error.
    ///
    /// # Safety
    /// `k` must point to a live `str` object (exact type) and the GIL must be held.
    #[inline(always)]
    unsafe fn lookup(
        &mut self,
        py: Python<'_>,
        run: &Run,
        i: usize,
        k: *mut ffi::PyObject,
    ) -> PyResult<Option<MetricKey>> {
        match self.last.get(i) {
            Some(&(addr, key)) if addr == k as usize => Ok(Some(key)),
            _ => unsafe { self.miss(py, run, i, k) },
        }
    }

    /// [`KeyCache::lookup`] for a key not where the previous call had it.
    #[cold]
    #[inline(never)]
    unsafe fn miss(
        &mut self,
        py: Python<'_>,
        run: &Run,
        i: usize,
        k: *mut ffi::PyObject,
    ) -> PyResult<Option<MetricKey>> {
        let addr = k as usize;
        let key = match self.index.get(&addr) {
            Some(&key) => key,
            None => {
                if self.held.len() >= KEY_CACHE_MAX {
                    return Ok(None);
                }
                // SAFETY: the caller guarantees a live exact `str` and the GIL.
                let obj = unsafe { Bound::from_borrowed_ptr(py, k).cast_into_unchecked::<PyString>() };
                let key = run.metric_key(obj.to_str()?).map_err(to_py)?;
                self.held.push(obj.unbind());
                self.index.insert(addr, key);
                key
            }
        };
        // Every address in `last` is a cached (held) object, so it cannot be reused.
        match i.cmp(&self.last.len()) {
            std::cmp::Ordering::Less => self.last[i] = (addr, key),
            std::cmp::Ordering::Equal if i < LAST_KEYS_MAX => self.last.push((addr, key)),
            _ => {}
        }
        Ok(Some(key))
    }
}

/// Most positions remembered from the previous call.
const LAST_KEYS_MAX: usize = 256;

/// One run, as the Python layer sees it.
#[pyclass(frozen, module = "trackbench._native")]
struct NativeRun {
    run: RwLock<Option<Run>>,
    keys: Mutex<KeyCache>,
    /// [`FORK_GENERATION`] when the run was started.
    generation: u64,
    #[pyo3(get)]
    id: String,
    #[pyo3(get)]
    name: String,
    #[pyo3(get)]
    project: String,
    #[pyo3(get)]
    store_dir: String,
}

impl NativeRun {
    /// Logs a flat dict of `str` keys and plain numbers (float, int, bool) with keys from the
    /// identity cache and no allocation; false, having logged nothing, for any other dict.
    /// Runs no Python code, so holding the locks cannot deadlock against the GIL.
    fn log_fast(&self, data: &Bound<'_, PyDict>, step: Option<i64>) -> PyResult<bool> {
        let py = data.py();
        let guard = self.run.read().map_err(|_| PyRuntimeError::new_err("run lock poisoned"))?;
        let run = guard.as_ref().ok_or_else(|| PyRuntimeError::new_err(format!("run {} is finished", self.id)))?;
        let mut cache = self.keys.lock().map_err(|_| PyRuntimeError::new_err("key cache poisoned"))?;
        let cache = &mut *cache;
        cache.scratch.clear();
        // SAFETY: we hold the GIL and run no Python code, so the dict cannot change and the
        // borrowed references PyDict_Next hands out stay valid.
        unsafe {
            let (mut pos, mut k, mut v) = (0 as ffi::Py_ssize_t, std::ptr::null_mut(), std::ptr::null_mut());
            while ffi::PyDict_Next(data.as_ptr(), &mut pos, &mut k, &mut v) != 0 {
                if ffi::Py_TYPE(k) != std::ptr::addr_of_mut!(ffi::PyUnicode_Type) {
                    return Ok(false);
                }
                let ty = ffi::Py_TYPE(v);
                let x = if ty == std::ptr::addr_of_mut!(ffi::PyFloat_Type) {
                    ffi::PyFloat_AsDouble(v)
                } else if ty == std::ptr::addr_of_mut!(ffi::PyBool_Type) {
                    if v == ffi::Py_True() { 1.0 } else { 0.0 }
                } else if ty == std::ptr::addr_of_mut!(ffi::PyLong_Type) {
                    let x = ffi::PyLong_AsDouble(v);
                    if x == -1.0 && !ffi::PyErr_Occurred().is_null() {
                        ffi::PyErr_Clear();
                        return Ok(false);
                    }
                    x
                } else {
                    return Ok(false);
                };
                match cache.lookup(py, run, cache.scratch.len(), k)? {
                    Some(key) => cache.scratch.push((key, x)),
                    None => return Ok(false),
                }
            }
        }
        run.log_keys(step, &cache.scratch).map_err(to_py)?;
        Ok(true)
    }

    /// True in a forked child for runs inherited from the parent.
    fn inherited(&self) -> bool {
        FORK_GENERATION.load(Ordering::Relaxed) != self.generation
    }

    /// Runs `f` on the open run; `Ok(false)` in a forked child, an error once finished.
    fn with<T>(&self, f: impl FnOnce(&Run) -> Result<T, SdkError>) -> PyResult<Option<T>> {
        if self.inherited() {
            return Ok(None);
        }
        let guard = self.run.read().map_err(|_| PyRuntimeError::new_err("run lock poisoned"))?;
        let run = guard.as_ref().ok_or_else(|| PyRuntimeError::new_err(format!("run {} is finished", self.id)))?;
        f(run).map(Some).map_err(to_py)
    }
}

#[pymethods]
impl NativeRun {
    #[new]
    #[pyo3(signature = (project, name=None, group=None, notes=None, tags=Vec::new(), resume=None, store_dir=None, flush_interval_ms=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        project: String,
        name: Option<String>,
        group: Option<String>,
        notes: Option<String>,
        tags: Vec<(String, String)>,
        resume: Option<String>,
        store_dir: Option<String>,
        flush_interval_ms: Option<u64>,
    ) -> PyResult<NativeRun> {
        let mut opts = RunOptions::new(project);
        opts.name = name;
        opts.group = group;
        opts.notes = notes;
        opts.tags = tags;
        opts.resume = resume;
        if let Some(d) = store_dir {
            // An explicit folder means the local store, even with TRACKBENCH_URL set.
            opts.store_dir = d.into();
            opts.remote = None;
        }
        if let Some(ms) = flush_interval_ms {
            opts.flush_interval = std::time::Duration::from_millis(ms);
        }
        let dir = match &opts.remote {
            Some(r) => r.url.clone(),
            None => opts.store_dir.display().to_string(),
        };
        let run = py.detach(|| Run::start(opts)).map_err(to_py)?;
        Ok(NativeRun {
            id: run.id().to_string(),
            name: run.name().to_string(),
            project: run.project().to_string(),
            store_dir: dir,
            run: RwLock::new(Some(run)),
            keys: Mutex::new(KeyCache::default()),
            generation: FORK_GENERATION.load(Ordering::Relaxed),
        })
    }

    /// Logs a mapping of metrics at `step` (default: the run's own counter, which then
    /// advances). Values: numbers, bools, or anything with `.item()` (numpy/torch/jax scalars);
    /// nested dicts flatten with `.`. `commit` is accepted for W&B compatibility and ignored.
    /// In a forked child the parent's run ignores the call (with one warning) and returns False.
    #[pyo3(signature = (data, step=None, commit=None))]
    fn log(
        &self,
        data: &Bound<'_, PyAny>,
        step: Option<&Bound<'_, PyAny>>,
        commit: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        let _ = commit;
        if self.inherited() {
            warn_forked(data.py())?;
            return Ok(false);
        }
        let step = match step {
            None => None,
            Some(s) if s.is_none() => None,
            Some(s) => Some(match s.extract::<i64>() {
                Ok(v) => v,
                Err(_) => number(s, 0)
                    .filter(|v| v.fract() == 0.0 && v.abs() < 9.0e18)
                    .map(|v| v as i64)
                    .ok_or_else(|| PyValueError::new_err(format!("step must be an integer, got {}", type_name(s))))?,
            }),
        };
        let owned_dict;
        let data: &Bound<'_, PyDict> = match data.cast::<PyDict>() {
            Ok(d) => d,
            Err(_) => {
                owned_dict = PyDict::new(data.py());
                owned_dict.update(data.cast::<pyo3::types::PyMapping>().map_err(|_| {
                    PyValueError::new_err(format!("log() takes a dict of metrics, got {}", type_name(data)))
                })?)?;
                &owned_dict
            }
        };
        if self.log_fast(data, step)? {
            return Ok(true);
        }
        // Slow path: nested dicts, values that need `.item()`, a full key cache, or an error
        // to explain. No lock is held while `.item()` runs Python code (which may release the
        // GIL and let another thread log or finish).
        let mut owned = Vec::new();
        flatten("", data, &mut owned)?;
        let pairs: Vec<(&str, f64)> = owned.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        Ok(self
            .with(|r| match step {
                Some(s) => r.log_at(s, &pairs),
                None => r.log(&pairs),
            })?
            .is_some())
    }

    /// Logs params given as `(key, JSON text)` pairs (the Python layer converts and flattens).
    fn log_params_json(&self, params: Vec<(String, String)>) -> PyResult<bool> {
        let mut parsed = Vec::with_capacity(params.len());
        for (k, v) in &params {
            let value: serde_json::Value = serde_json::from_str(v)
                .map_err(|e| PyValueError::new_err(format!("param `{k}`: not JSON-serialisable ({e})")))?;
            parsed.push((k.as_str(), value));
        }
        Ok(self.with(|r| r.log_params(&parsed))?.is_some())
    }

    fn set_tag(&self, key: &str, value: &str) -> PyResult<bool> {
        Ok(self.with(|r| r.set_tag(key, value))?.is_some())
    }

    fn set_summary_json(&self, key: &str, value: &str) -> PyResult<bool> {
        let v: serde_json::Value = serde_json::from_str(value)
            .map_err(|e| PyValueError::new_err(format!("summary `{key}`: not JSON-serialisable ({e})")))?;
        Ok(self.with(|r| r.set_summary(key, v))?.is_some())
    }

    #[pyo3(signature = (stream, line))]
    fn log_line(&self, stream: &str, line: &str) -> PyResult<bool> {
        let stream = if stream == "stderr" { Stream::Stderr } else { Stream::Stdout };
        Ok(self.with(|r| r.log_line(stream, line))?.is_some())
    }

    /// Stores a file or folder as an artifact; blocks (without the GIL) until stored.
    #[pyo3(signature = (path, name=None))]
    fn log_artifact(&self, py: Python<'_>, path: String, name: Option<String>) -> PyResult<bool> {
        py.detach(|| self.with(|r| r.log_artifact(&path, name.as_deref()))).map(|o| o.is_some())
    }

    /// Profiles a table (see `table` for the columns' form) and logs it as dataset input
    /// `name`; returns its digest (`None` in a forked child). The profile is built with the GIL
    /// held (its columns borrow Python memory); the store write waits without it.
    #[pyo3(signature = (name, columns, context=None, step=None))]
    fn log_dataset(
        &self,
        py: Python<'_>,
        name: String,
        columns: Vec<table::PyColumn<'_>>,
        context: Option<String>,
        step: Option<i64>,
    ) -> PyResult<Option<String>> {
        if self.inherited() {
            return Ok(None);
        }
        let opts = trackbench_sdk::data::ProfileOptions::default();
        let profile = table::with_columns(&columns, |cols| trackbench_sdk::data::Profile::from_columns(cols, &opts))?
            .map_err(|e| PyValueError::new_err(format!("cannot profile dataset {name:?}: {e}")))?;
        drop(columns);
        py.detach(|| self.with(|r| r.log_profile(&name, &profile, context.as_deref(), step)))
    }

    /// Blocks (without the GIL) until everything logged so far is stored.
    fn flush(&self, py: Python<'_>) -> PyResult<bool> {
        py.detach(|| self.with(|r| r.flush())).map(|o| o.is_some())
    }

    /// Items the store refused (e.g. a param logged twice with different values).
    fn rejected(&self) -> PyResult<Vec<String>> {
        Ok(self.with(|r| Ok(r.rejected()))?.unwrap_or_default())
    }

    /// Flushes and ends the run with `status` (finished, failed, killed). Idempotent.
    #[pyo3(signature = (status="finished", error=None))]
    fn finish(&self, py: Python<'_>, status: &str, error: Option<String>) -> PyResult<bool> {
        if self.inherited() {
            return Ok(false);
        }
        let status = match status {
            "finished" => RunStatus::Finished,
            "failed" => RunStatus::Failed,
            "killed" => RunStatus::Killed,
            other => return Err(PyValueError::new_err(format!("unknown status `{other}` (finished, failed, killed)"))),
        };
        let run = self.run.write().map_err(|_| PyRuntimeError::new_err("run lock poisoned"))?.take();
        match run {
            Some(run) => py.detach(|| run.finish_with(status, error.as_deref())).map(|_| true).map_err(to_py),
            None => Ok(false),
        }
    }

    #[getter]
    fn finished(&self) -> bool {
        self.run.read().map(|r| r.is_none()).unwrap_or(true)
    }
}

impl Drop for NativeRun {
    fn drop(&mut self) {
        if self.inherited() {
            // The parent's writer thread does not exist here: never wait for it.
            if let Ok(slot) = self.run.get_mut() {
                std::mem::forget(slot.take());
            }
        }
    }
}

/// Warns once per process that an inherited run ignores calls.
fn warn_forked(py: Python<'_>) -> PyResult<()> {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        let category = py.get_type::<pyo3::exceptions::PyRuntimeWarning>();
        PyErr::warn(
            py,
            &category,
            c"trackbench: this process was forked from the one that started the run; logging to the parent's run from here is ignored (call trackbench.init() in the child to log from it)",
            1,
        )?;
    }
    Ok(())
}

/// Called by the Python layer in a forked child (`os.register_at_fork`).
#[pyfunction]
fn mark_forked() {
    FORK_GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// The default store folder (`TRACKBENCH_DIR` or the platform data dir).
#[pyfunction]
fn default_store_dir() -> String {
    trackbench_sdk::default_store_dir().display().to_string()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeRun>()?;
    m.add_function(wrap_pyfunction!(mark_forked, m)?)?;
    m.add_function(wrap_pyfunction!(default_store_dir, m)?)?;
    m.add("StoreError", m.py().get_type::<StoreError>())?;
    Ok(())
}
