//! `trackbench ab`: is variant B really better than A? Runs both arms of a command interleaved
//! (A1 B1 A2 B2 …, seeds 1..N as `{seed}`) through the launcher, or takes two existing run
//! groups (`--from-groups`), stores the A/B object (arms, runs, metric, direction, status) and
//! the verdict on each run's final metric value; `ab promote` registers arm B's best run as a
//! model version when the verdict says B is better. `trackbench-launch`'s `orchestrate::AbLaunch`
//! creates the A/B and its jobs, records each run and stores the verdict (the server's A/B
//! endpoints use the same). `ab ls` and `ab show`
//! read them back; `trackbench report --ab ID` renders one.

use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::Value;
use trackbench_compare::{Direction, ab_from_groups, ab_values, promote_ab};
use trackbench_launch::grid;
use trackbench_launch::orchestrate::{AbGoal, AbLaunch};
use trackbench_launch::plan::AbPlan;
use trackbench_store::prelude::*;
use trackbench_store::{AbInfo, Arm, RunStatus};

use crate::cmd_launch::{JobArgs, run_jobs};
use crate::selection::lift;
use crate::{Ctx, output};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct AbArgs {
    #[command(subcommand)]
    sub: Option<AbSub>,
    #[command(flatten)]
    run: AbRunArgs,
}

#[derive(Subcommand)]
enum AbSub {
    /// List A/B comparisons, newest first
    Ls {
        #[arg(long, short)]
        project: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show one A/B comparison: its runs, values and verdict
    Show {
        /// A/B id or a unique prefix of 4+ characters
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Register arm B's best run as a new version of a registered model (refused unless the
    /// verdict says B is better; --force promotes anyway)
    Promote {
        /// A/B id or a unique prefix of 4+ characters
        id: String,
        /// Registered model name (created if new)
        name: String,
        /// Point this alias at the new version
        #[arg(long, default_value = "champion")]
        alias: String,
        /// Promote even when the verdict does not say B is better
        #[arg(long)]
        force: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct AbRunArgs {
    #[command(flatten)]
    job: JobArgs,
    /// The metric to judge on (each run's last value)
    #[arg(long, required = true)]
    metric: Option<String>,
    /// Higher is better
    #[arg(long, conflicts_with = "minimize")]
    maximize: bool,
    /// Lower is better
    #[arg(long)]
    minimize: bool,
    /// Seeds per arm (runs 1..=N, substituted as `{seed}`)
    #[arg(long, default_value_t = 5)]
    seeds: u64,
    /// Arm A's parameters, NAME=VALUE[,NAME=VALUE…]
    #[arg(long = "a", value_name = "NAME=VALUE", requires = "b_arm", id = "a_arm")]
    a: Option<String>,
    /// Arm B's parameters
    #[arg(long = "b", value_name = "NAME=VALUE", id = "b_arm")]
    b: Option<String>,
    /// Parameters both arms share
    #[arg(long, value_name = "NAME=VALUE")]
    base: Option<String>,
    /// Build the A/B from two existing run groups instead (runs nothing)
    #[arg(long, num_args = 2, value_names = ["A_GROUP", "B_GROUP"], conflicts_with_all = ["a_arm", "command"])]
    from_groups: Option<Vec<String>>,
    /// Name of the A/B [default: "A vs B" from the arms]
    #[arg(long, short)]
    name: Option<String>,
    /// Print the A/B object, every number of its verdict included, as JSON
    #[arg(long)]
    json: bool,
    /// The command; `{NAME}` is replaced by the arm's parameters and `{seed}` by the seed
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "CMD")]
    command: Vec<String>,
}

pub fn ab(ctx: &Ctx, a: AbArgs) -> anyhow::Result<()> {
    match a.sub {
        Some(AbSub::Ls { project, json }) => ls(ctx, project.as_deref(), json),
        Some(AbSub::Show { id, json }) => {
            let boxed = ctx.open()?;
            let store = boxed.as_ref();
            let ab = store.ab(&store.resolve_ab(&id)?)?;
            print_ab(store, &ab, json)
        }
        Some(AbSub::Promote { id, name, alias, force, json }) => promote(ctx, &id, &name, &alias, force, json),
        None => run(ctx, a.run),
    }
}

fn promote(ctx: &Ctx, id: &str, name: &str, alias: &str, force: bool, json: bool) -> anyhow::Result<()> {
    let mut boxed = ctx.open()?;
    let store = boxed.as_mut();
    let id = store.resolve_ab(id)?;
    let p = promote_ab(store, &id, name, Some(alias), force).map_err(lift)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&p)?);
        return Ok(());
    }
    let e = output::escape;
    println!(
        "registered {} version {} ({}) from run {} ({} = {}){}",
        e(&p.version.name),
        p.version.version,
        e(alias),
        p.run,
        e(&p.version.tags.get("ab.metric").cloned().unwrap_or_default()),
        output::num(p.value),
        if p.forced { "; forced: the verdict did not say B is better" } else { "" }
    );
    Ok(())
}

fn usage(why: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(trackbench_store::StoreError::Invalid { what: "ab arguments", why: why.into() })
}

fn run(ctx: &Ctx, a: AbRunArgs) -> anyhow::Result<()> {
    let metric = a.metric.clone().context("--metric is required")?;
    if !a.maximize && !a.minimize {
        return Err(usage("say which way is better: --maximize or --minimize"));
    }
    let direction = if a.minimize { "minimize" } else { "maximize" };
    if let Some(groups) = &a.from_groups {
        return from_groups(ctx, &a, &metric, direction, &groups[0], &groups[1]);
    }
    let (Some(a_spec), Some(b_spec)) = (&a.a, &a.b) else {
        return Err(usage("give --a and --b with a command after `--`, or --from-groups A_GROUP B_GROUP"));
    };
    if a.command.is_empty() {
        return Err(usage("no command given (after `--`)"));
    }
    let plan = AbPlan {
        a: grid::parse_assignments(a_spec)?,
        b: grid::parse_assignments(b_spec)?,
        base: a.base.as_deref().map(grid::parse_assignments).transpose()?.unwrap_or_default(),
        seeds: a.seeds,
    };
    plan.check()?;
    let template = a.job.job(&a.command)?;
    for (k, _) in plan.a.iter().chain(&plan.b) {
        let used = a.command.iter().any(|x| x.contains(&format!("{{{k}}}")));
        if !used {
            eprintln!(
                "warning: `{{{k}}}` does not appear in the command; it reaches it only as an environment variable"
            );
        }
    }
    let mut runner = a.job.runner(ctx, &format!("ab {}", a.name.clone().unwrap_or_else(|| plan.default_name())))?;
    let dir = if a.minimize { Direction::Minimize } else { Direction::Maximize };
    let goal = AbGoal { metric: metric.clone(), direction: dir, name: a.name.clone() };
    let (mut launch, jobs) = AbLaunch::create(runner.store(), &plan, &template, &goal)?;
    let id = launch.id().to_string();
    let name = goal.name.unwrap_or_else(|| plan.default_name());
    eprintln!("A/B {id} ({name}): {} runs, {metric} ({direction})", jobs.len());
    let (labels, jobs): (Vec<String>, Vec<_>) = jobs.into_iter().map(|j| (j.label, j.job)).unzip();
    // Each ended job is recorded on its arm; the last one's end stores the verdict.
    let mut write_err = None;
    let ran = run_jobs(&mut runner, &a.job, ctx, jobs, &labels, |i, r, store| {
        if let Err(e) = launch.job_ended(i, r).apply(store) {
            write_err.get_or_insert(e);
        }
    });
    let results = ran.with_context(|| format!("A/B {id} did not start"))?;
    let store = runner.store();
    if let Some(e) = write_err {
        return Err(lift(e).context("recording the A/B's runs and verdict"));
    }
    let not_started = results.iter().filter(|r| r.run_id.is_none()).count();
    if not_started > 0 {
        eprintln!("{not_started} runs never started");
    }
    let ab = store.ab(&id)?;
    print_ab(store, &ab, a.json)?;
    match ab.status {
        RunStatus::Finished => Ok(()),
        _ => Err(crate::cmd_launch::JobFailed(format!("A/B {id} {}", ab.status)).into()),
    }
}

fn from_groups(ctx: &Ctx, a: &AbRunArgs, metric: &str, direction: &str, ga: &str, gb: &str) -> anyhow::Result<()> {
    let mut boxed = ctx.open()?;
    let store = boxed.as_mut();
    let dir = if direction == "minimize" { Direction::Minimize } else { Direction::Maximize };
    let ab = ab_from_groups(store, a.job.project.as_deref(), a.name.as_deref(), metric, dir, ga, gb).map_err(lift)?;
    print_ab(store, &ab, a.json)?;
    match ab.status {
        RunStatus::Finished => Ok(()),
        _ => Err(crate::cmd_launch::JobFailed(format!("A/B {} {}", ab.id, ab.status)).into()),
    }
}

fn ls(ctx: &Ctx, project: Option<&str>, json: bool) -> anyhow::Result<()> {
    let boxed = ctx.open()?;
    let store = boxed.as_ref();
    let abs = store.list_abs(project)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&abs)?);
        return Ok(());
    }
    let rows: Vec<Vec<String>> = abs
        .iter()
        .map(|ab| {
            let count = |arm| ab.runs.iter().filter(|r| r.arm == arm).count();
            let outcome = ab
                .result
                .as_ref()
                .and_then(|r| r["comparison"]["outcome"].as_str().map(str::to_string))
                .unwrap_or_else(|| "-".into());
            vec![
                ab.id.clone(),
                ab.name.clone(),
                ab.project.clone(),
                format!("{} ({})", ab.metric, ab.direction.chars().take(3).collect::<String>()),
                ab.status.to_string(),
                format!("{}/{}", count(Arm::A), count(Arm::B)),
                outcome,
                output::time(ab.created_ms),
            ]
        })
        .collect();
    print!(
        "{}",
        output::table(&["ID", "NAME", "PROJECT", "METRIC", "STATUS", "RUNS A/B", "OUTCOME", "CREATED"], &rows)
    );
    Ok(())
}

/// Prints an A/B: its runs and values, then the verdict with every number (or JSON).
fn print_ab(store: &dyn Backend, ab: &AbInfo, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(ab)?);
        return Ok(());
    }
    // Stored strings reach the terminal only through `output::escape` (no escape sequences).
    let e = output::escape;
    println!("A/B {}  {}  [{}]", e(&ab.id), e(&ab.name), ab.status);
    println!("project {}, metric {} ({})", e(&ab.project), e(&ab.metric), e(&ab.direction));
    if ab.spec["source"] == "launch" {
        let spec = |k: &str| e(&ab.spec[k].to_string()).into_owned();
        println!("A: {}   B: {}   base: {}   seeds: {}", spec("a"), spec("b"), spec("base"), spec("seeds"));
        println!("command: {}", e(ab.spec["command"].as_str().unwrap_or("")));
    }
    let vals = ab_values(store, ab).map_err(lift)?;
    let rows: Vec<Vec<String>> = vals
        .iter()
        .map(|v| {
            vec![
                v.arm.as_str().to_ascii_uppercase(),
                v.run.id.clone(),
                v.run.name.clone(),
                v.run.status.to_string(),
                v.value.map(output::num).unwrap_or_else(|| "-".into()),
                v.run.error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    println!();
    print!("{}", output::table(&["ARM", "RUN", "NAME", "STATUS", &ab.metric.to_uppercase(), "ERROR"], &rows));
    let failed = vals.iter().filter(|v| v.value.is_none()).count();
    if failed > 0 {
        println!(
            "{failed} of {} runs have no value (failed, killed or never logged {}); left out",
            vals.len(),
            e(&ab.metric)
        );
    }
    println!();
    let c = ab.result.as_ref().map(|r| &r["comparison"]).filter(|c| c.is_object());
    match c {
        Some(c) => {
            let n = |v: &Value| v.as_f64().map(output::num).unwrap_or_else(|| "-".into());
            for arm in ["a", "b"] {
                let s = &c[arm];
                println!(
                    "{}: n = {}, mean {}, std {}, median {}",
                    arm.to_uppercase(),
                    s["n"],
                    n(&s["mean"]),
                    n(&s["std"]),
                    n(&s["median"])
                );
            }
            let w = &c["welch"];
            println!(
                "B - A = {} (95% CI {} to {}), Welch p = {}",
                n(&w["diff"]),
                n(&w["ci_low"]),
                n(&w["ci_high"]),
                n(&w["p_two_sided"])
            );
            println!("bootstrap 95% CI {} to {}", n(&c["bootstrap"]["low"]), n(&c["bootstrap"]["high"]));
            println!("Mann-Whitney U = {}, p = {}", n(&c["mann_whitney"]["u"]), n(&c["mann_whitney"]["p_two_sided"]));
            println!(
                "Hedges' g = {}, seeds per arm for 80% power: {}",
                n(&c["hedges_g"]),
                c["seeds_needed"].as_u64().map(|s| s.to_string()).unwrap_or_else(|| "-".into())
            );
            for note in c["notes"].as_array().into_iter().flatten() {
                println!("note: {}", e(note.as_str().unwrap_or_default()));
            }
            println!("\nverdict: {}", e(c["verdict"].as_str().unwrap_or_default()));
        }
        None => println!("no verdict: {}", e(ab.error.as_deref().unwrap_or("not finished"))),
    }
    Ok(())
}
