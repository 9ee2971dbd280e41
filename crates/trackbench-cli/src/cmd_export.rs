//! `trackbench export RUN... --format csv|json`: every point and every param of the runs.
//!
//! CSV has one row per item: `run_id,kind,key,step,wall_ms,value` where `kind` is `metric`
//! (one row per point; `value` printed so that it parses back to the same f64, with `NaN`,
//! `inf`, `-inf`), `param`, `tag` or `summary` (`value` is the JSON text). JSON holds, per run,
//! its attributes, params, tags, summary and each series as parallel arrays; NaN and infinities
//! are the strings "NaN", "Infinity" and "-Infinity". Parquet (needs `-o`) has one row per
//! point, `run_id, run_name, key, step, wall_ms (timestamp), value` (NaN and infinities as
//! themselves), one row group per run, Snappy-compressed; each run's attributes, params, tags
//! and summary are in the file's key-value metadata under `trackbench.runs` (JSON), so
//! `pandas.read_parquet`/`polars.read_parquet` get the points and `pyarrow` the rest.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use trackbench_report::{csv_field, csv_num};
use trackbench_store::{StepRange, Store, json_f64};

use crate::Ctx;

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Csv,
    Json,
    Parquet,
}

#[derive(Args)]
pub struct ExportArgs {
    /// Run ids, unique id prefixes or unique names
    #[arg(required = true)]
    runs: Vec<String>,
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
    /// Write here instead of stdout
    #[arg(long, short)]
    output: Option<PathBuf>,
}

pub fn export(ctx: &Ctx, args: ExportArgs) -> anyhow::Result<()> {
    let mut store = ctx.open_local()?;
    let ids = args.runs.iter().map(|r| store.resolve_run(r)).collect::<Result<Vec<_>, _>>()?;
    if let Format::Parquet = args.format {
        let Some(path) = &args.output else {
            anyhow::bail!(trackbench_store::StoreError::Invalid {
                what: "--output",
                why: "Parquet is a binary file format: give a file with -o/--output".into(),
            });
        };
        return write_parquet(&mut store, &ids, path);
    }
    let mut out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let total: u64 = ids.iter().map(|id| store.metric_keys(id).map(|k| k.len() as u64).unwrap_or(0)).sum();
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{spinner} exporting {pos}/{len} series {wide_bar} {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    match args.format {
        Format::Csv => {
            writeln!(out, "run_id,kind,key,step,wall_ms,value")?;
            for id in &ids {
                write_csv(&mut store, id, &mut out, &bar)?;
            }
        }
        Format::Parquet => unreachable!("handled above"),
        Format::Json => {
            let mut runs = Vec::new();
            for id in &ids {
                runs.push(run_json(&mut store, id, &bar)?);
            }
            serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "runs": runs }))?;
            writeln!(out)?;
        }
    }
    bar.finish_and_clear();
    out.flush().context("writing the export")?;
    Ok(())
}

fn write_csv(store: &mut Store, id: &str, out: &mut dyn Write, bar: &ProgressBar) -> anyhow::Result<()> {
    let rid = csv_field(id);
    for (k, v) in store.params(id)? {
        writeln!(out, "{rid},param,{},,,{}", csv_field(&k), csv_field(&v.to_string()))?;
    }
    for (k, v) in store.tags(id)? {
        writeln!(out, "{rid},tag,{},,,{}", csv_field(&k), csv_field(&v))?;
    }
    for (k, v) in store.summary_values(id)? {
        writeln!(out, "{rid},summary,{},,,{}", csv_field(&k), csv_field(&v.to_string()))?;
    }
    for key in store.metric_keys(id)? {
        let p = store.series(id, &key, StepRange::ALL)?;
        let k = csv_field(&key);
        for i in 0..p.len() {
            writeln!(out, "{rid},metric,{k},{},{},{}", p.steps[i], p.wall_ms[i], csv_num(p.values[i]))?;
        }
        bar.inc(1);
    }
    Ok(())
}

fn run_json(store: &mut Store, id: &str, bar: &ProgressBar) -> anyhow::Result<serde_json::Value> {
    let mut v = serde_json::to_value(store.run(id)?)?;
    v["params"] = store.params(id)?.into_iter().collect::<serde_json::Map<_, _>>().into();
    v["tags"] = store.tags(id)?.into_iter().map(|(k, v)| (k, v.into())).collect::<serde_json::Map<_, _>>().into();
    v["summary"] = store.summary_values(id)?.into_iter().collect::<serde_json::Map<_, _>>().into();
    let mut metrics = serde_json::Map::new();
    for key in store.metric_keys(id)? {
        let p = store.series(id, &key, StepRange::ALL)?;
        metrics.insert(
            key,
            serde_json::json!({
                "steps": p.steps,
                "wall_ms": p.wall_ms,
                "values": p.values.iter().map(|v| json_f64::value(*v)).collect::<Vec<_>>(),
            }),
        );
        bar.inc(1);
    }
    v["metrics"] = metrics.into();
    Ok(v)
}

const PARQUET_SCHEMA: &str = "message trackbench_points {
    REQUIRED BYTE_ARRAY run_id (UTF8);
    REQUIRED BYTE_ARRAY run_name (UTF8);
    REQUIRED BYTE_ARRAY key (UTF8);
    REQUIRED INT64 step;
    REQUIRED INT64 wall_ms (TIMESTAMP(MILLIS,true));
    REQUIRED DOUBLE value;
}";

fn write_parquet(store: &mut Store, ids: &[String], path: &std::path::Path) -> anyhow::Result<()> {
    use std::sync::Arc;

    use parquet::basic::Compression;
    use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
    use parquet::file::metadata::KeyValue;
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;

    let bar = ProgressBar::new(ids.len() as u64);
    let mut meta = Vec::new();
    for id in ids {
        let mut v = serde_json::to_value(store.run(id)?)?;
        v["params"] = store.params(id)?.into_iter().collect::<serde_json::Map<_, _>>().into();
        v["tags"] = store.tags(id)?.into_iter().map(|(k, v)| (k, v.into())).collect::<serde_json::Map<_, _>>().into();
        v["summary"] = store.summary_values(id)?.into_iter().collect::<serde_json::Map<_, _>>().into();
        meta.push(v);
    }
    let schema = Arc::new(parquet::schema::parser::parse_message_type(PARQUET_SCHEMA)?);
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_key_value_metadata(Some(vec![KeyValue::new("trackbench.runs".into(), serde_json::to_string(&meta)?)]))
            .build(),
    );
    let file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut writer = SerializedFileWriter::new(file, schema, props)?;
    for (id, m) in ids.iter().zip(&meta) {
        let name = m["name"].as_str().unwrap_or("").to_string();
        let (mut keys, mut steps, mut walls, mut values) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for key in store.metric_keys(id)? {
            let p = store.series(id, &key, StepRange::ALL)?;
            let k = ByteArray::from(key.as_str());
            keys.extend(std::iter::repeat_n(k, p.len()));
            steps.extend_from_slice(&p.steps);
            walls.extend_from_slice(&p.wall_ms);
            values.extend_from_slice(&p.values);
        }
        let n = steps.len();
        let run_ids = vec![ByteArray::from(id.as_str()); n];
        let names = vec![ByteArray::from(name.as_str()); n];
        let mut rg = writer.next_row_group()?;
        let mut i = 0;
        while let Some(mut col) = rg.next_column()? {
            match i {
                0 => col.typed::<ByteArrayType>().write_batch(&run_ids, None, None)?,
                1 => col.typed::<ByteArrayType>().write_batch(&names, None, None)?,
                2 => col.typed::<ByteArrayType>().write_batch(&keys, None, None)?,
                3 => col.typed::<Int64Type>().write_batch(&steps, None, None)?,
                4 => col.typed::<Int64Type>().write_batch(&walls, None, None)?,
                _ => col.typed::<DoubleType>().write_batch(&values, None, None)?,
            };
            col.close()?;
            i += 1;
        }
        rg.close()?;
        bar.inc(1);
    }
    writer.close()?;
    bar.finish_and_clear();
    Ok(())
}
