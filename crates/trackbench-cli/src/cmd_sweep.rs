//! `trackbench sweep`: one command over a grid of parameters (every combination, or a seeded
//! random sample), each substituted into the arguments as `{name}` and passed as
//! `TRACKBENCH_PARAM_<NAME>`; all runs in one group, queued per device, then a summary table.

use clap::Args;
use trackbench_launch::grid;
use trackbench_launch::plan::SweepPlan;
use trackbench_store::RunStatus;

use crate::cmd_launch::{JobArgs, JobFailed, run_jobs};
use crate::{Ctx, output};

#[derive(Args)]
pub struct SweepArgs {
    #[command(flatten)]
    job: JobArgs,
    /// A parameter and its values, NAME=V1,V2,… (repeatable; every combination is run)
    #[arg(long = "grid", value_name = "NAME=V1,V2", required = true)]
    grids: Vec<String>,
    /// Run only this many combinations, chosen at random
    #[arg(long, value_name = "N")]
    random: Option<usize>,
    /// Seed of the random choice
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// A metric to show in the summary table (its last value)
    #[arg(long)]
    metric: Option<String>,
    /// Print the results as JSON
    #[arg(long)]
    json: bool,
    /// The command; `{NAME}` in it is replaced by the parameter's value
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, value_name = "CMD")]
    command: Vec<String>,
}

pub fn sweep(ctx: &Ctx, a: SweepArgs) -> anyhow::Result<()> {
    let axes = a.grids.iter().map(|g| grid::parse_axis(g)).collect::<Result<Vec<_>, _>>()?;
    let plan = SweepPlan { axes, random: a.random, seed: a.seed };
    plan.check()?;
    let base = a.job.job(&a.command)?;
    let combos = plan.combos();
    let (group, jobs) = plan.jobs(&base);
    let mut runner = a.job.runner(ctx, &group)?;
    let labels: Vec<String> = combos.iter().map(grid::describe).collect();
    eprintln!("sweep: {} runs in group {group}", combos.len());
    let results = run_jobs(&mut runner, &a.job, ctx, jobs, &labels, |_, _, _| {})?;
    let store = runner.store();
    let mut rows = Vec::new();
    let mut json_rows = Vec::new();
    for (params, r) in combos.iter().zip(&results) {
        let value = match (&a.metric, &r.run_id) {
            (Some(m), Some(id)) => store.metric_summaries(id)?.into_iter().find(|s| &s.key == m).map(|s| s.last),
            _ => None,
        };
        let mut row: Vec<String> = vec![r.run_id.clone().unwrap_or_else(|| "-".into())];
        row.extend(params.iter().map(|(_, v)| v.clone()));
        row.push(r.status.to_string());
        row.push(r.exit_code.map(|c| c.to_string()).unwrap_or_else(|| "-".into()));
        row.push(output::duration(r.timings.run.as_millis() as i64));
        if a.metric.is_some() {
            row.push(value.map(output::num).unwrap_or_else(|| "-".into()));
        }
        rows.push(row);
        json_rows.push(serde_json::json!({
            "params": params.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(v.clone())))
                .collect::<serde_json::Map<_, _>>(),
            "result": r,
            "metric": value,
        }));
    }
    let failed = results.iter().filter(|r| r.status != RunStatus::Finished).count();
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"group": group, "runs": json_rows, "failed": failed}))?
        );
    } else {
        let mut header: Vec<&str> = vec!["RUN"];
        header.extend(plan.axes.iter().map(|(k, _)| k.as_str()));
        header.extend(["STATUS", "EXIT", "TIME"]);
        if let Some(m) = &a.metric {
            header.push(m);
        }
        print!("{}", output::table(&header, &rows));
        println!("group {group}: {} finished, {failed} not", results.len() - failed);
    }
    if failed > 0 {
        return Err(JobFailed(format!("{failed} of {} sweep runs did not finish", results.len())).into());
    }
    Ok(())
}
