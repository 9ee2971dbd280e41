//! The reference trainer: an MLP classifier (linear + ReLU layers, softmax cross-entropy, SGD
//! with momentum or Adam) on three backends behind one trait, logging through the Rust SDK.
//!
//! - [`data`]: the 8x8 digits fixture with a fixed split, seeded spirals and blobs.
//! - [`model`]: layer sizes ([`MlpSpec`]), weights ([`Params`]) and the optimizer ([`Optim`]).
//! - [`backend`]: the [`Backend`] trait and [`backend::open`], which picks a device (`auto`:
//!   CUDA, then a hardware wgpu adapter, then the CPU) and says why.
//! - [`cpu`] (the reference), [`gpu`] (wgpu + WGSL kernels), [`cuda`] (cudarc: cuBLAS + NVRTC,
//!   loaded at run time so nothing CUDA is needed to build or start).
//! - [`train`]: the epoch loop, reporting [`train::Event`]s; [`logged`] runs it as a
//!   Trackbench run (params, per-step and per-epoch metrics, device, safetensors weights).
//! - [`devices`]: what `trackbench doctor` lists.
//!
//! Nothing in Trackbench depends on this crate: it is a client of the SDK like any user's code.

pub mod backend;
pub mod bench;
pub mod cpu;
pub mod cuda;
pub mod data;
pub mod devices;
pub mod gpu;
pub mod logged;
pub mod model;
mod rng;
pub mod train;
pub mod weights;

pub use backend::{Backend, BackendChoice, BackendKind};
pub use data::{DataSpec, Dataset, Split};
pub use model::{MlpSpec, Optim, OptimizerKind, Params};
pub use train::{TrainConfig, train};

/// Errors of the trainer.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The requested backend or device is not available here; the message names what is missing.
    #[error("{0}")]
    Unavailable(String),
    /// A device call failed after the device was opened.
    #[error("{backend} device error: {message}")]
    Device { backend: &'static str, message: String },
    #[error("invalid training configuration: {0}")]
    Config(String),
    #[error("bad data: {0}")]
    Data(String),
    #[error("saving weights: {0}")]
    Weights(String),
    #[error(transparent)]
    Sdk(#[from] trackbench_sdk::SdkError),
}
