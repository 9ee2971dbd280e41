//! NVIDIA GPU metrics through NVML, loaded at run time (`libnvidia-ml.so.1`, which comes with the
//! driver): nothing to build against, and a machine without an NVIDIA driver simply has no GPU
//! metrics. Per device `i`: `sys/gpu{i}/util_percent`, `sys/gpu{i}/memory_used_mb`,
//! `sys/gpu{i}/memory_percent`, `sys/gpu{i}/temperature_c`, `sys/gpu{i}/power_w`. A query a
//! device does not support is left out.

use std::ffi::c_void;

type Ret = i32;
type Device = *mut c_void;

#[repr(C)]
#[derive(Default)]
struct Utilization {
    gpu: u32,
    memory: u32,
}

#[repr(C)]
#[derive(Default)]
struct Memory {
    total: u64,
    free: u64,
    used: u64,
}

/// The loaded library and the devices it reported at start.
pub(crate) struct Nvml {
    _lib: libloading::Library,
    devices: Vec<Device>,
    utilization: unsafe extern "C" fn(Device, *mut Utilization) -> Ret,
    memory: unsafe extern "C" fn(Device, *mut Memory) -> Ret,
    temperature: unsafe extern "C" fn(Device, u32, *mut u32) -> Ret,
    power: unsafe extern "C" fn(Device, *mut u32) -> Ret,
}

// The handles are plain identifiers NVML hands out; NVML is thread-safe.
unsafe impl Send for Nvml {}

impl Nvml {
    /// Loads NVML and lists the devices; `None` when there is no driver or no device.
    pub fn open() -> Option<Nvml> {
        // SAFETY: loading the system's NVML library runs its initialisers, which is what every
        // NVML user does; the symbols are looked up with their documented C signatures.
        unsafe {
            let lib = libloading::Library::new("libnvidia-ml.so.1").ok()?;
            let init: libloading::Symbol<unsafe extern "C" fn() -> Ret> = lib.get(b"nvmlInit_v2\0").ok()?;
            if init() != 0 {
                return None;
            }
            let count: libloading::Symbol<unsafe extern "C" fn(*mut u32) -> Ret> =
                lib.get(b"nvmlDeviceGetCount_v2\0").ok()?;
            let by_index: libloading::Symbol<unsafe extern "C" fn(u32, *mut Device) -> Ret> =
                lib.get(b"nvmlDeviceGetHandleByIndex_v2\0").ok()?;
            let mut n = 0u32;
            if count(&mut n) != 0 || n == 0 {
                return None;
            }
            let mut devices = Vec::new();
            for i in 0..n {
                let mut d: Device = std::ptr::null_mut();
                if by_index(i, &mut d) == 0 {
                    devices.push(d);
                }
            }
            let utilization = *lib.get(b"nvmlDeviceGetUtilizationRates\0").ok()?;
            let memory = *lib.get(b"nvmlDeviceGetMemoryInfo\0").ok()?;
            let temperature = *lib.get(b"nvmlDeviceGetTemperature\0").ok()?;
            let power = *lib.get(b"nvmlDeviceGetPowerUsage\0").ok()?;
            Some(Nvml { _lib: lib, devices, utilization, memory, temperature, power })
        }
    }

    /// One sample of every device.
    pub fn sample(&self, out: &mut Vec<(String, f64)>) {
        for (i, &d) in self.devices.iter().enumerate() {
            // SAFETY: `d` came from NVML for this library instance, and each out-pointer
            // points to a live value of the layout NVML documents.
            unsafe {
                let mut u = Utilization::default();
                if (self.utilization)(d, &mut u) == 0 {
                    out.push((format!("sys/gpu{i}/util_percent"), f64::from(u.gpu)));
                }
                let mut m = Memory::default();
                if (self.memory)(d, &mut m) == 0 && m.total > 0 {
                    out.push((format!("sys/gpu{i}/memory_used_mb"), m.used as f64 / 1e6));
                    out.push((format!("sys/gpu{i}/memory_percent"), m.used as f64 / m.total as f64 * 100.0));
                }
                let mut t = 0u32;
                if (self.temperature)(d, 0, &mut t) == 0 {
                    out.push((format!("sys/gpu{i}/temperature_c"), f64::from(t)));
                }
                let mut p = 0u32;
                if (self.power)(d, &mut p) == 0 {
                    out.push((format!("sys/gpu{i}/power_w"), f64::from(p) / 1000.0));
                }
            }
        }
    }
}
