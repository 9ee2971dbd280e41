//! The [`Backend`] trait every device implements, and choosing one ([`open`]): `auto` tries
//! CUDA, then a hardware wgpu adapter, then the CPU, and says which and why.

use crate::model::{MlpSpec, Optim, Params};
use crate::{TrainError, cpu, cuda, gpu};

/// Loss and correct predictions of one training step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepStat {
    /// Mean cross-entropy over the batch.
    pub loss: f32,
    pub correct: u32,
    pub samples: u32,
}

/// Mean loss and accuracy over a set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Eval {
    pub loss: f64,
    pub accuracy: f64,
}

/// A device that trains an MLP with softmax cross-entropy. Weights and optimizer state live on
/// the device from construction on; batches go in, and only the logged scalars come back.
pub trait Backend {
    fn kind(&self) -> BackendKind;
    /// The device's name as its driver reports it (`"llvmpipe (LLVM 15.0.6, 256 bits)"`).
    fn device_name(&self) -> String;
    /// Forward, backward and one optimizer update on `x` (`n x input`) and labels `y`.
    fn train_step(&mut self, x: &[f32], y: &[u32]) -> Result<(), TrainError>;
    /// The statistics of the steps since the last call, in order. Device backends keep them
    /// on the device until asked, so a step never waits for a read-back.
    fn take_step_stats(&mut self) -> Result<Vec<StepStat>, TrainError>;
    /// Mean loss and accuracy on a whole set (in chunks), without updating.
    fn evaluate(&mut self, x: &[f32], y: &[u32]) -> Result<Eval, TrainError>;
    /// Mean loss and its gradients for one batch, without updating (the gradient check).
    fn gradients(&mut self, x: &[f32], y: &[u32]) -> Result<(f32, Params), TrainError>;
    /// The current weights, copied back to the host.
    fn params(&mut self) -> Result<Params, TrainError>;
}

/// Kinds of backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Cpu,
    Wgpu,
    Cuda,
}

impl BackendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Cpu => "cpu",
            BackendKind::Wgpu => "wgpu",
            BackendKind::Cuda => "cuda",
        }
    }
}

/// What the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendChoice {
    Auto,
    Only(BackendKind),
}

impl std::str::FromStr for BackendChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(BackendChoice::Auto),
            "cpu" => Ok(BackendChoice::Only(BackendKind::Cpu)),
            "wgpu" => Ok(BackendChoice::Only(BackendKind::Wgpu)),
            "cuda" => Ok(BackendChoice::Only(BackendKind::Cuda)),
            _ => Err(format!("unknown backend {s:?} (expected auto, cpu, wgpu or cuda)")),
        }
    }
}

/// An opened backend and the reason it was chosen.
pub struct Opened {
    pub backend: Box<dyn Backend>,
    pub why: String,
}

/// Opens the backend `choice` on device `device` with initial weights `params`.
///
/// An explicit choice that is unavailable is an error naming what is missing. `auto` takes
/// CUDA if a driver and device are there, else a wgpu adapter that is real hardware (not a CPU
/// implementation such as lavapipe, which is slower than the CPU backend), else the CPU.
pub fn open(
    choice: BackendChoice,
    device: usize,
    spec: &MlpSpec,
    params: &Params,
    optim: Optim,
) -> Result<Opened, TrainError> {
    let cpu_backend = || -> Box<dyn Backend> { Box::new(cpu::CpuBackend::new(spec.clone(), params.clone(), optim)) };
    match choice {
        BackendChoice::Only(BackendKind::Cpu) => {
            Ok(Opened { backend: cpu_backend(), why: "asked for (--backend cpu)".into() })
        }
        BackendChoice::Only(BackendKind::Wgpu) => {
            let b = gpu::WgpuBackend::new(device, false, spec, params, optim)?;
            Ok(Opened { backend: Box::new(b), why: format!("asked for (--backend wgpu), adapter {device}") })
        }
        BackendChoice::Only(BackendKind::Cuda) => {
            let b = cuda::CudaBackend::new(device, spec, params, optim)?;
            Ok(Opened { backend: Box::new(b), why: format!("asked for (--backend cuda), device {device}") })
        }
        BackendChoice::Auto => {
            let cuda_err = match cuda::CudaBackend::new(device, spec, params, optim) {
                Ok(b) => return Ok(Opened { backend: Box::new(b), why: "auto: a CUDA device was found".into() }),
                Err(e) => e.to_string(),
            };
            let wgpu_err = match gpu::WgpuBackend::new(device, true, spec, params, optim) {
                Ok(b) => {
                    let why = format!("auto: {cuda_err}; a hardware wgpu adapter was found");
                    return Ok(Opened { backend: Box::new(b), why });
                }
                Err(e) => e.to_string(),
            };
            Ok(Opened { backend: cpu_backend(), why: format!("auto: {cuda_err}; {wgpu_err}; using the CPU") })
        }
    }
}
