//! The [`Backend`] trait every device implements, and choosing one ([`open`]): `auto` tries
//! CUDA, then a hardware wgpu adapter, then the CPU, and says which and why.
//!
//! Also what the backends share, written once so each keeps only its device-specific parts:
//! the batch check (`check_batch`), evaluation in chunks (`evaluate_in_chunks`), the host side
//! of the wgpu and CUDA backends' device-side step history (`StepHistory`) and the
//! `unavailable` error.

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

/// The error for a backend or device that is not available here; `msg` names what is missing.
pub(crate) fn unavailable(msg: impl Into<String>) -> TrainError {
    TrainError::Unavailable(msg.into())
}

/// Checks a batch for `spec`: `y` holds `n >= 1` labels below the class count and `x` their
/// `n x input` features. Returns `n`.
pub(crate) fn check_batch(spec: &MlpSpec, x: &[f32], y: &[u32]) -> Result<usize, TrainError> {
    let n = y.len();
    if n == 0 || x.len() != n * spec.sizes[0] {
        return Err(TrainError::Config(format!(
            "batch of {} labels and {} features (input {})",
            n,
            x.len(),
            spec.sizes[0]
        )));
    }
    if let Some(bad) = y.iter().find(|&&c| c as usize >= spec.classes()) {
        return Err(TrainError::Data(format!("label {bad} out of range for {} classes", spec.classes())));
    }
    Ok(n)
}

/// [`Backend::evaluate`] on a checked set (`y.len() >= 1` rows of `input` features in `x`):
/// `chunk` gets the rows `rows` at a time (the last chunk may be shorter) and returns their
/// summed loss and correct count; the result is the mean over all rows.
pub(crate) fn evaluate_in_chunks(
    x: &[f32],
    y: &[u32],
    input: usize,
    rows: usize,
    mut chunk: impl FnMut(&[f32], &[u32]) -> Result<(f64, f64), TrainError>,
) -> Result<Eval, TrainError> {
    let n = y.len();
    let (mut loss, mut correct) = (0.0, 0.0);
    for start in (0..n).step_by(rows) {
        let end = (start + rows).min(n);
        let (l, c) = chunk(&x[start * input..end * input], &y[start..end])?;
        loss += l;
        correct += c;
    }
    Ok(Eval { loss: loss / n as f64, accuracy: correct / n as f64 })
}

/// Steps whose statistics a device holds before a forced read-back.
pub(crate) const HISTORY: usize = 1024;

/// The host side of a device's step history: a device buffer of [`HISTORY`] `(mean loss,
/// correct)` float pairs, one slot per step, read back only when the trainer asks
/// ([`Backend::take_step_stats`]) or when it is full, so a step never waits for a read-back.
/// `read(floats)` copies the first `floats` floats of the device buffer to the host.
#[derive(Debug, Default)]
pub(crate) struct StepHistory {
    /// Batch sizes of the steps in the device buffer, in slot order.
    pending: Vec<u32>,
    /// Statistics already read back.
    taken: Vec<StepStat>,
}

impl StepHistory {
    /// Floats in the device buffer.
    pub(crate) const FLOATS: usize = 2 * HISTORY;

    /// The slot the next step writes, reading the buffer back first when it is full.
    pub(crate) fn next_slot(
        &mut self,
        read: impl FnOnce(usize) -> Result<Vec<f32>, TrainError>,
    ) -> Result<u32, TrainError> {
        if self.pending.len() == HISTORY {
            self.read_back(read)?;
        }
        Ok(self.pending.len() as u32)
    }

    /// Records that a step of `samples` rows wrote the slot [`next_slot`](Self::next_slot) gave.
    pub(crate) fn push(&mut self, samples: u32) {
        self.pending.push(samples);
    }

    /// The statistics of the steps since the last call, in order.
    pub(crate) fn take(
        &mut self,
        read: impl FnOnce(usize) -> Result<Vec<f32>, TrainError>,
    ) -> Result<Vec<StepStat>, TrainError> {
        self.read_back(read)?;
        Ok(std::mem::take(&mut self.taken))
    }

    fn read_back(&mut self, read: impl FnOnce(usize) -> Result<Vec<f32>, TrainError>) -> Result<(), TrainError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let h = read(2 * self.pending.len())?;
        for (i, &samples) in self.pending.iter().enumerate() {
            self.taken.push(StepStat { loss: h[2 * i], correct: h[2 * i + 1] as u32, samples });
        }
        self.pending.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_checked_against_the_spec() {
        let spec = MlpSpec::new(2, &[3], 4);
        assert_eq!(check_batch(&spec, &[0.0; 6], &[0, 3, 1]).unwrap(), 3);
        for (x, y) in [(&[][..], &[][..]), (&[0.0; 5][..], &[0, 1, 2][..])] {
            assert!(matches!(check_batch(&spec, x, y), Err(TrainError::Config(_))), "{} features", x.len());
        }
        let err = check_batch(&spec, &[0.0; 4], &[0, 4]).unwrap_err();
        assert_eq!(err.to_string(), "bad data: label 4 out of range for 4 classes");
    }

    #[test]
    fn evaluation_sees_every_row_once_in_chunks() {
        // 7 rows of 2 features (row r is [r, -r]), labels 10 + r, in chunks of 3: 3 + 3 + 1.
        let x: Vec<f32> = (0..7).flat_map(|r| [r as f32, -(r as f32)]).collect();
        let y: Vec<u32> = (10..17).collect();
        let mut seen = Vec::new();
        let eval = evaluate_in_chunks(&x, &y, 2, 3, |x, y| {
            assert_eq!(x.len(), 2 * y.len());
            for (row, &label) in x.chunks(2).zip(y) {
                assert_eq!((row[0], row[1]), (label as f32 - 10.0, 10.0 - label as f32));
            }
            seen.push(y.to_vec());
            // Summed loss 1 per row; a chunk's first row is wrong, the rest right.
            Ok((y.len() as f64, y.len() as f64 - 1.0))
        })
        .unwrap();
        assert_eq!(seen, [vec![10, 11, 12], vec![13, 14, 15], vec![16]]);
        assert_eq!(eval, Eval { loss: 1.0, accuracy: 4.0 / 7.0 });
        let one = evaluate_in_chunks(&x, &y, 2, 100, |_, y| Ok((y.len() as f64 * 2.0, 0.0))).unwrap();
        assert_eq!(one, Eval { loss: 2.0, accuracy: 0.0 });
        let failed = evaluate_in_chunks(&x, &y, 2, 3, |_, _| Err(unavailable("gone")));
        assert!(matches!(failed, Err(TrainError::Unavailable(_))));
    }

    #[test]
    fn step_history_reads_back_when_full_or_asked_and_keeps_order() {
        // A fake device buffer: slot s holds (loss s, correct s + 1).
        let device: Vec<f32> = (0..HISTORY).flat_map(|s| [s as f32, s as f32 + 1.0]).collect();
        let reads = std::cell::RefCell::new(Vec::new());
        let read = |floats: usize| {
            reads.borrow_mut().push(floats);
            Ok(device[..floats].to_vec())
        };
        let mut h = StepHistory::default();
        assert_eq!(h.take(read).unwrap(), [], "nothing to read");
        for step in 0..HISTORY + 2 {
            let slot = h.next_slot(read).unwrap();
            assert_eq!(slot as usize, step % HISTORY);
            h.push(step as u32);
        }
        assert_eq!(*reads.borrow(), [StepHistory::FLOATS], "one forced read-back, of the full buffer");
        let stats = h.take(read).unwrap();
        assert_eq!(*reads.borrow(), [StepHistory::FLOATS, 4]);
        assert_eq!(stats.len(), HISTORY + 2);
        assert_eq!(stats[5], StepStat { loss: 5.0, correct: 6, samples: 5 });
        assert_eq!(stats[HISTORY + 1], StepStat { loss: 1.0, correct: 2, samples: HISTORY as u32 + 1 });
        assert_eq!(h.take(read).unwrap(), []);
    }
}
