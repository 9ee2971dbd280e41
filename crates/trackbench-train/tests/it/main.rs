//! Integration tests of the trainer: gradient checks, training to accuracy on the digits set,
//! determinism, and each backend's behaviour when its device is missing.
//!
//! Tolerances (stated here and in ARCHITECTURE.md):
//! - CPU vs central finite differences (f32, h = 1e-3): `|Δ| <= 2e-3 + 2e-2·|g|` per element.
//! - wgpu vs CPU, same weights and batch: `|Δ| <= 1e-4 + 1e-3·|g|` per gradient element and
//!   `1e-4` relative on the loss (only summation order differs).

mod cpu;
mod cuda;
mod util;
mod wgpu;
