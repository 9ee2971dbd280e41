//! `trackbench runs …`, `projects ls` and `doctor` (store health and the trainer's devices).

use anyhow::{Context, bail};
use clap::Subcommand;
use serde_json::json;
use trackbench_store::prelude::*;
use trackbench_store::{RunInfo, RunQuery};

use crate::Ctx;
use crate::output::{self, LAST_FILTER};

#[derive(Subcommand)]
pub enum RunsCmd {
    /// List runs, newest first
    Ls {
        #[arg(long, short)]
        project: Option<String>,
        /// Filter, e.g. "metrics.acc > 0.9 and params.lr = 0.01"
        #[arg(long, short)]
        filter: Option<String>,
        /// Order, e.g. "metrics.acc desc" or "min(metrics.loss)"
        #[arg(long)]
        order_by: Option<String>,
        #[arg(long, short = 'n')]
        limit: Option<usize>,
        /// Extra columns: metric or param names, e.g. "metrics.acc,params.lr"
        #[arg(long, short, value_delimiter = ',')]
        columns: Vec<String>,
        /// Include deleted runs
        #[arg(long)]
        deleted: bool,
        #[arg(long)]
        json: bool,
    },
    /// Show one run: attributes, params, tags, metric summaries, artifacts
    Show {
        /// Run id, unique id prefix, or unique name
        run: String,
        #[arg(long)]
        json: bool,
    },
    /// Set tags (K=V) or remove them (--remove K)
    Tag {
        run: String,
        /// KEY=VALUE pairs
        tags: Vec<String>,
        #[arg(long, value_name = "KEY")]
        remove: Vec<String>,
    },
    /// Delete runs (restorable unless --purge)
    Rm {
        #[arg(required = true)]
        runs: Vec<String>,
        /// Delete for good, with every point
        #[arg(long)]
        purge: bool,
    },
    /// Restore deleted runs
    Restore {
        #[arg(required = true)]
        runs: Vec<String>,
    },
}

#[derive(Subcommand)]
pub enum ProjectsCmd {
    /// List projects with run counts and last activity
    Ls {
        #[arg(long)]
        json: bool,
    },
    /// Give USER a permission on PROJECT (read < edit < manage), replacing theirs
    Grant { project: String, user: String, level: crate::cmd_users::Level },
    /// Take USER's own permission on PROJECT away (the default then applies)
    Revoke { project: String, user: String },
    /// Show, or set, what every user may do on a project they hold no permission of their own on
    Default { level: Option<crate::cmd_users::DefaultLevel> },
    /// List permissions, of one project or all
    Grants {
        project: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

fn run_json(store: &dyn Backend, r: &RunInfo) -> anyhow::Result<serde_json::Value> {
    let metrics: serde_json::Map<String, serde_json::Value> = store
        .metric_summaries(&r.id)?
        .into_iter()
        .map(|s| (s.key.clone(), serde_json::to_value(&s).unwrap_or_default()))
        .collect();
    let params: serde_json::Map<_, _> = store.params(&r.id)?.into_iter().collect();
    let summary: serde_json::Map<_, _> = store.summary_values(&r.id)?.into_iter().collect();
    let tags: serde_json::Map<_, _> =
        store.tags(&r.id)?.into_iter().map(|(k, v)| (k, serde_json::Value::String(v))).collect();
    let mut v = serde_json::to_value(r)?;
    v["params"] = params.into();
    v["tags"] = tags.into();
    v["summary"] = summary.into();
    v["metrics"] = metrics.into();
    Ok(v)
}

/// Value of a `metrics.k` / `params.k` column for a run.
fn column(store: &dyn Backend, r: &RunInfo, col: &str) -> anyhow::Result<String> {
    if let Some(k) = col.strip_prefix("metrics.").or_else(|| col.strip_prefix("metric.")) {
        Ok(store
            .metric_summaries(&r.id)?
            .into_iter()
            .find(|s| s.key == k)
            .map(|s| output::num(s.last))
            .unwrap_or_default())
    } else {
        let k = col.strip_prefix("params.").or_else(|| col.strip_prefix("param.")).unwrap_or(col);
        Ok(store
            .params(&r.id)?
            .into_iter()
            .find(|(pk, _)| pk == k)
            .map(|(_, v)| output::json_cell(&v))
            .unwrap_or_default())
    }
}

pub fn runs(ctx: &Ctx, cmd: RunsCmd) -> anyhow::Result<()> {
    let mut boxed = ctx.open()?;
    let store = boxed.as_mut();
    match cmd {
        RunsCmd::Ls { project, filter, order_by, limit, columns, deleted, json } => {
            LAST_FILTER.with(|f| *f.borrow_mut() = filter.clone().or(order_by.clone()));
            let q = RunQuery { project, filter, order_by, limit, offset: 0, include_deleted: deleted };
            let runs = store.list_runs(&q)?;
            if json {
                let all = runs.iter().map(|r| run_json(&*store, r)).collect::<anyhow::Result<Vec<_>>>()?;
                println!("{}", serde_json::to_string_pretty(&all)?);
                return Ok(());
            }
            let mut header = vec!["ID", "PROJECT", "NAME", "STATUS", "CREATED (UTC)", "DURATION"];
            header.extend(columns.iter().map(String::as_str));
            let now = trackbench_store::now_ms();
            let mut rows = Vec::new();
            for r in &runs {
                let mut row = vec![
                    r.id.clone(),
                    r.project.clone(),
                    r.name.clone(),
                    r.status.to_string(),
                    output::time(r.created_ms),
                    output::duration(r.ended_ms.unwrap_or(now) - r.started_ms),
                ];
                for c in &columns {
                    row.push(column(&*store, r, c)?);
                }
                rows.push(row);
            }
            print!("{}", output::table(&header, &rows));
            eprintln!("{} run(s)", runs.len());
        }
        RunsCmd::Show { run, json } => {
            let id = store.resolve_run(&run)?;
            let r = store.run(&id)?;
            if json {
                let mut v = run_json(&*store, &r)?;
                v["artifacts"] = serde_json::to_value(store.artifacts(&id)?)?;
                println!("{}", serde_json::to_string_pretty(&v)?);
                return Ok(());
            }
            show(&*store, &r)?;
        }
        RunsCmd::Tag { run, tags, remove } => {
            let id = store.resolve_run(&run)?;
            if tags.is_empty() && remove.is_empty() {
                bail!("nothing to do: give KEY=VALUE pairs or --remove KEY");
            }
            for t in &tags {
                let (k, v) = t.split_once('=').with_context(|| format!("`{t}` is not KEY=VALUE"))?;
                store.set_tag(&id, k, v)?;
            }
            for k in &remove {
                if !store.remove_tag(&id, k)? {
                    eprintln!("warning: run {id} had no tag `{k}`");
                }
            }
        }
        RunsCmd::Rm { runs, purge } => {
            for r in &runs {
                let id = store.resolve_run(r)?;
                if purge {
                    store.purge_run(&id)?;
                    eprintln!("purged {id}");
                } else {
                    store.delete_run(&id)?;
                    eprintln!("deleted {id} (restore with `trackbench runs restore {id}`)");
                }
            }
        }
        RunsCmd::Restore { runs } => {
            for r in &runs {
                let id = store.resolve_run(r)?;
                store.restore_run(&id)?;
                eprintln!("restored {id}");
            }
        }
    }
    Ok(())
}

fn show(store: &dyn Backend, r: &RunInfo) -> anyhow::Result<()> {
    let now = trackbench_store::now_ms();
    let mut rows = vec![
        vec!["id".into(), r.id.clone()],
        vec!["project".into(), r.project.clone()],
        vec!["name".into(), r.name.clone()],
        vec!["status".into(), r.status.to_string()],
        vec!["created".into(), output::time(r.created_ms)],
        vec!["duration".into(), output::duration(r.ended_ms.unwrap_or(now) - r.started_ms)],
        vec!["heartbeat".into(), output::time(r.heartbeat_ms)],
    ];
    let opt = |k: &str, v: &Option<String>| v.as_ref().map(|v| vec![k.to_string(), v.clone()]);
    rows.extend(
        [
            opt("group", &r.group),
            opt("host", &r.host),
            r.pid.map(|p| vec!["pid".into(), p.to_string()]),
            opt("command", &r.command),
            opt(
                "git",
                &r.git_commit
                    .as_ref()
                    .map(|c| format!("{c}{}", if r.git_dirty == Some(true) { " (dirty)" } else { "" })),
            ),
            opt("notes", &r.notes),
            opt("error", &r.error),
        ]
        .into_iter()
        .flatten(),
    );
    print!("{}", output::table(&["RUN", ""], &rows));
    let params = store.params(&r.id)?;
    if !params.is_empty() {
        let rows: Vec<Vec<String>> = params.iter().map(|(k, v)| vec![k.clone(), output::json_cell(v)]).collect();
        print!("\n{}", output::table(&["PARAM", "VALUE"], &rows));
    }
    let tags = store.tags(&r.id)?;
    if !tags.is_empty() {
        let rows: Vec<Vec<String>> = tags.into_iter().map(|(k, v)| vec![k, v]).collect();
        print!("\n{}", output::table(&["TAG", "VALUE"], &rows));
    }
    let metrics = store.metric_summaries(&r.id)?;
    if !metrics.is_empty() {
        let opt_num = |v: Option<f64>| v.map(output::num).unwrap_or_else(|| "-".into());
        let rows: Vec<Vec<String>> = metrics
            .iter()
            .map(|s| {
                vec![
                    s.key.clone(),
                    output::num(s.last),
                    s.last_step.to_string(),
                    opt_num(s.min),
                    opt_num(s.max),
                    opt_num(s.mean()),
                    s.count.to_string(),
                ]
            })
            .collect();
        print!("\n{}", output::table(&["METRIC", "LAST", "STEP", "MIN", "MAX", "MEAN", "POINTS"], &rows));
    }
    let summary = store.summary_values(&r.id)?;
    if !summary.is_empty() {
        let rows: Vec<Vec<String>> = summary.iter().map(|(k, v)| vec![k.clone(), output::json_cell(v)]).collect();
        print!("\n{}", output::table(&["SUMMARY", "VALUE"], &rows));
    }
    let artifacts = store.artifacts(&r.id)?;
    if !artifacts.is_empty() {
        let rows: Vec<Vec<String>> =
            artifacts.iter().map(|a| vec![a.path.clone(), a.size.to_string(), a.media_type.clone()]).collect();
        print!("\n{}", output::table(&["ARTIFACT", "BYTES", "TYPE"], &rows));
    }
    // A Slurm task's batch script, as it ran (`launch --on slurm`): what reproduces the run.
    if let Some(slurm) = r.env.as_ref().map(|e| &e["slurm"])
        && let Some(script) = slurm["script"].as_str()
    {
        println!("\nSLURM BATCH SCRIPT (job {})", output::escape(slurm["job"].as_str().unwrap_or("-")));
        // Line by line, each escaped, so the script keeps its lines but not terminal controls.
        for line in script.lines() {
            println!("{}", output::escape(line));
        }
    }
    Ok(())
}

pub fn projects(ctx: &Ctx, cmd: ProjectsCmd) -> anyhow::Result<()> {
    use crate::cmd_users::AccessCmd;
    let json = match cmd {
        ProjectsCmd::Ls { json } => json,
        ProjectsCmd::Grant { project, user, level } => {
            return crate::cmd_users::access(ctx, AccessCmd::Grant { project, user, level });
        }
        ProjectsCmd::Revoke { project, user } => {
            return crate::cmd_users::access(ctx, AccessCmd::Revoke { project, user });
        }
        ProjectsCmd::Default { level } => return crate::cmd_users::access(ctx, AccessCmd::Default { level }),
        ProjectsCmd::Grants { project, json } => {
            return crate::cmd_users::access(ctx, AccessCmd::Grants { project, json });
        }
    };
    let boxed = ctx.open()?;
    let store = boxed.as_ref();
    let projects = store.list_projects(false)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&projects)?);
    } else {
        let rows: Vec<Vec<String>> = projects
            .iter()
            .map(|p| vec![p.name.clone(), p.runs.to_string(), p.last_activity_ms.map(output::time).unwrap_or_default()])
            .collect();
        print!("{}", output::table(&["PROJECT", "RUNS", "LAST ACTIVITY (UTC)"], &rows));
    }
    Ok(())
}

pub fn doctor(ctx: &Ctx, json_out: bool) -> anyhow::Result<()> {
    let devices = trackbench_train::devices::list();
    // A team store: what the seam can tell (the counts a copy compares); the file checks
    // below are the folder's.
    if let Some(team) = &ctx.team {
        let store = ctx.open()?;
        let counts = trackbench_store::copy::counts(&*store)?;
        let url = trackbench_store_pg::redact(&team.url);
        if json_out {
            let v = json!({ "path": url, "counts": counts, "devices": devices.to_json() });
            println!("{}", serde_json::to_string_pretty(&v)?);
        } else {
            let rows: Vec<Vec<String>> = std::iter::once(vec!["store".into(), url])
                .chain(counts.rows().into_iter().map(|(k, v)| vec![k.to_string(), v.to_string()]))
                .chain(devices.rows().into_iter().map(|(k, v)| vec![k, v]))
                .collect();
            print!("{}", output::table(&["CHECK", ""], &rows));
        }
        return Ok(());
    }
    let store = ctx.open_local()?;
    let h = store.health()?;
    let counts = trackbench_store::copy::counts(&store)?;
    if json_out {
        let mut v = json!(h);
        v["counts"] = json!(counts);
        v["devices"] = devices.to_json();
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        let rows = vec![
            vec!["store".into(), h.path.clone()],
            vec![
                "schema version".into(),
                format!("{} (this build: {})", h.schema_version, trackbench_store::migrate::LATEST),
            ],
            vec!["integrity".into(), h.integrity.clone()],
            vec!["metric chunks".into(), h.metric_chunks.to_string()],
            vec!["blob bytes".into(), h.blob_bytes.to_string()],
            vec!["database bytes".into(), h.db_bytes.to_string()],
        ];
        let rows: Vec<Vec<String>> = rows
            .into_iter()
            .chain(counts.rows().into_iter().map(|(k, v)| vec![k.to_string(), v.to_string()]))
            .chain(devices.rows().into_iter().map(|(k, v)| vec![k, v]))
            .collect();
        print!("{}", output::table(&["CHECK", ""], &rows));
    }
    if h.integrity != "ok" {
        bail!("integrity check failed: {}", h.integrity);
    }
    Ok(())
}
