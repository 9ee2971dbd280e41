//! The CUDA backend: cuBLAS SGEMM for the matrix products and NVRTC-compiled kernels
//! (`shaders/kernels.cu`) for bias + ReLU, gradients, softmax cross-entropy, the loss reduction
//! and the optimizer updates. Weights, gradients and optimizer state stay on the device; like
//! the wgpu backend, step statistics are kept in a device-side history until asked for.
//!
//! `cudarc` loads `libcuda`, `libnvrtc` and `libcublas` at run time, so this builds and the
//! binary starts with no CUDA toolkit or driver. Without a driver every cudarc call would panic,
//! so [`CudaBackend::new`] checks that each library loads first and returns
//! [`TrainError::Unavailable`] naming what is missing; `catch_unwind` is the backstop.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use cudarc::cublas::{CudaBlas, Gemm, GemmConfig, sys::cublasOperation_t};
use cudarc::driver::{CudaContext, CudaFunction, CudaSlice, CudaStream, LaunchConfig, PushKernelArg};

use crate::TrainError;
use crate::backend::{Backend, BackendKind, Eval, StepHistory, StepStat, check_batch, evaluate_in_chunks, unavailable};
use crate::model::{Layer, MlpSpec, Optim, OptimizerKind, Params};

const KERNELS: &str = include_str!("shaders/kernels.cu");
/// Rows per evaluation chunk.
const EVAL_ROWS: usize = 4096;

fn dev(e: impl std::fmt::Debug) -> TrainError {
    TrainError::Device { backend: "cuda", message: format!("{e:?}") }
}

/// Checks that the CUDA libraries load, without touching cudarc's panicking loaders.
pub fn libraries_present() -> Result<(), TrainError> {
    // SAFETY: these only try `dlopen` on the library names; nothing is called.
    if !unsafe { cudarc::driver::sys::is_culib_present() } {
        return Err(unavailable("no CUDA driver found (libcuda.so not loadable)"));
    }
    if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        return Err(unavailable(
            "CUDA driver found but NVRTC is missing (libnvrtc.so not loadable; install the CUDA runtime libraries)",
        ));
    }
    if !unsafe { cudarc::cublas::sys::is_culib_present() } {
        return Err(unavailable(
            "CUDA driver found but cuBLAS is missing (libcublas.so not loadable; install the CUDA runtime libraries)",
        ));
    }
    Ok(())
}

/// Runs `f` turning a panic inside cudarc into an error.
fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T, TrainError>) -> Result<T, TrainError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(unavailable(format!("CUDA failed while {what}: {msg}")))
        }
    }
}

/// `(name, total memory in bytes)` of each CUDA device, or why there are none.
pub fn devices() -> Result<Vec<(String, usize)>, TrainError> {
    libraries_present()?;
    guarded("listing devices", || {
        let count = CudaContext::device_count().map_err(|e| unavailable(format!("CUDA driver error: {e:?}")))?;
        let mut out = Vec::new();
        for i in 0..count.max(0) as usize {
            let ctx = CudaContext::new(i).map_err(dev)?;
            let name = ctx.name().map_err(dev)?;
            let mem = ctx.total_mem().unwrap_or(0);
            out.push((name, mem));
        }
        Ok(out)
    })
}

struct Kernels {
    bias_act: CudaFunction,
    relu_grad: CudaFunction,
    bias_grad: CudaFunction,
    xent: CudaFunction,
    reduce: CudaFunction,
    sgd: CudaFunction,
    adam: CudaFunction,
}

struct Plan {
    x: CudaSlice<f32>,
    y: CudaSlice<u32>,
    acts: Vec<CudaSlice<f32>>,
    dz: Vec<CudaSlice<f32>>,
    rows: CudaSlice<f32>,
}

pub struct CudaBackend {
    stream: Arc<CudaStream>,
    blas: CudaBlas,
    k: Kernels,
    name: String,
    spec: MlpSpec,
    optim: Optim,
    w: Vec<CudaSlice<f32>>,
    b: Vec<CudaSlice<f32>>,
    gw: Vec<CudaSlice<f32>>,
    gb: Vec<CudaSlice<f32>>,
    /// Optimizer moments, in the order w0, b0, w1, b1, …
    m: Vec<CudaSlice<f32>>,
    v: Vec<CudaSlice<f32>>,
    /// (mean loss, correct) per step since the last read-back ([`StepHistory`]).
    history: CudaSlice<f32>,
    eval_acc: CudaSlice<f32>,
    plans: HashMap<usize, Plan>,
    steps: StepHistory,
    t: u64,
}

fn grid(n: usize) -> LaunchConfig {
    LaunchConfig {
        grid_dim: (n.div_ceil(256).clamp(1, 65_535) as u32, 1, 1),
        block_dim: (256, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// [`StepHistory`]'s read of the first `floats` floats of the device's `history` buffer.
fn history_reader<'a>(
    stream: &'a Arc<CudaStream>,
    history: &'a CudaSlice<f32>,
) -> impl FnOnce(usize) -> Result<Vec<f32>, TrainError> + 'a {
    move |floats| stream.clone_dtoh(&history.slice(0..floats)).map_err(dev)
}

/// Row-major `c = op(a) op(b)` (`m x k` times `k x n`) through column-major cuBLAS: computes
/// `cᵀ = op(b)ᵀ op(a)ᵀ`.
#[allow(clippy::too_many_arguments)]
fn gemm(
    blas: &CudaBlas,
    m: usize,
    k: usize,
    n: usize,
    a: &CudaSlice<f32>,
    ta: bool,
    b: &CudaSlice<f32>,
    tb: bool,
    c: &mut CudaSlice<f32>,
) -> Result<(), TrainError> {
    let op = |t: bool| if t { cublasOperation_t::CUBLAS_OP_T } else { cublasOperation_t::CUBLAS_OP_N };
    let cfg = GemmConfig {
        transa: op(tb),
        transb: op(ta),
        m: n as i32,
        n: m as i32,
        k: k as i32,
        alpha: 1.0f32,
        lda: if tb { k } else { n } as i32,
        ldb: if ta { m } else { k } as i32,
        beta: 0.0f32,
        ldc: n as i32,
    };
    // SAFETY: the buffers were allocated with these shapes (checked by the callers' plans).
    unsafe { blas.gemm(cfg, b, a, c) }.map_err(dev)
}

impl CudaBackend {
    pub fn new(ordinal: usize, spec: &MlpSpec, params: &Params, optim: Optim) -> Result<CudaBackend, TrainError> {
        libraries_present()?;
        guarded("opening the device", || CudaBackend::open(ordinal, spec, params, optim))
    }

    fn open(ordinal: usize, spec: &MlpSpec, params: &Params, optim: Optim) -> Result<CudaBackend, TrainError> {
        let count = CudaContext::device_count().map_err(|e| unavailable(format!("CUDA driver error: {e:?}")))?;
        if ordinal >= count.max(0) as usize {
            return Err(unavailable(format!("no CUDA device {ordinal} ({count} found)")));
        }
        let ctx = CudaContext::new(ordinal).map_err(|e| unavailable(format!("CUDA device {ordinal}: {e:?}")))?;
        let name = ctx.name().map_err(dev)?;
        let stream = ctx.default_stream();
        let blas = CudaBlas::new(stream.clone()).map_err(|e| unavailable(format!("cuBLAS: {e:?}")))?;
        let ptx = cudarc::nvrtc::compile_ptx(KERNELS).map_err(|e| dev(format!("NVRTC: {e:?}")))?;
        let module = ctx.load_module(ptx).map_err(dev)?;
        let f = |n: &str| module.load_function(n).map_err(dev);
        let k = Kernels {
            bias_act: f("bias_act")?,
            relu_grad: f("relu_grad")?,
            bias_grad: f("bias_grad")?,
            xent: f("xent")?,
            reduce: f("reduce")?,
            sgd: f("sgd")?,
            adam: f("adam")?,
        };
        let up = |v: &Vec<f32>| stream.clone_htod(v).map_err(dev);
        let zeros = |n: usize| stream.alloc_zeros::<f32>(n.max(1)).map_err(dev);
        let w = params.layers.iter().map(|l| up(&l.w)).collect::<Result<Vec<_>, _>>()?;
        let b = params.layers.iter().map(|l| up(&l.b)).collect::<Result<Vec<_>, _>>()?;
        let gw = params.layers.iter().map(|l| zeros(l.w.len())).collect::<Result<Vec<_>, _>>()?;
        let gb = params.layers.iter().map(|l| zeros(l.b.len())).collect::<Result<Vec<_>, _>>()?;
        let m = params.tensors().map(|t| zeros(t.len())).collect::<Result<Vec<_>, _>>()?;
        let v = params.tensors().map(|t| zeros(t.len())).collect::<Result<Vec<_>, _>>()?;
        Ok(CudaBackend {
            history: zeros(StepHistory::FLOATS)?,
            eval_acc: zeros(2)?,
            stream,
            blas,
            k,
            name: format!("{name} (CUDA device {ordinal})"),
            spec: spec.clone(),
            optim,
            w,
            b,
            gw,
            gb,
            m,
            v,
            plans: HashMap::new(),
            steps: StepHistory::default(),
            t: 0,
        })
    }

    fn upload(&mut self, x: &[f32], y: &[u32]) -> Result<(), TrainError> {
        let n = y.len();
        if !self.plans.contains_key(&n) {
            let s = &self.stream;
            let zeros = |len: usize| s.alloc_zeros::<f32>(len.max(1)).map_err(dev);
            let plan = Plan {
                x: zeros(n * self.spec.sizes[0])?,
                y: s.alloc_zeros::<u32>(n).map_err(dev)?,
                acts: (0..self.spec.layers()).map(|l| zeros(n * self.spec.sizes[l + 1])).collect::<Result<_, _>>()?,
                dz: (0..self.spec.layers()).map(|l| zeros(n * self.spec.sizes[l + 1])).collect::<Result<_, _>>()?,
                rows: zeros(2 * n)?,
            };
            self.plans.insert(n, plan);
        }
        let plan = self.plans.get_mut(&n).expect("plan inserted above");
        self.stream.memcpy_htod(x, &mut plan.x).map_err(dev)?;
        self.stream.memcpy_htod(y, &mut plan.y).map_err(dev)?;
        Ok(())
    }

    /// Forward and loss for the uploaded batch of `n` rows; the reduction writes history slot
    /// `slot` (`Some`) or adds to the evaluation accumulator (`None`).
    fn forward_loss(&mut self, n: usize, slot: Option<u32>) -> Result<(), TrainError> {
        let layers = self.spec.layers();
        let plan = self.plans.get_mut(&n).expect("uploaded first");
        for l in 0..layers {
            let (i, o) = self.spec.shape(l);
            let (before, rest) = plan.acts.split_at_mut(l);
            let out = &mut rest[0];
            let input = if l == 0 { &plan.x } else { &before[l - 1] };
            gemm(&self.blas, n, i, o, input, false, &self.w[l], false, out)?;
            let (rows, cols, relu) = (n as u32, o as u32, u32::from(l + 1 < layers));
            let mut lb = self.stream.launch_builder(&self.k.bias_act);
            lb.arg(&self.b[l]).arg(out).arg(&rows).arg(&cols).arg(&relu);
            // SAFETY: argument types and order match `bias_act` in kernels.cu.
            unsafe { lb.launch(grid(n * o)) }.map_err(dev)?;
        }
        let (rows, cols) = (n as u32, self.spec.classes() as u32);
        let mut lb = self.stream.launch_builder(&self.k.xent);
        lb.arg(&plan.acts[layers - 1])
            .arg(&plan.y)
            .arg(&mut plan.dz[layers - 1])
            .arg(&mut plan.rows)
            .arg(&rows)
            .arg(&cols);
        // SAFETY: as above, for `xent`.
        unsafe { lb.launch(grid(n)) }.map_err(dev)?;
        let (mode, slot_arg) = match slot {
            Some(s) => (0u32, s),
            None => (1u32, 0u32),
        };
        let out = if slot.is_some() { &mut self.history } else { &mut self.eval_acc };
        let mut lb = self.stream.launch_builder(&self.k.reduce);
        lb.arg(&plan.rows).arg(out).arg(&rows).arg(&mode).arg(&slot_arg);
        let one = LaunchConfig { grid_dim: (1, 1, 1), block_dim: (256, 1, 1), shared_mem_bytes: 0 };
        // SAFETY: as above, for `reduce` (one block of 256 threads, static shared memory).
        unsafe { lb.launch(one) }.map_err(dev)?;
        Ok(())
    }

    fn backward(&mut self, n: usize) -> Result<(), TrainError> {
        let plan = self.plans.get_mut(&n).expect("uploaded first");
        for l in (0..self.spec.layers()).rev() {
            let (i, o) = self.spec.shape(l);
            let input = if l == 0 { &plan.x } else { &plan.acts[l - 1] };
            gemm(&self.blas, i, n, o, input, true, &plan.dz[l], false, &mut self.gw[l])?;
            let (rows, cols) = (n as u32, o as u32);
            let mut lb = self.stream.launch_builder(&self.k.bias_grad);
            lb.arg(&plan.dz[l]).arg(&mut self.gb[l]).arg(&rows).arg(&cols);
            // SAFETY: as above, for `bias_grad`.
            unsafe { lb.launch(grid(o)) }.map_err(dev)?;
            if l > 0 {
                let (lower, upper) = plan.dz.split_at_mut(l);
                gemm(&self.blas, n, o, i, &upper[0], false, &self.w[l], true, &mut lower[l - 1])?;
                let count = (n * i) as u32;
                let mut lb = self.stream.launch_builder(&self.k.relu_grad);
                lb.arg(&plan.acts[l - 1]).arg(&mut lower[l - 1]).arg(&count);
                // SAFETY: as above, for `relu_grad`.
                unsafe { lb.launch(grid(n * i)) }.map_err(dev)?;
            }
        }
        Ok(())
    }

    fn update(&mut self) -> Result<(), TrainError> {
        self.t += 1;
        let o = self.optim;
        let (bc1, bc2) = o.bias_corrections(self.t);
        for l in 0..self.spec.layers() {
            for (j, (w, g)) in [(&mut self.w[l], &self.gw[l]), (&mut self.b[l], &self.gb[l])].into_iter().enumerate() {
                let idx = 2 * l + j;
                let len = w.len() as u32;
                let cfg = grid(len as usize);
                match o.kind {
                    OptimizerKind::Sgd => {
                        let mut lb = self.stream.launch_builder(&self.k.sgd);
                        lb.arg(w).arg(g).arg(&mut self.m[idx]).arg(&len).arg(&o.lr).arg(&o.momentum);
                        // SAFETY: as above, for `sgd`.
                        unsafe { lb.launch(cfg) }.map_err(dev)?;
                    }
                    OptimizerKind::Adam => {
                        let mut lb = self.stream.launch_builder(&self.k.adam);
                        lb.arg(w).arg(g).arg(&mut self.m[idx]).arg(&mut self.v[idx]).arg(&len);
                        lb.arg(&o.lr).arg(&o.beta1).arg(&o.beta2).arg(&o.eps).arg(&bc1).arg(&bc2);
                        // SAFETY: as above, for `adam`.
                        unsafe { lb.launch(cfg) }.map_err(dev)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn read_params(&self, w: &[CudaSlice<f32>], b: &[CudaSlice<f32>]) -> Result<Params, TrainError> {
        let layers = w
            .iter()
            .zip(b)
            .map(|(w, b)| {
                Ok(Layer { w: self.stream.clone_dtoh(w).map_err(dev)?, b: self.stream.clone_dtoh(b).map_err(dev)? })
            })
            .collect::<Result<Vec<_>, TrainError>>()?;
        Ok(Params { layers })
    }

    fn eval_chunk(&mut self, x: &[f32], y: &[u32], backward: bool) -> Result<(f64, f64), TrainError> {
        self.stream.memset_zeros(&mut self.eval_acc).map_err(dev)?;
        self.upload(x, y)?;
        self.forward_loss(y.len(), None)?;
        if backward {
            self.backward(y.len())?;
        }
        let acc = self.stream.clone_dtoh(&self.eval_acc).map_err(dev)?;
        Ok((f64::from(acc[0]), f64::from(acc[1])))
    }
}

impl Backend for CudaBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Cuda
    }

    fn device_name(&self) -> String {
        self.name.clone()
    }

    fn train_step(&mut self, x: &[f32], y: &[u32]) -> Result<(), TrainError> {
        let n = check_batch(&self.spec, x, y)?;
        let slot = self.steps.next_slot(history_reader(&self.stream, &self.history))?;
        self.upload(x, y)?;
        self.forward_loss(n, Some(slot))?;
        self.backward(n)?;
        self.update()?;
        self.steps.push(n as u32);
        Ok(())
    }

    fn take_step_stats(&mut self) -> Result<Vec<StepStat>, TrainError> {
        self.steps.take(history_reader(&self.stream, &self.history))
    }

    fn evaluate(&mut self, x: &[f32], y: &[u32]) -> Result<Eval, TrainError> {
        check_batch(&self.spec, x, y)?;
        evaluate_in_chunks(x, y, self.spec.sizes[0], EVAL_ROWS, |x, y| self.eval_chunk(x, y, false))
    }

    fn gradients(&mut self, x: &[f32], y: &[u32]) -> Result<(f32, Params), TrainError> {
        let n = check_batch(&self.spec, x, y)?;
        let (loss, _) = self.eval_chunk(x, y, true)?;
        Ok(((loss / n as f64) as f32, self.read_params(&self.gw, &self.gb)?))
    }

    fn params(&mut self) -> Result<Params, TrainError> {
        self.read_params(&self.w, &self.b)
    }
}
