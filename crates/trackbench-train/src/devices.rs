//! The devices the trainer can use, as `trackbench doctor` lists them: every wgpu adapter (in
//! `--device` order) and every CUDA device, or why there are none.

use serde_json::{Value, json};

/// One wgpu adapter.
#[derive(Debug, Clone)]
pub struct Adapter {
    pub index: usize,
    pub name: String,
    pub api: String,
    pub kind: String,
    pub driver: String,
    /// Real hardware (`auto` only picks these), not a CPU implementation like lavapipe.
    pub hardware: bool,
}

/// One CUDA device.
#[derive(Debug, Clone)]
pub struct CudaDevice {
    pub index: usize,
    pub name: String,
    pub memory_bytes: usize,
}

/// Everything found.
#[derive(Debug, Clone)]
pub struct Devices {
    pub wgpu: Vec<Adapter>,
    pub cuda: Vec<CudaDevice>,
    /// Why CUDA is unavailable, when it is.
    pub cuda_missing: Option<String>,
}

/// Looks for devices (opens none for long; CUDA contexts are created to read names).
pub fn list() -> Devices {
    let wgpu = crate::gpu::adapters()
        .iter()
        .enumerate()
        .map(|(index, a)| {
            let i = a.get_info();
            Adapter {
                index,
                name: i.name.clone(),
                api: format!("{:?}", i.backend),
                kind: format!("{:?}", i.device_type),
                driver: [i.driver.as_str(), i.driver_info.as_str()]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" "),
                hardware: crate::gpu::is_hardware(&i),
            }
        })
        .collect();
    let (cuda, cuda_missing) = match crate::cuda::devices() {
        Ok(list) => {
            let devs: Vec<CudaDevice> = list
                .into_iter()
                .enumerate()
                .map(|(index, (name, memory_bytes))| CudaDevice { index, name, memory_bytes })
                .collect();
            let why = devs.is_empty().then(|| "the CUDA driver reports no device".to_string());
            (devs, why)
        }
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    Devices { wgpu, cuda, cuda_missing }
}

impl Devices {
    pub fn to_json(&self) -> Value {
        json!({
            "wgpu": self.wgpu.iter().map(|a| json!({
                "index": a.index, "name": a.name, "api": a.api, "type": a.kind, "driver": a.driver, "hardware": a.hardware,
            })).collect::<Vec<_>>(),
            "cuda": self.cuda.iter().map(|d| json!({"index": d.index, "name": d.name, "memory_bytes": d.memory_bytes})).collect::<Vec<_>>(),
            "cuda_missing": self.cuda_missing,
        })
    }

    /// `(label, description)` rows for a table.
    pub fn rows(&self) -> Vec<(String, String)> {
        let mut rows = Vec::new();
        if self.wgpu.is_empty() {
            rows.push(("wgpu adapters".to_string(), "none found (no Vulkan/Metal/DX12/GL driver)".to_string()));
        }
        for a in &self.wgpu {
            let cpu = if a.hardware { "" } else { ", CPU implementation" };
            rows.push((
                format!("wgpu adapter {}", a.index),
                format!("{} ({}, {}{cpu}) {}", a.name, a.api, a.kind, a.driver).trim_end().to_string(),
            ));
        }
        for d in &self.cuda {
            rows.push((format!("cuda device {}", d.index), format!("{} ({} MiB)", d.name, d.memory_bytes >> 20)));
        }
        if let Some(why) = &self.cuda_missing {
            rows.push(("cuda devices".to_string(), format!("none: {why}")));
        }
        rows
    }
}
