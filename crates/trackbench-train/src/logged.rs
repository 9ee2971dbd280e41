//! Training as a Trackbench run, through the Rust SDK like any user's code: the config as
//! params, per-step `train/loss`, per-epoch `train/epoch_loss`, `train/acc`, `val/loss`,
//! `val/acc`, `perf/samples_per_sec` and `epoch`, the device as params and a tag, and the final
//! weights as the artifact `model.safetensors`.

use serde_json::Value;
use trackbench_sdk::Run;

use crate::TrainError;
use crate::data::DataSpec;
use crate::train::{self, Event, Outcome, TrainConfig};

/// An `f32` as the `f64` with the same shortest decimal form (`0.01f32` logs as `0.01`, not
/// `0.009999999776482582`).
fn decimal(v: f32) -> Value {
    v.to_string().parse::<f64>().map(Value::from).unwrap_or(Value::Null)
}

/// The config as flat params (`hidden` as `"128,128"`, so it compares as one value).
pub fn config_params(cfg: &TrainConfig) -> Vec<(&'static str, Value)> {
    let backend = match cfg.backend {
        crate::BackendChoice::Auto => "auto",
        crate::BackendChoice::Only(k) => k.as_str(),
    };
    let mut p = vec![
        ("backend", backend.into()),
        ("device_index", (cfg.device as u64).into()),
        ("hidden", cfg.hidden.iter().map(usize::to_string).collect::<Vec<_>>().join(",").into()),
        ("lr", decimal(cfg.optim.lr)),
        ("optimizer", cfg.optim.kind.as_str().into()),
        ("batch_size", (cfg.batch_size as u64).into()),
        ("epochs", (cfg.epochs as u64).into()),
        ("seed", cfg.seed.into()),
    ];
    match cfg.data {
        DataSpec::Digits => p.push(("dataset", "digits".into())),
        DataSpec::Spirals { samples, classes, noise } => {
            p.push(("dataset", "spirals".into()));
            p.push(("dataset.samples", (samples as u64).into()));
            p.push(("dataset.classes", (classes as u64).into()));
            p.push(("dataset.noise", decimal(noise)));
        }
        DataSpec::Blobs { samples, classes, dim, spread } => {
            p.push(("dataset", "blobs".into()));
            p.push(("dataset.samples", (samples as u64).into()));
            p.push(("dataset.classes", (classes as u64).into()));
            p.push(("dataset.dim", (dim as u64).into()));
            p.push(("dataset.spread", decimal(spread)));
        }
    }
    p
}

/// Trains with `cfg`, logging to `run`; `progress` sees every event too (for printing).
pub fn train_logged(cfg: &TrainConfig, run: &Run, progress: &mut dyn FnMut(&Event<'_>)) -> Result<Outcome, TrainError> {
    run.log_params(&config_params(cfg))?;
    let mut on = |e: Event<'_>| -> Result<(), TrainError> {
        progress(&e);
        match &e {
            Event::Started { kind, device, why, spec, train, val } => {
                let sizes = spec.sizes.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
                run.log_params(&[
                    ("device.backend", kind.as_str().into()),
                    ("device.name", (*device).into()),
                    ("device.why", (*why).into()),
                    ("model.sizes", sizes.into()),
                    ("model.params", (spec.param_count() as u64).into()),
                    ("data.train", (*train as u64).into()),
                    ("data.val", (*val as u64).into()),
                ])?;
                run.set_tag("device", device)?;
            }
            Event::Steps { first_step, stats } => {
                for (i, s) in stats.iter().enumerate() {
                    run.log_at((first_step + i as u64) as i64, &[("train/loss", f64::from(s.loss))])?;
                }
            }
            Event::Epoch(s) => {
                // Logged at the step count so epoch curves line up with the per-step loss.
                let step = s.step.saturating_sub(1) as i64;
                run.log_at(
                    step,
                    &[
                        ("epoch", s.epoch as f64),
                        ("train/epoch_loss", s.train_loss),
                        ("train/acc", s.train_acc),
                        ("perf/samples_per_sec", s.samples_per_sec),
                    ],
                )?;
                if !s.val_loss.is_nan() {
                    run.log_at(step, &[("val/loss", s.val_loss), ("val/acc", s.val_acc)])?;
                }
            }
        }
        Ok(())
    };
    let outcome = train::train(cfg, &mut on)?;
    if let Some(last) = outcome.last {
        run.set_summary("val/acc", last.val_acc.into())?;
        run.set_summary("samples_per_sec", last.samples_per_sec.into())?;
    }
    let path = std::env::temp_dir().join(format!("trackbench-train-{}-{}.safetensors", std::process::id(), run.id()));
    crate::weights::save(&path, &outcome.spec, &outcome.params)?;
    let stored = run.log_artifact(&path, Some("model.safetensors"));
    let _ = std::fs::remove_file(&path);
    stored?;
    Ok(outcome)
}
