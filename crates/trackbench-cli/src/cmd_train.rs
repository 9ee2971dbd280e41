//! `trackbench train`: the reference trainer (crate `trackbench-train`) as a tracked run, and
//! the device list `trackbench doctor` shows. The run is created in the store (or attached to,
//! when the launcher set `TRACKBENCH_RUN_ID`); epochs print to stderr, the result to stdout.

use anyhow::Context;
use clap::Args;
use serde_json::json;
use trackbench_sdk::{Run, RunOptions, RunStatus};
use trackbench_train::train::{Event, TrainConfig};
use trackbench_train::{BackendChoice, BackendKind, DataSpec, Optim, OptimizerKind};

use crate::{Ctx, output};

#[derive(Args)]
pub struct TrainArgs {
    /// auto (CUDA, then a hardware wgpu adapter, then CPU), cpu, wgpu or cuda
    #[arg(long, default_value = "auto")]
    backend: BackendChoice,
    /// wgpu adapter or CUDA device index (see `trackbench doctor`), or a launcher device
    /// (`cpu`, `cuda:N`, `wgpu:NAME`: the launcher pins jobs with TRACKBENCH_DEVICE, and with
    /// `auto` it also picks the backend)
    #[arg(long, env = "TRACKBENCH_DEVICE", default_value = "0", value_parser = parse_device)]
    device: DeviceArg,
    /// digits (8x8 handwritten digits, 1,438 train / 359 val), spirals or blobs
    #[arg(long, default_value = "digits", value_parser = ["digits", "spirals", "blobs"])]
    dataset: String,
    /// Samples in a synthetic set (spirals, blobs)
    #[arg(long, default_value_t = 10_000)]
    samples: usize,
    /// Classes in a synthetic set
    #[arg(long, default_value_t = 3)]
    classes: usize,
    /// Dimensions of the blobs set
    #[arg(long, default_value_t = 16)]
    dim: usize,
    /// Hidden layer widths
    #[arg(long, value_delimiter = ',', default_value = "128,128")]
    hidden: Vec<usize>,
    #[arg(long, default_value_t = 1e-2)]
    lr: f32,
    /// sgd (momentum 0.9) or adam
    #[arg(long, default_value = "sgd")]
    optimizer: OptimizerKind,
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    #[arg(long, default_value_t = 20)]
    epochs: usize,
    /// Seeds the weights, the shuffling and the synthetic data
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Project of the new run [env: TRACKBENCH_PROJECT; default: trackbench-train]
    #[arg(long)]
    project: Option<String>,
    /// Name of the new run
    #[arg(long)]
    name: Option<String>,
    /// Print the result as JSON
    #[arg(long)]
    json: bool,
}

/// `--device`: an index, or a launcher device that also names the backend.
#[derive(Clone, Copy, Debug)]
pub struct DeviceArg {
    index: usize,
    backend: Option<BackendKind>,
}

fn parse_device(s: &str) -> Result<DeviceArg, String> {
    let s = s.trim();
    if let Ok(index) = s.parse::<usize>() {
        return Ok(DeviceArg { index, backend: None });
    }
    // Under the launcher a CUDA job sees only its pinned GPU (CUDA_VISIBLE_DEVICES): index 0.
    let pinned = std::env::var_os("CUDA_VISIBLE_DEVICES").is_some();
    match s.split_once(':') {
        None if s == "cpu" => Ok(DeviceArg { index: 0, backend: Some(BackendKind::Cpu) }),
        Some(("cuda", n)) => {
            let n: usize = n.parse().map_err(|_| format!("`{s}`: expected cuda:N"))?;
            Ok(DeviceArg { index: if pinned { 0 } else { n }, backend: Some(BackendKind::Cuda) })
        }
        Some(("wgpu", _)) => Ok(DeviceArg { index: 0, backend: Some(BackendKind::Wgpu) }),
        _ => Err(format!("`{s}` is not a device: give an index, cpu, cuda:N or wgpu:NAME")),
    }
}

impl TrainArgs {
    fn config(&self) -> TrainConfig {
        let data = match self.dataset.as_str() {
            "spirals" => DataSpec::Spirals { samples: self.samples, classes: self.classes, noise: 0.02 },
            "blobs" => DataSpec::Blobs { samples: self.samples, classes: self.classes, dim: self.dim, spread: 0.8 },
            _ => DataSpec::Digits,
        };
        TrainConfig {
            backend: match (self.backend, self.device.backend) {
                (BackendChoice::Auto, Some(kind)) => BackendChoice::Only(kind),
                (explicit, _) => explicit,
            },
            device: self.device.index,
            data,
            hidden: self.hidden.clone(),
            optim: Optim::new(self.optimizer, self.lr),
            batch_size: self.batch_size,
            epochs: self.epochs,
            seed: self.seed,
            max_steps: None,
            skip_validation: false,
        }
    }
}

pub fn train(ctx: &Ctx, a: TrainArgs) -> anyhow::Result<()> {
    let cfg = a.config();
    // TRACKBENCH_RUN_ID (set by the launcher) attaches to an existing run. With a server from
    // TRACKBENCH_URL or `trackbench login` and no store folder named (a cluster task's agent
    // sets exactly that), the run is on the server, as for any SDK user.
    let mut opts = RunOptions::from_env("trackbench-train");
    let remote =
        opts.remote.clone().filter(|_| ctx.team.is_none() && ctx.store_dir == trackbench_sdk::default_store_dir());
    let where_ = match &remote {
        Some(r) => r.url.clone(),
        None => ctx.store_dir.display().to_string(),
    };
    if remote.is_none() {
        opts = opts.store_dir(&ctx.store_dir);
    }
    if let Some(p) = &a.project {
        opts.project = p.clone();
    }
    if let Some(n) = &a.name {
        opts = opts.name(n);
    }
    let run = Run::start(opts).with_context(|| format!("starting a run in {where_}"))?;
    let epochs = cfg.epochs;
    let mut progress = |e: &Event<'_>| match e {
        Event::Started { kind, device, why, spec, train, val } => eprintln!(
            "backend: {} on {device}\nchosen because: {why}\nmodel {:?}, {train} train / {val} val samples",
            kind.as_str(),
            spec.sizes
        ),
        Event::Epoch(s) => eprintln!(
            "epoch {:>3}/{epochs}  train loss {:.4} acc {:.4}  val loss {:.4} acc {:.4}  {:.0} samples/s",
            s.epoch, s.train_loss, s.train_acc, s.val_loss, s.val_acc, s.samples_per_sec
        ),
        Event::Steps { .. } => {}
    };
    let outcome = match trackbench_train::logged::train_logged(&cfg, &run, &mut progress) {
        Ok(o) => o,
        Err(e) => {
            let msg = e.to_string();
            let _ = run.finish_with(RunStatus::Failed, Some(&msg));
            return Err(anyhow::Error::new(e).context("training failed"));
        }
    };
    let id = run.id().to_string();
    run.finish().context("finishing the run")?;
    let last = outcome.last.context("no epoch completed")?;
    if a.json {
        let v = json!({
            "run_id": id,
            "backend": outcome.kind.as_str(),
            "device": outcome.device,
            "why": outcome.why,
            "steps": outcome.steps,
            "train_loss": last.train_loss,
            "train_acc": last.train_acc,
            "val_loss": last.val_loss,
            "val_acc": last.val_acc,
            "samples_per_sec": last.samples_per_sec,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        let rows = vec![
            vec!["run".into(), id],
            vec!["backend".into(), format!("{} ({})", outcome.kind.as_str(), outcome.device)],
            vec!["steps".into(), outcome.steps.to_string()],
            vec!["val accuracy".into(), format!("{:.4}", last.val_acc)],
            vec!["val loss".into(), format!("{:.4}", last.val_loss)],
            vec!["samples/s".into(), format!("{:.0}", last.samples_per_sec)],
        ];
        print!("{}", output::table(&["TRAIN", ""], &rows));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Args;

    /// The server's trainer jobs set `trackbench train` flags from `trackbench_launch::trainer`:
    /// that list is every flag of this command but the launcher's own.
    #[test]
    fn the_launchers_trainer_params_are_this_commands_flags() {
        let cmd = super::TrainArgs::augment_args(clap::Command::new("train"));
        let mut flags: Vec<(String, String)> = cmd
            .get_arguments()
            .filter(|a| !matches!(a.get_id().as_str(), "device" | "project" | "name" | "json"))
            .filter_map(|a| Some((a.get_id().to_string(), format!("--{}", a.get_long()?))))
            .collect();
        flags.sort();
        let mut listed: Vec<(String, String)> =
            trackbench_launch::trainer::PARAMS.iter().map(|(k, f)| (k.to_string(), f.to_string())).collect();
        listed.sort();
        assert_eq!(flags, listed, "trackbench_launch::trainer::PARAMS and `trackbench train`'s flags differ");
    }
}
