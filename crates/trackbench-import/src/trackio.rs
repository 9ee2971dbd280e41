//! trackio projects -> runs. A trackio project is one SQLite file (`<project>.db` in its
//! `TRACKIO_DIR`): `configs` (one JSON config per run), `metrics` (a JSON object of values per
//! step) and `system_metrics`. Runs keep trackio's run id (a second import skips them), the
//! config becomes params (nested keys flattened with `.`, trackio's own `_…` keys left out,
//! `_Group` becoming the group), numeric values become points with the row's step and
//! timestamp (`"NaN"`/`"Infinity"` included), system metrics become `sys/…` series. The file is
//! opened read-only with its own connection.
//!
//! The database named is the one file read (a link named on the command line is the user's
//! choice and is followed): media values (images, tables) reference files trackio keeps
//! elsewhere, and those are skipped, never opened, so there is no folder walk to confine.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use trackbench_store::{Batch, NewRun, Points, RunStatus, SeriesBatch, Store};

use crate::ImportError;
use crate::mlflow::RunReport;

/// `2026-11-29T10:04:46.692916+00:00` (or `…Z`) -> epoch milliseconds.
pub fn iso_ms(s: &str) -> Option<i64> {
    let (date, time) = s.split_once('T').or_else(|| s.split_once(' '))?;
    let mut d = date.split('-');
    let (y, m, day): (i64, i64, i64) = (d.next()?.parse().ok()?, d.next()?.parse().ok()?, d.next()?.parse().ok()?);
    let (clock, offset_min) = match time.find(['+', 'Z']).or_else(|| time.rfind('-')) {
        Some(i) => {
            let (c, tz) = time.split_at(i);
            let off = if tz == "Z" {
                0
            } else {
                let sign = if tz.starts_with('-') { -1 } else { 1 };
                let mut p = tz[1..].split(':');
                let (h, mi): (i64, i64) = (p.next()?.parse().ok()?, p.next().unwrap_or("0").parse().ok()?);
                sign * h.checked_mul(60)?.checked_add(mi)?
            };
            (c, off)
        }
        None => (time, 0),
    };
    let mut c = clock.split(':');
    let (h, mi): (i64, i64) = (c.next()?.parse().ok()?, c.next()?.parse().ok()?);
    let sec: f64 = c.next().unwrap_or("0").parse().ok()?;
    // The text comes from a foreign file: out-of-range fields are not a date (and must not
    // overflow below).
    let valid = (-1_000_000..=1_000_000).contains(&y)
        && (1..=12).contains(&m)
        && (1..=31).contains(&day)
        && (0..=24).contains(&h)
        && (0..=60).contains(&mi)
        && (0.0..=61.0).contains(&sec)
        && offset_min.abs() <= 24 * 60;
    if !valid {
        return None;
    }
    // Days from civil (Howard Hinnant).
    let yy = if m <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let ms = (days * 86_400 + h * 3600 + mi * 60) * 1000 + (sec * 1000.0).round() as i64;
    Some(ms - offset_min * 60_000)
}

#[derive(Default)]
struct Run {
    name: String,
    group: Option<String>,
    created_ms: Option<i64>,
    params: Vec<(String, Value)>,
    series: BTreeMap<String, Points>,
    skipped_values: usize,
}

/// Imports one trackio project database into project `project` (default: the file's name).
pub fn import(store: &mut Store, db: &Path, project: Option<&str>) -> Result<Vec<RunReport>, ImportError> {
    import_with(store, db, project, &mut |_, _| {})
}

/// [`import`], calling `progress(done, total)` before each run.
pub fn import_with(
    store: &mut Store,
    db: &Path,
    project: Option<&str>,
    progress: crate::Progress<'_>,
) -> Result<Vec<RunReport>, ImportError> {
    use rusqlite::{Connection, OpenFlags};
    let sql_err = |e: rusqlite::Error| ImportError::Source(format!("reading trackio database {}: {e}", db.display()));
    if !db.is_file() {
        return Err(ImportError::io(db, std::io::Error::new(std::io::ErrorKind::NotFound, "no such file")));
    }
    let project = project.map(String::from).unwrap_or_else(|| {
        db.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "trackio".into())
    });
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(sql_err)?;
    let text = |r: &rusqlite::Row<'_>, i: usize| -> rusqlite::Result<String> {
        Ok(match r.get_ref(i)? {
            rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                String::from_utf8_lossy(t).into_owned()
            }
            _ => String::new(),
        })
    };
    let mut runs: BTreeMap<String, Run> = BTreeMap::new();
    let mut stmt =
        conn.prepare("SELECT run_id, run_name, config, created_at FROM configs ORDER BY id").map_err(sql_err)?;
    let rows = stmt.query_map([], |r| Ok((text(r, 0)?, text(r, 1)?, text(r, 2)?, text(r, 3)?))).map_err(sql_err)?;
    for row in rows {
        let (id, name, config, created) = row.map_err(sql_err)?;
        let config: Value = serde_json::from_str(&config).unwrap_or(Value::Null);
        let run = runs.entry(id).or_default();
        run.name = name;
        run.created_ms = iso_ms(&created);
        run.group = config.get("_Group").and_then(Value::as_str).map(String::from);
        if let Value::Object(m) = &config {
            let user: serde_json::Map<String, Value> =
                m.iter().filter(|(k, _)| !k.starts_with('_')).map(|(k, v)| (k.clone(), v.clone())).collect();
            crate::flatten_into("", &Value::Object(user), &mut run.params);
        }
    }
    for (table, sys) in [("metrics", false), ("system_metrics", true)] {
        let step = if sys { "NULL" } else { "step" };
        let mut stmt = conn
            .prepare(&format!("SELECT run_id, run_name, timestamp, {step}, metrics FROM {table} ORDER BY id"))
            .map_err(sql_err)?;
        let rows = stmt
            .query_map([], |r| Ok((text(r, 0)?, text(r, 1)?, text(r, 2)?, r.get::<_, Option<i64>>(3)?, text(r, 4)?)))
            .map_err(sql_err)?;
        let mut sys_step: BTreeMap<String, i64> = BTreeMap::new();
        for row in rows {
            let (id, name, ts, step, metrics) = row.map_err(sql_err)?;
            let run = runs.entry(id.clone()).or_default();
            if run.name.is_empty() {
                run.name = name;
            }
            let wall = iso_ms(&ts).unwrap_or(0);
            let step = match step {
                Some(s) => s,
                None => {
                    let n = sys_step.entry(id).or_insert(0);
                    *n += 1;
                    *n - 1
                }
            };
            let Ok(Value::Object(m)) = serde_json::from_str::<Value>(&metrics) else { continue };
            for (k, v) in m {
                match crate::metric_value(&v) {
                    Some(x) => {
                        let key = if sys { format!("sys/{k}") } else { k };
                        run.series.entry(key).or_default().push(step, wall, x);
                    }
                    None => run.skipped_values += 1,
                }
            }
        }
    }
    let mut out = Vec::new();
    let total = runs.len();
    for (i, (id, run)) in runs.into_iter().enumerate() {
        progress(i, total);
        let mut report = RunReport {
            run_id: id.clone(),
            project: project.clone(),
            name: run.name.clone(),
            points: 0,
            params: 0,
            artifacts: 0,
            skipped: None,
            problems: Vec::new(),
        };
        if crate::already_imported(store, &id, &mut report)? {
            out.push(report);
            continue;
        }
        let new = NewRun {
            project: project.clone(),
            name: (!run.name.is_empty()).then(|| run.name.clone()),
            group: run.group.clone(),
            created_ms: run.created_ms,
            tags: vec![(crate::tensorboard::SOURCE_TAG.to_string(), format!("trackio:{}:{id}", db.display()))],
            ..NewRun::default()
        };
        store.create_run_with_id(&id, &new)?;
        let batch = Batch {
            params: run.params.clone(),
            series: run.series.iter().map(|(k, p)| SeriesBatch { key: k.clone(), points: p.clone() }).collect(),
            ..Batch::default()
        };
        let ingest = store.log_batch(&id, &batch)?;
        let end = run.series.values().filter_map(|p| p.wall_ms.iter().max().copied()).max();
        store.finish_run_at(&id, RunStatus::Finished, None, end)?;
        report.points = ingest.points;
        report.params = ingest.params;
        if run.skipped_values > 0 {
            report.problems.push(format!("{} non-numeric value(s) (media, tables) not imported", run.skipped_values));
        }
        report.problems.extend(ingest.rejected.iter().map(|x| format!("{} `{}` refused: {}", x.what, x.key, x.reason)));
        out.push(report);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso_timestamps() {
        assert_eq!(super::iso_ms("1970-01-01T00:00:00+00:00"), Some(0));
        assert_eq!(super::iso_ms("2026-11-29T10:04:46.692916+00:00"), Some(1_795_946_686_693));
        assert_eq!(super::iso_ms("2026-11-29T11:04:46.5+01:00"), Some(1_795_946_686_500));
        assert_eq!(super::iso_ms("2000-02-29T00:00:00Z"), Some(951_782_400_000));
        assert_eq!(super::iso_ms("yesterday"), None);
        // Out of range, not an overflow.
        assert_eq!(super::iso_ms("9223372036854775807-01-01T00:00:00Z"), None);
        assert_eq!(super::iso_ms("2026-11-29T10:04:46+99999999999:00"), None);
        assert_eq!(super::iso_ms("2026-13-29T10:04:46Z"), None);
    }
}
