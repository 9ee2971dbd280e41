//! Devices a job can be pinned to: the CPU, a CUDA GPU by index, a wgpu adapter by name; what
//! this machine has; and the environment that pins a child to one.

use std::fmt;

use crate::LaunchError;

/// Where a job runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Device {
    Cpu,
    /// CUDA device index (`cuda:0`, also spelled `gpu:0`).
    Cuda(u32),
    /// A wgpu adapter by (part of its) name (`wgpu:llvmpipe`).
    Wgpu(String),
}

impl Device {
    /// Parses `cpu`, `cuda:N`, `gpu:N`, `cuda` (= `cuda:0`) or `wgpu:NAME`.
    pub fn parse(s: &str) -> Result<Device, LaunchError> {
        let bad = || LaunchError::Invalid {
            what: "device",
            why: format!("`{s}`: expected cpu, cuda:N (or gpu:N) or wgpu:NAME"),
        };
        let lower = s.trim().to_ascii_lowercase();
        match lower.split_once(':') {
            None if lower == "cpu" => Ok(Device::Cpu),
            None if lower == "cuda" || lower == "gpu" => Ok(Device::Cuda(0)),
            Some(("cuda" | "gpu", n)) => n.parse().map(Device::Cuda).map_err(|_| bad()),
            Some(("wgpu", name)) if !name.is_empty() => Ok(Device::Wgpu(s.trim()[5..].to_string())),
            _ => Err(bad()),
        }
    }

    pub fn is_gpu(&self) -> bool {
        !matches!(self, Device::Cpu)
    }

    /// Environment that pins a child process to this device.
    pub fn pin_env(&self) -> Vec<(String, String)> {
        let mut env = vec![("TRACKBENCH_DEVICE".to_string(), self.to_string())];
        match self {
            // An empty list hides every GPU from CUDA, so a CPU job cannot grab one by accident.
            Device::Cpu => env.push(("CUDA_VISIBLE_DEVICES".into(), String::new())),
            Device::Cuda(n) => env.push(("CUDA_VISIBLE_DEVICES".into(), n.to_string())),
            Device::Wgpu(name) => env.push(("WGPU_ADAPTER_NAME".into(), name.clone())),
        }
        env
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => f.write_str("cpu"),
            Device::Cuda(n) => write!(f, "cuda:{n}"),
            Device::Wgpu(name) => write!(f, "wgpu:{name}"),
        }
    }
}

/// The devices of this machine a job may ask for.
#[derive(Debug, Clone)]
pub struct Devices {
    pub cuda: u32,
}

impl Devices {
    /// CUDA GPUs as the NVIDIA driver lists them (`/proc/driver/nvidia/gpus`); none without it.
    pub fn detect() -> Devices {
        let cuda = std::fs::read_dir("/proc/driver/nvidia/gpus").map(|d| d.count() as u32).unwrap_or(0);
        Devices { cuda }
    }

    /// Parses `s` and checks this machine has that device (wgpu adapters are checked by the
    /// child, which knows its adapters).
    pub fn resolve(&self, s: &str) -> Result<Device, LaunchError> {
        let d = Device::parse(s)?;
        match d {
            Device::Cuda(n) if n >= self.cuda => {
                Err(LaunchError::UnknownDevice { given: s.to_string(), known: self.describe() })
            }
            d => Ok(d),
        }
    }

    fn describe(&self) -> String {
        let mut known = vec!["cpu".to_string()];
        known.extend((0..self.cuda).map(|i| format!("cuda:{i}")));
        known.push("wgpu:NAME".into());
        known.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_checks_devices() {
        assert_eq!(Device::parse("cpu").unwrap(), Device::Cpu);
        assert_eq!(Device::parse("gpu:1").unwrap(), Device::Cuda(1));
        assert_eq!(Device::parse("wgpu:llvmpipe").unwrap(), Device::Wgpu("llvmpipe".into()));
        assert!(Device::parse("tpu:0").is_err());
        assert!(Device::parse("cuda:x").is_err());
        let none = Devices { cuda: 0 };
        assert!(matches!(none.resolve("cuda:0"), Err(LaunchError::UnknownDevice { .. })));
        assert_eq!(Devices { cuda: 2 }.resolve("cuda:1").unwrap(), Device::Cuda(1));
        assert_eq!(Device::Cuda(3).pin_env()[1], ("CUDA_VISIBLE_DEVICES".into(), "3".into()));
    }
}
