//! Throughput benchmarks (`trackbench-train-bench`, run by `cargo xtask bench`): training
//! samples/s of a 784-1024-1024-10 MLP on a 60k-sample synthetic set, batch 256, SGD with
//! momentum, per backend; and the wgpu matmul kernel's GFLOP/s. The PyTorch script
//! `benches/torch_mlp.py` does exactly the same work for the side-by-side comparison.

use std::time::Instant;

use crate::backend::{self, BackendChoice, BackendKind};
use crate::data;
use crate::model::{MlpSpec, Optim, OptimizerKind, Params};
use crate::rng::Rng;
use crate::{TrainError, gpu};

/// The benchmark's fixed shape.
pub const INPUT: usize = 784;
pub const HIDDEN: [usize; 2] = [1024, 1024];
pub const CLASSES: usize = 10;
pub const SAMPLES: usize = 60_000;
pub const BATCH: usize = 256;

/// One backend's training throughput.
#[derive(Debug, Clone)]
pub struct Throughput {
    pub kind: BackendKind,
    pub device: String,
    pub steps: usize,
    pub secs: f64,
    pub samples_per_sec: f64,
    /// Matmul FLOP/s achieved by the whole step (6 x MACs per sample).
    pub gflops: f64,
    pub final_loss: f32,
}

/// The benchmark data set: blobs in 784 dimensions, 10 classes, seed 1.
pub fn dataset() -> data::Dataset {
    data::blobs(SAMPLES, CLASSES, INPUT, 1.0, 1)
}

/// Trains `steps` batches (after `warmup` untimed ones) on `backend`, the way the PyTorch
/// script does: shuffled batches gathered on the host, forward, backward, SGD-momentum update,
/// losses kept on the device and read once at the end.
pub fn throughput(
    choice: BackendChoice,
    device: usize,
    set: &data::Dataset,
    warmup: usize,
    steps: usize,
) -> Result<Throughput, TrainError> {
    let spec = MlpSpec::new(INPUT, &HIDDEN, CLASSES);
    let params = Params::init(&spec, 1);
    let opened = backend::open(choice, device, &spec, &params, Optim::new(OptimizerKind::Sgd, 1e-2))?;
    let mut b = opened.backend;
    let mut order: Vec<usize> = (0..set.len()).collect();
    Rng::new(7).shuffle(&mut order);
    let batches: Vec<&[usize]> = order.chunks_exact(BATCH).collect();
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for i in 0..warmup {
        set.gather(batches[i % batches.len()], &mut x, &mut y);
        b.train_step(&x, &y)?;
    }
    b.take_step_stats()?;
    let t = Instant::now();
    for i in 0..steps {
        set.gather(batches[(warmup + i) % batches.len()], &mut x, &mut y);
        b.train_step(&x, &y)?;
    }
    let stats = b.take_step_stats()?;
    let secs = t.elapsed().as_secs_f64();
    let samples = (steps * BATCH) as f64;
    Ok(Throughput {
        kind: b.kind(),
        device: b.device_name(),
        steps,
        secs,
        samples_per_sec: samples / secs,
        gflops: 6.0 * spec.macs_per_sample() as f64 * samples / secs / 1e9,
        final_loss: stats.last().map(|s| s.loss).unwrap_or(f32::NAN),
    })
}

/// GFLOP/s of the wgpu matmul kernel on adapter `device` for `m x k` times `k x n`.
pub fn wgpu_matmul_gflops(device: usize, m: usize, k: usize, n: usize, reps: u32) -> Result<(String, f64), TrainError> {
    let spec = MlpSpec::new(4, &[4], 2);
    let g = gpu::WgpuBackend::new(device, false, &spec, &Params::init(&spec, 1), Optim::new(OptimizerKind::Sgd, 0.1))?;
    let secs = g.time_matmul(m, k, n, reps)?;
    Ok((crate::Backend::device_name(&g), 2.0 * (m * k * n) as f64 / secs / 1e9))
}
