//! The training loop, the same for every backend: shuffle (seeded per epoch), gather batches,
//! step, and every epoch read back the step statistics and evaluate on the validation set.
//! Progress is reported as [`Event`]s, so the caller decides what to log or print.

use std::time::Instant;

use crate::TrainError;
use crate::backend::{self, Backend, BackendChoice, BackendKind, StepStat};
use crate::data::{DataSpec, Split};
use crate::model::{MlpSpec, Optim, OptimizerKind, Params};
use crate::rng::Rng;

/// Everything a training run needs. [`TrainConfig::default`] is the `trackbench train` default.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    pub backend: BackendChoice,
    /// Adapter (wgpu) or device (CUDA) index.
    pub device: usize,
    pub data: DataSpec,
    pub hidden: Vec<usize>,
    pub optim: Optim,
    pub batch_size: usize,
    pub epochs: usize,
    pub seed: u64,
    /// Stop after this many steps (benchmarks); `None` trains every epoch.
    pub max_steps: Option<u64>,
    /// Skip validation (benchmarks measure training alone).
    pub skip_validation: bool,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            backend: BackendChoice::Auto,
            device: 0,
            data: DataSpec::Digits,
            hidden: vec![128, 128],
            optim: Optim::new(OptimizerKind::Sgd, 1e-2),
            batch_size: 64,
            epochs: 20,
            seed: 1,
            max_steps: None,
            skip_validation: false,
        }
    }
}

/// One epoch's results.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochStats {
    /// 1-based.
    pub epoch: usize,
    /// Steps taken so far (the step axis of the logged metrics).
    pub step: u64,
    /// Mean step loss and running accuracy over the epoch's batches.
    pub train_loss: f64,
    pub train_acc: f64,
    /// `NaN` when validation is skipped.
    pub val_loss: f64,
    pub val_acc: f64,
    /// Training samples per second (steps and the read-back of their statistics, not validation).
    pub samples_per_sec: f64,
    pub train_secs: f64,
}

/// What the loop reports as it goes.
#[derive(Debug)]
pub enum Event<'a> {
    /// The backend is open.
    Started {
        kind: BackendKind,
        device: &'a str,
        why: &'a str,
        spec: &'a MlpSpec,
        train: usize,
        val: usize,
    },
    /// Per-step statistics; `first_step` is the global step of `stats[0]` (0-based).
    Steps {
        first_step: u64,
        stats: &'a [StepStat],
    },
    Epoch(EpochStats),
}

/// The end of a run.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub spec: MlpSpec,
    pub params: Params,
    pub kind: BackendKind,
    pub device: String,
    pub why: String,
    pub last: Option<EpochStats>,
    pub steps: u64,
}

/// A callback for events; an error stops training.
pub type OnEvent<'a> = dyn FnMut(Event<'_>) -> Result<(), TrainError> + 'a;

/// Loads the data, opens the backend `cfg.backend` asks for and trains.
pub fn train(cfg: &TrainConfig, on: &mut OnEvent<'_>) -> Result<Outcome, TrainError> {
    let split = cfg.data.load(cfg.seed)?;
    let spec = spec_for(cfg, &split)?;
    let params = Params::init(&spec, cfg.seed);
    let opened = backend::open(cfg.backend, cfg.device, &spec, &params, cfg.optim)?;
    let mut b = opened.backend;
    train_on(b.as_mut(), &opened.why, cfg, &split, &spec, on)
}

/// The model shape for `cfg` on `split`, validated.
pub fn spec_for(cfg: &TrainConfig, split: &Split) -> Result<MlpSpec, TrainError> {
    if cfg.batch_size == 0 || cfg.epochs == 0 {
        return Err(TrainError::Config("batch size and epochs must be at least 1".into()));
    }
    if cfg.hidden.contains(&0) {
        return Err(TrainError::Config("hidden layer widths must be at least 1".into()));
    }
    if !(cfg.optim.lr.is_finite() && cfg.optim.lr > 0.0) {
        return Err(TrainError::Config(format!("learning rate must be a positive number, not {}", cfg.optim.lr)));
    }
    Ok(MlpSpec::new(split.train.dim, &cfg.hidden, split.train.classes))
}

/// Trains an opened backend (tests pass their own).
pub fn train_on(
    b: &mut dyn Backend,
    why: &str,
    cfg: &TrainConfig,
    split: &Split,
    spec: &MlpSpec,
    on: &mut OnEvent<'_>,
) -> Result<Outcome, TrainError> {
    let device = b.device_name();
    on(Event::Started { kind: b.kind(), device: &device, why, spec, train: split.train.len(), val: split.val.len() })?;
    let n = split.train.len();
    let mut order: Vec<usize> = (0..n).collect();
    let (mut xb, mut yb) = (Vec::new(), Vec::new());
    let mut step = 0u64;
    let mut logged = 0u64;
    let mut last = None;
    'epochs: for epoch in 1..=cfg.epochs {
        Rng::new(cfg.seed.wrapping_mul(1_000_003).wrapping_add(epoch as u64)).shuffle(&mut order);
        let t0 = Instant::now();
        let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0u64, 0u64);
        let mut flush = |b: &mut dyn Backend, logged: &mut u64, on: &mut OnEvent<'_>| -> Result<(), TrainError> {
            let stats = b.take_step_stats()?;
            for s in &stats {
                loss_sum += f64::from(s.loss) * f64::from(s.samples);
                correct += u64::from(s.correct);
                seen += u64::from(s.samples);
            }
            on(Event::Steps { first_step: *logged, stats: &stats })?;
            *logged += stats.len() as u64;
            Ok(())
        };
        let mut stopped = false;
        for chunk in order.chunks(cfg.batch_size) {
            if cfg.max_steps.is_some_and(|m| step >= m) {
                stopped = true;
                break;
            }
            split.train.gather(chunk, &mut xb, &mut yb);
            b.train_step(&xb, &yb)?;
            step += 1;
            if step - logged >= 256 {
                flush(b, &mut logged, on)?;
            }
        }
        flush(b, &mut logged, on)?;
        let train_secs = t0.elapsed().as_secs_f64();
        if seen == 0 {
            break;
        }
        let (val_loss, val_acc) = if cfg.skip_validation || split.val.is_empty() {
            (f64::NAN, f64::NAN)
        } else {
            let e = b.evaluate(&split.val.x, &split.val.y)?;
            (e.loss, e.accuracy)
        };
        let stats = EpochStats {
            epoch,
            step,
            train_loss: loss_sum / seen as f64,
            train_acc: correct as f64 / seen as f64,
            val_loss,
            val_acc,
            samples_per_sec: seen as f64 / train_secs.max(1e-9),
            train_secs,
        };
        on(Event::Epoch(stats))?;
        last = Some(stats);
        if stopped {
            break 'epochs;
        }
    }
    Ok(Outcome {
        spec: spec.clone(),
        params: b.params()?,
        kind: b.kind(),
        device,
        why: why.to_string(),
        last,
        steps: step,
    })
}
