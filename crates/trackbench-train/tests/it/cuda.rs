//! The CUDA backend: without a driver (CI) it is a clear error and `auto` falls back; with one
//! (a GPU machine) its gradients and optimizer steps agree with the CPU reference.

use trackbench_train::backend::{self, Backend};
use trackbench_train::cpu::CpuBackend;
use trackbench_train::cuda::{CudaBackend, libraries_present};
use trackbench_train::{BackendChoice, BackendKind, MlpSpec, Optim, OptimizerKind, Params, TrainError};

use crate::util::{assert_close, batch};

#[test]
fn cuda_without_a_driver_is_a_clear_error_and_auto_falls_back() {
    if libraries_present().is_ok() {
        println!("SKIPPED: the no-driver path: this machine has a CUDA driver");
        return;
    }
    let spec = MlpSpec::new(4, &[3], 2);
    let params = Params::init(&spec, 1);
    let optim = Optim::new(OptimizerKind::Sgd, 0.1);
    let err = CudaBackend::new(0, &spec, &params, optim).err().expect("no driver here");
    assert!(matches!(err, TrainError::Unavailable(_)), "{err:?}");
    assert!(err.to_string().contains("no CUDA driver found (libcuda.so not loadable)"), "{err}");

    let explicit = backend::open(BackendChoice::Only(BackendKind::Cuda), 0, &spec, &params, optim).err().unwrap();
    assert!(explicit.to_string().contains("libcuda.so"), "{explicit}");
    let auto = backend::open(BackendChoice::Auto, 0, &spec, &params, optim).unwrap();
    assert_ne!(auto.backend.kind(), BackendKind::Cuda);
    assert!(auto.why.starts_with("auto: no CUDA driver found"), "{}", auto.why);
    // Listing devices must not panic either.
    assert!(trackbench_train::devices::list().cuda_missing.unwrap().contains("libcuda"));
}

#[test]
fn cuda_gradients_and_steps_match_cpu() {
    let spec = MlpSpec::new(37, &[70, 19], 5);
    let params = Params::init(&spec, 5);
    let data = batch(&spec, 33);
    for kind in [OptimizerKind::Sgd, OptimizerKind::Adam] {
        let optim = Optim::new(kind, 1e-2);
        let mut gpu = match CudaBackend::new(0, &spec, &params, optim) {
            Ok(b) => b,
            Err(TrainError::Unavailable(why)) => {
                println!("SKIPPED: CUDA numerical check: {why}");
                return;
            }
            Err(e) => panic!("{e}"),
        };
        let mut cpu = CpuBackend::new(spec.clone(), params.clone(), optim);
        let (cl, cg) = cpu.gradients(&data.x, &data.y).unwrap();
        let (gl, gg) = gpu.gradients(&data.x, &data.y).unwrap();
        assert!((gl - cl).abs() <= 1e-4 * cl.abs(), "loss {gl} vs {cl}");
        let worst = assert_close("cuda vs cpu gradients", &gg, &cg, 1e-4, 1e-3);
        eprintln!("cuda ({}) vs cpu worst |Δ|/tolerance = {worst:.3}", gpu.device_name());
        for s in 0..4 {
            let rows = 8 * s..8 * s + 8;
            let x = &data.x[rows.start * 37..rows.end * 37];
            gpu.train_step(x, &data.y[rows.clone()]).unwrap();
            cpu.train_step(x, &data.y[rows]).unwrap();
        }
        assert_eq!(gpu.take_step_stats().unwrap().len(), 4);
        assert_close(
            &format!("cuda {kind:?} weights after 4 steps"),
            &gpu.params().unwrap(),
            &cpu.params().unwrap(),
            1e-5,
            1e-3,
        );
    }
}
