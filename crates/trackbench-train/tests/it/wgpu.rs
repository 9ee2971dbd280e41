//! The wgpu backend against the CPU reference, on whatever adapter is here (lavapipe in CI).
//! Without any adapter these tests print `SKIPPED: <reason>` and return; `cargo xtask test`
//! installs lavapipe first, so there they really run.

use trackbench_train::backend::Backend;
use trackbench_train::cpu::CpuBackend;
use trackbench_train::gpu::WgpuBackend;
use trackbench_train::train::{TrainConfig, train};
use trackbench_train::{BackendChoice, BackendKind, MlpSpec, Optim, OptimizerKind, Params, TrainError};

use crate::util::{assert_close, batch};

/// Opens adapter 0, or says loudly why not.
fn open(spec: &MlpSpec, params: &Params, optim: Optim) -> Option<WgpuBackend> {
    match WgpuBackend::new(0, false, spec, params, optim) {
        Ok(b) => Some(b),
        Err(TrainError::Unavailable(why)) => {
            eprintln!("\n*** SKIPPED: wgpu test: {why} ***\n");
            println!("SKIPPED: wgpu test: {why}");
            None
        }
        Err(e) => panic!("opening wgpu: {e}"),
    }
}

#[test]
fn wgpu_gradients_match_cpu() {
    // Odd sizes exercise the matmul tile edges; the second shape is the default model.
    for (spec, n) in [(MlpSpec::new(37, &[70, 19], 5), 33), (MlpSpec::new(64, &[128, 128], 10), 64)] {
        let params = Params::init(&spec, 5);
        let data = batch(&spec, n);
        let optim = Optim::new(OptimizerKind::Sgd, 0.1);
        let Some(mut gpu) = open(&spec, &params, optim) else { return };
        eprintln!("wgpu adapter: {}", gpu.device_name());
        let (cpu_loss, cpu_grads) =
            CpuBackend::new(spec.clone(), params.clone(), optim).gradients(&data.x, &data.y).unwrap();
        let (gpu_loss, gpu_grads) = gpu.gradients(&data.x, &data.y).unwrap();
        assert!((gpu_loss - cpu_loss).abs() <= 1e-4 * cpu_loss.abs(), "loss {gpu_loss} vs {cpu_loss}");
        let worst = assert_close("wgpu vs cpu gradients", &gpu_grads, &cpu_grads, 1e-4, 1e-3);
        eprintln!("{:?} n={n}: wgpu vs cpu worst |Δ|/tolerance = {worst:.3}", spec.sizes);
        let e = gpu.evaluate(&data.x, &data.y).unwrap();
        assert!((e.loss as f32 - cpu_loss).abs() <= 1e-4 * cpu_loss.abs());
    }
}

#[test]
fn wgpu_optimizer_steps_match_cpu() {
    let spec = MlpSpec::new(20, &[33], 4);
    let params = Params::init(&spec, 9);
    let data = batch(&spec, 40);
    for kind in [OptimizerKind::Sgd, OptimizerKind::Adam] {
        let optim = Optim::new(kind, 1e-2);
        let Some(mut gpu) = open(&spec, &params, optim) else { return };
        let mut cpu = CpuBackend::new(spec.clone(), params.clone(), optim);
        for s in 0..5 {
            let rows = 8 * s..8 * s + 8;
            let x = &data.x[rows.start * 20..rows.end * 20];
            gpu.train_step(x, &data.y[rows.clone()]).unwrap();
            cpu.train_step(x, &data.y[rows]).unwrap();
        }
        let (g, c) = (gpu.take_step_stats().unwrap(), cpu.take_step_stats().unwrap());
        assert_eq!(g.len(), 5);
        for (a, b) in g.iter().zip(&c) {
            assert!(
                (a.loss - b.loss).abs() <= 1e-4 * b.loss.abs() && a.correct == b.correct,
                "{kind:?}: {a:?} vs {b:?}"
            );
        }
        assert_close(
            &format!("{kind:?} weights after 5 steps"),
            &gpu.params().unwrap(),
            &cpu.params().unwrap(),
            1e-5,
            1e-3,
        );
    }
}

#[test]
fn wgpu_default_config_reaches_95_percent_on_digits() {
    let spec = MlpSpec::new(64, &[128, 128], 10);
    let params = Params::init(&spec, 1);
    if open(&spec, &params, Optim::new(OptimizerKind::Sgd, 1e-2)).is_none() {
        return;
    }
    let cfg = TrainConfig { backend: BackendChoice::Only(BackendKind::Wgpu), ..TrainConfig::default() };
    let out = train(&cfg, &mut |_| Ok(())).unwrap();
    let last = out.last.unwrap();
    eprintln!("wgpu digits on {}: {last:?}", out.device);
    assert_eq!(out.kind, BackendKind::Wgpu);
    assert!(last.val_acc >= 0.95, "val accuracy {} < 0.95", last.val_acc);
}
