//! The CPU reference: gradients against finite differences, accuracy on digits, determinism.

use trackbench_train::backend::Backend;
use trackbench_train::cpu::CpuBackend;
use trackbench_train::train::{Event, TrainConfig, train};
use trackbench_train::{BackendChoice, BackendKind, MlpSpec, Optim, OptimizerKind, Params};

use crate::util::{assert_close, batch};

#[test]
fn cpu_gradients_match_finite_differences() {
    let spec = MlpSpec::new(6, &[7, 5], 4);
    let params = Params::init(&spec, 3);
    let data = batch(&spec, 9);
    let optim = Optim::new(OptimizerKind::Sgd, 0.1);
    let (loss, grads) = CpuBackend::new(spec.clone(), params.clone(), optim).gradients(&data.x, &data.y).unwrap();
    assert!(loss.is_finite() && loss > 0.0);
    let h = 1e-3f32;
    let mut fd = params.zeros_like();
    let loss_at = |p: Params| CpuBackend::new(spec.clone(), p, optim).evaluate(&data.x, &data.y).unwrap().loss;
    let count: Vec<usize> = params.tensors().map(Vec::len).collect();
    for (t, &len) in count.iter().enumerate() {
        for i in 0..len {
            let mut plus = params.clone();
            let mut minus = params.clone();
            plus.tensors_mut().nth(t).unwrap()[i] += h;
            minus.tensors_mut().nth(t).unwrap()[i] -= h;
            let g = (loss_at(plus) - loss_at(minus)) / (2.0 * f64::from(h));
            fd.tensors_mut().nth(t).unwrap()[i] = g as f32;
        }
    }
    let worst = assert_close("cpu vs finite differences", &grads, &fd, 2e-3, 2e-2);
    eprintln!("cpu vs finite differences: worst |Δ|/tolerance = {worst:.3}");
}

fn cpu_config() -> TrainConfig {
    TrainConfig { backend: BackendChoice::Only(BackendKind::Cpu), ..TrainConfig::default() }
}

#[test]
fn cpu_default_config_reaches_95_percent_on_digits() {
    let mut epochs = Vec::new();
    let out = train(&cpu_config(), &mut |e| {
        if let Event::Epoch(s) = e {
            epochs.push(s);
        }
        Ok(())
    })
    .unwrap();
    let last = out.last.unwrap();
    eprintln!("cpu digits: {last:?}");
    assert_eq!(epochs.len(), 20);
    assert!(epochs[0].train_loss > last.train_loss, "loss went down: {epochs:?}");
    assert!(last.val_acc >= 0.95, "val accuracy {} < 0.95", last.val_acc);
}

#[test]
fn cpu_fixed_seed_gives_the_same_result_twice() {
    for optimizer in [OptimizerKind::Sgd, OptimizerKind::Adam] {
        let cfg = TrainConfig { epochs: 3, optim: Optim::new(optimizer, 1e-3), ..cpu_config() };
        let run = || {
            let mut losses = Vec::new();
            let out = train(&cfg, &mut |e| {
                if let Event::Steps { stats, .. } = e {
                    losses.extend(stats.iter().map(|s| s.loss));
                }
                Ok(())
            })
            .unwrap();
            (losses, out.params, out.last.unwrap().val_acc)
        };
        let (a, b) = (run(), run());
        assert_eq!(a.0.len(), 3 * 1438usize.div_ceil(64));
        assert!(a == b, "{optimizer:?}: two runs with seed 1 differ");
        let other = train(&TrainConfig { seed: 2, ..cfg.clone() }, &mut |_| Ok(())).unwrap();
        assert_ne!(other.params, a.1, "a different seed gives different weights");
    }
}

#[test]
fn adam_and_synthetic_sets_train() {
    use trackbench_train::DataSpec;
    let cfg = TrainConfig {
        data: DataSpec::Spirals { samples: 3000, classes: 3, noise: 0.02 },
        hidden: vec![64, 64],
        optim: Optim::new(OptimizerKind::Adam, 1e-2),
        epochs: 30,
        ..cpu_config()
    };
    let last = train(&cfg, &mut |_| Ok(())).unwrap().last.unwrap();
    assert!(last.val_acc > 0.9, "spirals with adam: {last:?}");
}
