//! `trackbench-data-bench`: the native half of the data-profile benchmark (issue 19). The driver
//! is `crates/trackbench-bench/data/bench_data.py` (`cargo xtask bench`, part "data profiles and
//! drift"), which times the Python SDK's `run.log_dataset`, the `trackbench drift` CLI, whylogs
//! and Evidently; this binary measures what Python cannot reach:
//!
//! * `profile DIR [--repeat N]`: `Profile::from_columns` alone, with the SDK's default options,
//!   on the columns the Python SDK's `_data.columns_of` made of the benchmark's DataFrame, dumped
//!   to DIR by the script (format in [`read_columns`]) and built into the same `ColumnValues` the
//!   extension builds (`tracker-sdk/python/src/table.rs`): what `log_dataset` costs without the
//!   Python conversion and the store write. Also the profile's JSON size, and each column
//!   profiled on its own (time and JSON size), to show where the time and the bytes go.
//! * `drift --store DIR REF CUR [--repeat N] [--profile-out FILE]` (`RUN:DATASET[@STEP]` each):
//!   the drift report in process, as `trackbench drift` makes it (read both stored profiles
//!   through the SDK's dataset reader, parse them, test with default options), without the
//!   process start; and the stored profiles' sizes (the profile JSON, and the whole MLflow
//!   `DatasetInput` it sits in). `--profile-out` writes REF's stored profile JSON to FILE.
//!
//! Times are the best of N wall times, in seconds. Output: one JSON object on stdout.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use serde_json::{Value as Json, json};
use trackbench_sdk::data::{Column, ColumnValues, DriftOptions, Profile, ProfileOptions, Value, drift};
use trackbench_sdk::dataset::{self, LoggedDataset, Spec};
use trackbench_store::{Store, StoreOptions};

const USAGE: &str = "usage: trackbench-data-bench profile DIR [--repeat N]\n       \
                     trackbench-data-bench drift --store DIR REF CUR [--repeat N] [--profile-out FILE]   (RUN:DATASET[@STEP])";

/// The best (smallest) of `repeat` timings of `f`, and its last result.
fn best_of<T>(repeat: usize, mut f: impl FnMut() -> anyhow::Result<T>) -> anyhow::Result<(f64, T)> {
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        let out = f()?;
        best = best.min(t.elapsed().as_secs_f64());
        last = Some(out);
    }
    Ok((best, last.expect("at least one repetition")))
}

/// One dumped column: its values as the extension would hold them.
enum Owned {
    F64(Vec<f64>),
    F64Opt(Vec<Option<f64>>),
    I64(Vec<Option<i64>>),
    Bool(Vec<Option<bool>>),
    /// A string column (`obj` in the SDK's terms): the text, and each cell's byte range (`None`
    /// for a null).
    Str(String, Vec<Option<(usize, usize)>>),
}

fn read_vec<T: Copy>(path: &Path, from: impl Fn([u8; 8]) -> T) -> anyhow::Result<Vec<T>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    ensure!(bytes.len() % 8 == 0, "{}: not a whole number of 8-byte values", path.display());
    Ok(bytes.chunks_exact(8).map(|c| from(c.try_into().expect("8 bytes"))).collect())
}

/// Reads the columns `bench_data.py` dumped into `dir`: `manifest.json` is
/// `{"rows": N, "columns": [{"name", "kind", "data", "mask"}]}` with `kind` one of `f64`, `i64`
/// (little-endian 8-byte values), `bool` (bytes 0/1) or `str` (UTF-8 cells joined by `\n`, no
/// cell holding one); `mask` is a file of N bytes, 1 = null, or null.
fn read_columns(dir: &Path) -> anyhow::Result<Vec<(String, Owned)>> {
    let manifest: Json = serde_json::from_slice(
        &std::fs::read(dir.join("manifest.json"))
            .with_context(|| format!("reading {}/manifest.json", dir.display()))?,
    )?;
    let rows = manifest["rows"].as_u64().context("manifest: no rows")? as usize;
    let mut out = Vec::new();
    for c in manifest["columns"].as_array().context("manifest: no columns")? {
        let name = c["name"].as_str().context("manifest: a column without a name")?.to_string();
        let data = dir.join(c["data"].as_str().context("manifest: a column without data")?);
        let mask: Option<Vec<bool>> = match c["mask"].as_str() {
            None => None,
            Some(m) => {
                let bytes = std::fs::read(dir.join(m)).with_context(|| format!("reading {m}"))?;
                ensure!(bytes.len() == rows, "column {name:?}: {} mask bytes for {rows} rows", bytes.len());
                Some(bytes.iter().map(|&b| b != 0).collect())
            }
        };
        let null = |i: usize| mask.as_ref().is_some_and(|m| m[i]);
        let owned = match c["kind"].as_str() {
            Some("f64") => {
                let xs = read_vec(&data, f64::from_le_bytes)?;
                match &mask {
                    None => Owned::F64(xs),
                    Some(_) => Owned::F64Opt(xs.iter().enumerate().map(|(i, &x)| (!null(i)).then_some(x)).collect()),
                }
            }
            Some("i64") => {
                let xs = read_vec(&data, i64::from_le_bytes)?;
                Owned::I64(xs.iter().enumerate().map(|(i, &x)| (!null(i)).then_some(x)).collect())
            }
            Some("bool") => {
                let xs = std::fs::read(&data).with_context(|| format!("reading {}", data.display()))?;
                Owned::Bool(xs.iter().enumerate().map(|(i, &x)| (!null(i)).then_some(x != 0)).collect())
            }
            Some("str") => {
                let text = std::fs::read_to_string(&data).with_context(|| format!("reading {}", data.display()))?;
                let mut cells = Vec::with_capacity(rows);
                let mut start = 0;
                for (i, cell) in text.split('\n').enumerate() {
                    cells.push((!null(i)).then_some((start, start + cell.len())));
                    start += cell.len() + 1;
                }
                Owned::Str(text, cells)
            }
            other => bail!("column {name:?}: unknown kind {other:?}"),
        };
        let len = match &owned {
            Owned::F64(x) => x.len(),
            Owned::F64Opt(x) => x.len(),
            Owned::I64(x) => x.len(),
            Owned::Bool(x) => x.len(),
            Owned::Str(_, x) => x.len(),
        };
        ensure!(len == rows, "column {name:?}: {len} values for {rows} rows");
        out.push((name, owned));
    }
    Ok(out)
}

fn profile(dir: &Path, repeat: usize) -> anyhow::Result<Json> {
    let owned = read_columns(dir)?;
    // String cells as the extension hands them over: `Value::Str`/`Value::Null` in an `Any` column.
    let cells: Vec<Vec<Value<'_>>> = owned
        .iter()
        .filter_map(|(_, o)| match o {
            Owned::Str(text, ranges) => {
                Some(ranges.iter().map(|r| r.map_or(Value::Null, |(a, b)| Value::Str(&text[a..b]))).collect::<Vec<_>>())
            }
            _ => None,
        })
        .collect();
    let mut cells_it = cells.iter();
    let columns: Vec<Column<'_>> = owned
        .iter()
        .map(|(name, o)| {
            let values = match o {
                Owned::F64(x) => ColumnValues::F64(x),
                Owned::F64Opt(x) => ColumnValues::F64Opt(x),
                Owned::I64(x) => ColumnValues::I64(x),
                Owned::Bool(x) => ColumnValues::Bool(x),
                Owned::Str(..) => ColumnValues::Any(cells_it.next().expect("one cell list per string column")),
            };
            Column::new(name, values)
        })
        .collect();
    let opts = ProfileOptions::default();
    let (secs, p) = best_of(repeat, || Ok(Profile::from_columns(&columns, &opts)?))?;
    let (json_secs, text) = best_of(repeat, || Ok(p.to_json()))?;
    // Where the time goes: each column profiled on its own, with its share of the JSON.
    let mut per_column = Vec::new();
    for c in &columns {
        let (s, one) = best_of(repeat, || Ok(Profile::from_columns(std::slice::from_ref(c), &opts)?))?;
        per_column.push(json!({ "column": c.name, "profile_s": s, "json_bytes": one.to_json().len() }));
    }
    Ok(json!({
        "rows": p.rows,
        "columns": columns.len(),
        "repeat": repeat,
        "profile_s": secs,
        "to_json_s": json_secs,
        "profile_json_bytes": text.len(),
        "per_column": per_column,
    }))
}

/// The stored dataset `spec` names: as `trackbench drift` finds it.
fn logged(store: &Store, spec: &Spec) -> anyhow::Result<LoggedDataset> {
    let run = store.resolve_run(&spec.run).with_context(|| format!("finding run {:?}", spec.run))?;
    let inputs: Vec<LoggedDataset> = store.run_inputs(&run)?.iter().filter_map(LoggedDataset::from_input).collect();
    let found = dataset::find(&inputs, &spec.dataset, spec.step).map_err(anyhow::Error::msg)?;
    Ok(found.clone())
}

/// The bytes of the whole stored input (MLflow's `DatasetInput`, the profile inside as a string).
fn input_bytes(store: &Store, spec: &Spec) -> anyhow::Result<usize> {
    let run = store.resolve_run(&spec.run)?;
    let d = logged(store, spec)?;
    let input = store
        .run_inputs(&run)?
        .into_iter()
        .find(|i| i["dataset"]["digest"].as_str() == Some(d.digest.as_str()))
        .context("the input found a moment ago")?;
    Ok(serde_json::to_string(&input)?.len())
}

fn drift_bench(store_dir: &Path, r: &str, c: &str, repeat: usize, profile_out: Option<&Path>) -> anyhow::Result<Json> {
    let (r, c): (Spec, Spec) = (r.parse().map_err(anyhow::Error::msg)?, c.parse().map_err(anyhow::Error::msg)?);
    let opts = DriftOptions::default();
    let open = || Store::open(store_dir, StoreOptions { read_only: true, ..StoreOptions::default() });
    // Open, find, parse, test: what `trackbench drift` does after its process starts.
    let (whole_s, report) = best_of(repeat, || {
        let store = open()?;
        let rp = logged(&store, &r)?.parse_profile().map_err(anyhow::Error::msg)?;
        let cp = logged(&store, &c)?.parse_profile().map_err(anyhow::Error::msg)?;
        Ok(drift(&rp, &cp, &opts))
    })?;
    let store = open()?;
    let (rd, cd) = (logged(&store, &r)?, logged(&store, &c)?);
    let (parse_s, (rp, cp)) = best_of(repeat, || {
        Ok((rd.parse_profile().map_err(anyhow::Error::msg)?, cd.parse_profile().map_err(anyhow::Error::msg)?))
    })?;
    let (drift_s, _) = best_of(repeat, || Ok(drift(&rp, &cp, &opts)))?;
    let size = |d: &LoggedDataset| d.profile.as_ref().map_or(0, String::len);
    if let Some(path) = profile_out {
        std::fs::write(path, rd.profile.as_deref().unwrap_or_default())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let drifted: Vec<&str> =
        report.columns.iter().filter(|c| c.drift == Some(true)).map(|c| c.column.as_str()).collect();
    Ok(json!({
        "repeat": repeat,
        "open_parse_drift_s": whole_s,
        "parse_both_s": parse_s,
        "drift_s": drift_s,
        "reference_profile_bytes": size(&rd),
        "current_profile_bytes": size(&cd),
        "reference_input_bytes": input_bytes(&store, &r)?,
        "current_input_bytes": input_bytes(&store, &c)?,
        "tested": report.tested,
        "drifted": report.drifted,
        "drifted_columns": drifted,
        "dataset_drift": report.drift,
    }))
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut repeat = 5;
    let mut store: Option<PathBuf> = None;
    let mut profile_out: Option<PathBuf> = None;
    let mut positional = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--repeat" => repeat = it.next().context("--repeat needs a value")?.parse().context("--repeat")?,
            "--store" => store = Some(it.next().context("--store needs a value")?.into()),
            "--profile-out" => profile_out = Some(it.next().context("--profile-out needs a value")?.into()),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            _ => positional.push(a.as_str()),
        }
    }
    let out = match positional.as_slice() {
        ["profile", dir] => profile(Path::new(dir), repeat)?,
        ["drift", r, c] => {
            drift_bench(&store.context("drift needs --store DIR")?, r, c, repeat, profile_out.as_deref())?
        }
        _ => bail!("{USAGE}"),
    };
    println!("{out}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dump format `bench_data.py` writes reads back into the columns the SDK would build.
    #[test]
    fn reads_a_dump_and_profiles_it() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let f: Vec<u8> = [1.5f64, f64::NAN, 3.0].iter().flat_map(|x| x.to_le_bytes()).collect();
        let i: Vec<u8> = [7i64, 8, 9].iter().flat_map(|x| x.to_le_bytes()).collect();
        std::fs::write(d.join("0.bin"), f).unwrap();
        std::fs::write(d.join("1.bin"), i).unwrap();
        std::fs::write(d.join("1.mask"), [0u8, 1, 0]).unwrap();
        std::fs::write(d.join("2.bin"), "ios\n\nweb").unwrap();
        std::fs::write(d.join("2.mask"), [0u8, 1, 0]).unwrap();
        let manifest = json!({ "rows": 3, "columns": [
            { "name": "f", "kind": "f64", "data": "0.bin", "mask": null },
            { "name": "i", "kind": "i64", "data": "1.bin", "mask": "1.mask" },
            { "name": "s", "kind": "str", "data": "2.bin", "mask": "2.mask" },
        ]});
        std::fs::write(d.join("manifest.json"), manifest.to_string()).unwrap();
        let out = profile(d, 1).unwrap();
        assert_eq!(out["rows"], 3);
        assert_eq!(out["columns"], 3);
        assert_eq!(out["per_column"].as_array().unwrap().len(), 3);
        let cols = read_columns(d).unwrap();
        match &cols[2].1 {
            Owned::Str(text, cells) => {
                let got: Vec<Option<&str>> = cells.iter().map(|c| c.map(|(a, b)| &text[a..b])).collect();
                assert_eq!(got, [Some("ios"), None, Some("web")]);
            }
            _ => panic!("s is a string column"),
        }
        assert!(matches!(&cols[1].1, Owned::I64(v) if v == &[Some(7), None, Some(9)]));
    }
}
