//! The wgpu backend: WGSL compute kernels (`shaders/`: a tiled matmul, bias + ReLU, ReLU and
//! bias gradients, softmax cross-entropy with its gradient, a loss reduction, SGD-momentum and
//! Adam updates). Weights, gradients and optimizer state stay on the device; a step uploads its
//! batch and records its (loss, correct) pair into a device-side history that is read back
//! only when the trainer asks ([`Backend::take_step_stats`]), so steps never wait (the host
//! side, shared with the CUDA backend, is `backend::StepHistory`).
//!
//! Works on any adapter with compute shaders, including Mesa's lavapipe (a CPU Vulkan driver),
//! which is how CI runs it.

use std::collections::HashMap;

use wgpu::util::DeviceExt;

use crate::TrainError;
use crate::backend::{Backend, BackendKind, Eval, StepHistory, StepStat, check_batch, evaluate_in_chunks, unavailable};
use crate::model::{Layer, MlpSpec, Optim, OptimizerKind, Params};

const MATMUL: &str = include_str!("shaders/matmul.wgsl");
const ELEMENTWISE: &str = include_str!("shaders/elementwise.wgsl");
/// Rows per evaluation chunk.
const EVAL_ROWS: usize = 1024;

fn device_err(msg: impl std::fmt::Display) -> TrainError {
    TrainError::Device { backend: "wgpu", message: msg.to_string() }
}

/// The adapters wgpu can see, primary APIs (Vulkan, Metal, DX12) before GL, in a stable order.
/// `--device N` indexes this list.
pub fn adapters() -> Vec<wgpu::Adapter> {
    // `WGPU_BACKEND=vulkan|gl|…` narrows the search, as in every wgpu program.
    let desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    let backends = desc.backends;
    let instance = wgpu::Instance::new(desc);
    let mut list = pollster::block_on(instance.enumerate_adapters(backends));
    list.sort_by_key(|a| a.get_info().backend == wgpu::Backend::Gl);
    list
}

/// Whether an adapter is real hardware (not a CPU implementation such as lavapipe).
pub fn is_hardware(info: &wgpu::AdapterInfo) -> bool {
    matches!(
        info.device_type,
        wgpu::DeviceType::DiscreteGpu | wgpu::DeviceType::IntegratedGpu | wgpu::DeviceType::VirtualGpu
    )
}

/// One dispatch, prepared once: pipeline, bindings and grid.
struct Dispatch {
    pipeline: usize,
    bind: wgpu::BindGroup,
    groups: (u32, u32),
}

/// Buffers and dispatches for one batch size.
struct Plan {
    x: wgpu::Buffer,
    y: wgpu::Buffer,
    forward: Vec<Dispatch>,
    /// Cross-entropy, then the reduction into the step history.
    loss_train: Vec<Dispatch>,
    /// Cross-entropy, then the reduction into the evaluation accumulator.
    loss_eval: Vec<Dispatch>,
    backward: Vec<Dispatch>,
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct StepUniform {
    lr: f32,
    bc1: f32,
    bc2: f32,
    slot: u32,
    momentum: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    adam: u32,
    pad: [u32; 3],
}

#[derive(Clone, Copy)]
enum Kernel {
    Matmul = 0,
    BiasAct,
    ReluGrad,
    BiasGrad,
    Xent,
    Reduce,
    Update,
}

pub struct WgpuBackend {
    device: wgpu::Device,
    queue: wgpu::Queue,
    name: String,
    spec: MlpSpec,
    optim: Optim,
    pipelines: Vec<wgpu::ComputePipeline>,
    /// Per layer: weights, biases, their gradients and optimizer moments.
    w: Vec<wgpu::Buffer>,
    b: Vec<wgpu::Buffer>,
    gw: Vec<wgpu::Buffer>,
    gb: Vec<wgpu::Buffer>,
    step_uniform: wgpu::Buffer,
    /// (mean loss, correct) per step since the last read-back ([`StepHistory`]).
    history: wgpu::Buffer,
    /// (loss sum, correct) of an evaluation.
    eval_acc: wgpu::Buffer,
    update: Vec<Dispatch>,
    plans: HashMap<usize, Plan>,
    steps: StepHistory,
    t: u64,
}

impl WgpuBackend {
    /// Opens adapter `index` (of [`adapters`]); with `hardware_only`, the `index`-th hardware
    /// adapter instead, refusing CPU implementations.
    pub fn new(
        index: usize,
        hardware_only: bool,
        spec: &MlpSpec,
        params: &Params,
        optim: Optim,
    ) -> Result<WgpuBackend, TrainError> {
        let all = adapters();
        if all.is_empty() {
            return Err(unavailable(
                "no wgpu adapter found (no Vulkan, Metal, DX12 or GL driver; on Debian: apt-get install mesa-vulkan-drivers libvulkan1)",
            ));
        }
        let candidates: Vec<&wgpu::Adapter> =
            all.iter().filter(|a| !hardware_only || is_hardware(&a.get_info())).collect();
        let Some(adapter) = candidates.get(index) else {
            let names: Vec<String> = all.iter().map(|a| describe(&a.get_info())).collect();
            let found = names.join("; ");
            return Err(unavailable(match (hardware_only, candidates.is_empty()) {
                (true, true) => format!("no hardware wgpu adapter (only CPU implementations: {found})"),
                (true, false) => format!("no hardware wgpu adapter number {index} (found: {found})"),
                _ => format!("no wgpu adapter number {index} (found: {found})"),
            }));
        };
        let info = adapter.get_info();
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("trackbench-train"),
            required_limits: limits.clone(),
            ..Default::default()
        }))
        .map_err(|e| unavailable(format!("wgpu adapter {}: cannot open a device: {e}", describe(&info))))?;
        let largest = (0..spec.layers()).map(|l| spec.shape(l).0 * spec.shape(l).1).max().unwrap_or(0) as u64 * 4;
        let rows_needed = EVAL_ROWS.max(1) as u64 * spec.sizes.iter().copied().max().unwrap_or(0) as u64 * 4;
        let max_binding = limits.max_storage_buffer_binding_size;
        if largest.max(rows_needed) > max_binding {
            return Err(unavailable(format!(
                "wgpu adapter {}: a layer needs {} bytes, the adapter binds at most {max_binding}",
                describe(&info),
                largest.max(rows_needed)
            )));
        }
        Ok(WgpuBackend::build(device, queue, describe(&info), spec, params, optim))
    }

    fn build(
        device: wgpu::Device,
        queue: wgpu::Queue,
        name: String,
        spec: &MlpSpec,
        params: &Params,
        optim: Optim,
    ) -> WgpuBackend {
        let pipelines = make_pipelines(&device);
        let storage = |device: &wgpu::Device, label: &str, data: &[f32]| {
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: bytemuck::cast_slice(data),
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
            })
        };
        let zeros = |device: &wgpu::Device, label: &str, len: usize| storage(device, label, &vec![0.0f32; len.max(1)]);
        let w: Vec<_> = params.layers.iter().map(|l| storage(&device, "w", &l.w)).collect();
        let b: Vec<_> = params.layers.iter().map(|l| storage(&device, "b", &l.b)).collect();
        let gw: Vec<_> = params.layers.iter().map(|l| zeros(&device, "gw", l.w.len())).collect();
        let gb: Vec<_> = params.layers.iter().map(|l| zeros(&device, "gb", l.b.len())).collect();
        let step_uniform = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("step"),
            size: std::mem::size_of::<StepUniform>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let history = zeros(&device, "history", StepHistory::FLOATS);
        let eval_acc = zeros(&device, "eval", 2);
        let mut me = WgpuBackend {
            device,
            queue,
            name,
            spec: spec.clone(),
            optim,
            pipelines,
            w,
            b,
            gw,
            gb,
            step_uniform,
            history,
            eval_acc,
            update: Vec::new(),
            plans: HashMap::new(),
            steps: StepHistory::default(),
            t: 0,
        };
        for l in 0..spec.layers() {
            for (p, g, len) in
                [(&me.w[l], &me.gw[l], params.layers[l].w.len()), (&me.b[l], &me.gb[l], params.layers[l].b.len())]
            {
                let m = zeros(&me.device, "m", len);
                let v = zeros(&me.device, "v", len);
                let shape = me.shape_uniform(len as u32, 1, 0);
                let d = me.dispatch(Kernel::Update, &[&shape, &me.step_uniform, p, g, &m, &v], linear_groups(len));
                me.update.push(d);
            }
        }
        me
    }

    fn shape_uniform(&self, rows: u32, cols: u32, flag: u32) -> wgpu::Buffer {
        self.uniform(&[rows, cols, flag, 0])
    }

    fn uniform(&self, words: &[u32]) -> wgpu::Buffer {
        self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("shape"),
            contents: bytemuck::cast_slice(words),
            usage: wgpu::BufferUsages::UNIFORM,
        })
    }

    fn dispatch(&self, kernel: Kernel, buffers: &[&wgpu::Buffer], groups: (u32, u32)) -> Dispatch {
        let pipeline = kernel as usize;
        let layout = self.pipelines[pipeline].get_bind_group_layout(0);
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry { binding: i as u32, resource: b.as_entire_binding() })
            .collect();
        let bind = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &layout,
            entries: &entries,
        });
        Dispatch { pipeline, bind, groups }
    }

    /// `c = op(a) op(b)`: `m x k` times `k x n`.
    #[allow(clippy::too_many_arguments)]
    fn matmul(
        &self,
        m: usize,
        k: usize,
        n: usize,
        a: &wgpu::Buffer,
        ta: bool,
        b: &wgpu::Buffer,
        tb: bool,
        c: &wgpu::Buffer,
    ) -> Dispatch {
        let dims = self.uniform(&[m as u32, n as u32, k as u32, u32::from(ta), u32::from(tb), 0, 0, 0]);
        self.dispatch(Kernel::Matmul, &[&dims, a, b, c], (n.div_ceil(64) as u32, m.div_ceil(64) as u32))
    }

    fn plan(&mut self, n: usize) -> &Plan {
        if !self.plans.contains_key(&n) {
            let plan = self.make_plan(n);
            self.plans.insert(n, plan);
        }
        &self.plans[&n]
    }

    fn make_plan(&self, n: usize) -> Plan {
        let spec = &self.spec;
        let layers = spec.layers();
        let buf = |label: &str, bytes: usize, extra: wgpu::BufferUsages| {
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: (bytes.max(4)) as u64,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST | extra,
                mapped_at_creation: false,
            })
        };
        let x = buf("x", n * spec.sizes[0] * 4, wgpu::BufferUsages::empty());
        let y = buf("y", n * 4, wgpu::BufferUsages::empty());
        let acts: Vec<_> =
            (0..layers).map(|l| buf("act", n * spec.sizes[l + 1] * 4, wgpu::BufferUsages::empty())).collect();
        let dz: Vec<_> =
            (0..layers).map(|l| buf("dz", n * spec.sizes[l + 1] * 4, wgpu::BufferUsages::empty())).collect();
        let rows = buf("rows", n * 2 * 4, wgpu::BufferUsages::empty());
        let mut forward = Vec::new();
        for l in 0..layers {
            let (i, o) = spec.shape(l);
            let input = if l == 0 { &x } else { &acts[l - 1] };
            forward.push(self.matmul(n, i, o, input, false, &self.w[l], false, &acts[l]));
            let s = self.shape_uniform(n as u32, o as u32, u32::from(l + 1 < layers));
            forward.push(self.dispatch(Kernel::BiasAct, &[&s, &self.b[l], &acts[l]], linear_groups(n * o)));
        }
        let classes = spec.classes();
        let xs = self.shape_uniform(n as u32, classes as u32, 0);
        let xent =
            || self.dispatch(Kernel::Xent, &[&xs, &acts[layers - 1], &y, &dz[layers - 1], &rows], linear_groups(n));
        let rs_train = self.shape_uniform(n as u32, 2, 0);
        let rs_eval = self.shape_uniform(n as u32, 2, 1);
        let loss_train =
            vec![xent(), self.dispatch(Kernel::Reduce, &[&rs_train, &self.step_uniform, &rows, &self.history], (1, 1))];
        let loss_eval =
            vec![xent(), self.dispatch(Kernel::Reduce, &[&rs_eval, &self.step_uniform, &rows, &self.eval_acc], (1, 1))];
        let mut backward = Vec::new();
        for l in (0..layers).rev() {
            let (i, o) = spec.shape(l);
            let input = if l == 0 { &x } else { &acts[l - 1] };
            backward.push(self.matmul(i, n, o, input, true, &dz[l], false, &self.gw[l]));
            let s = self.shape_uniform(n as u32, o as u32, 0);
            backward.push(self.dispatch(Kernel::BiasGrad, &[&s, &dz[l], &self.gb[l]], linear_groups(o)));
            if l > 0 {
                backward.push(self.matmul(n, o, i, &dz[l], false, &self.w[l], true, &dz[l - 1]));
                let s = self.shape_uniform(n as u32, i as u32, 0);
                backward.push(self.dispatch(Kernel::ReluGrad, &[&s, &acts[l - 1], &dz[l - 1]], linear_groups(n * i)));
            }
        }
        Plan { x, y, forward, loss_train, loss_eval, backward }
    }

    fn write_step(&self, slot: u32) {
        let o = self.optim;
        let (bc1, bc2) = o.bias_corrections(self.t.max(1));
        let u = StepUniform {
            lr: o.lr,
            bc1,
            bc2,
            slot,
            momentum: o.momentum,
            beta1: o.beta1,
            beta2: o.beta2,
            eps: o.eps,
            adam: u32::from(o.kind == OptimizerKind::Adam),
            pad: [0; 3],
        };
        self.queue.write_buffer(&self.step_uniform, 0, bytemuck::bytes_of(&u));
    }

    /// Uploads a batch into the plan for its size and records `stages` of that plan.
    fn run(&mut self, x: &[f32], y: &[u32], stages: &[Stage]) {
        let n = y.len();
        self.plan(n);
        let plan = &self.plans[&n];
        self.queue.write_buffer(&plan.x, 0, bytemuck::cast_slice(x));
        self.queue.write_buffer(&plan.y, 0, bytemuck::cast_slice(y));
        let mut enc = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: None, timestamp_writes: None });
            for stage in stages {
                let list = match stage {
                    Stage::Forward => &plan.forward,
                    Stage::LossTrain => &plan.loss_train,
                    Stage::LossEval => &plan.loss_eval,
                    Stage::Backward => &plan.backward,
                    Stage::Update => &self.update,
                };
                for d in list {
                    pass.set_pipeline(&self.pipelines[d.pipeline]);
                    pass.set_bind_group(0, &d.bind, &[]);
                    pass.dispatch_workgroups(d.groups.0, d.groups.1, 1);
                }
            }
        }
        self.queue.submit([enc.finish()]);
    }

    /// Copies `buffers` (with their lengths in floats) back to the host.
    fn read(&self, buffers: &[(&wgpu::Buffer, usize)]) -> Result<Vec<Vec<f32>>, TrainError> {
        read_buffers(&self.device, &self.queue, buffers)
    }

    fn eval_batch(&mut self, x: &[f32], y: &[u32], stages: &[Stage]) -> Result<(f64, f64), TrainError> {
        self.queue.write_buffer(&self.eval_acc, 0, bytemuck::cast_slice(&[0.0f32, 0.0]));
        self.run(x, y, stages);
        let acc = self.read(&[(&self.eval_acc, 2)])?.remove(0);
        Ok((f64::from(acc[0]), f64::from(acc[1])))
    }
}

#[derive(Clone, Copy)]
enum Stage {
    Forward,
    LossTrain,
    LossEval,
    Backward,
    Update,
}

/// Copies `buffers` (with their lengths in floats) back to the host.
fn read_buffers(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    buffers: &[(&wgpu::Buffer, usize)],
) -> Result<Vec<Vec<f32>>, TrainError> {
    let total: usize = buffers.iter().map(|(_, n)| n * 4).sum();
    let staging = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("readback"),
        size: total.max(4) as u64,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut enc = device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
    let mut offset = 0u64;
    for (b, n) in buffers {
        enc.copy_buffer_to_buffer(b, 0, &staging, offset, (*n * 4) as u64);
        offset += (*n * 4) as u64;
    }
    queue.submit([enc.finish()]);
    let slice = staging.slice(..);
    let (tx, rx) = std::sync::mpsc::channel();
    slice.map_async(wgpu::MapMode::Read, move |r| {
        let _ = tx.send(r);
    });
    device.poll(wgpu::PollType::wait_indefinitely()).map_err(device_err)?;
    rx.recv().map_err(device_err)?.map_err(device_err)?;
    let data: Vec<f32> = {
        let view = slice.get_mapped_range().map_err(device_err)?;
        bytemuck::cast_slice(&view).to_vec()
    };
    staging.unmap();
    let mut out = Vec::new();
    let mut at = 0;
    for (_, n) in buffers {
        out.push(data[at..at + n].to_vec());
        at += n;
    }
    Ok(out)
}

/// [`StepHistory`]'s read of the first `floats` floats of the device's `history` buffer.
fn history_reader<'a>(
    device: &'a wgpu::Device,
    queue: &'a wgpu::Queue,
    history: &'a wgpu::Buffer,
) -> impl FnOnce(usize) -> Result<Vec<f32>, TrainError> + 'a {
    move |floats| Ok(read_buffers(device, queue, &[(history, floats)])?.remove(0))
}

/// A 2-D grid of 256-thread groups covering `count` items.
fn linear_groups(count: usize) -> (u32, u32) {
    let groups = count.div_ceil(256).max(1);
    let x = groups.min(65_535);
    (x as u32, groups.div_ceil(x) as u32)
}

/// `"llvmpipe (LLVM 15.0.6, 256 bits) (Vulkan, Cpu)"`.
pub fn describe(info: &wgpu::AdapterInfo) -> String {
    format!("{} ({:?}, {:?})", info.name, info.backend, info.device_type)
}

fn make_pipelines(device: &wgpu::Device) -> Vec<wgpu::ComputePipeline> {
    let make = |label: &str, src: String, entry: &str| {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(label),
            source: wgpu::ShaderSource::Wgsl(src.into()),
        });
        device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(label),
            layout: None,
            module: &module,
            entry_point: Some(entry),
            compilation_options: Default::default(),
            cache: None,
        })
    };
    // elementwise.wgsl: a shared prelude, then one section per kernel starting `// ---- name`;
    // each kernel is its own module so their bindings never meet.
    let mut sections = ELEMENTWISE.split("// ---- ");
    let prelude = sections.next().unwrap_or_default();
    let kernels: HashMap<&str, String> =
        sections.map(|s| (s.split(':').next().unwrap_or_default().trim(), format!("{prelude}// {s}"))).collect();
    let mut out = vec![make("matmul", MATMUL.to_string(), "main")];
    for name in ["bias_act", "relu_grad", "bias_grad", "xent", "reduce", "update"] {
        out.push(make(name, kernels[name].clone(), name));
    }
    out
}

impl Backend for WgpuBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Wgpu
    }

    fn device_name(&self) -> String {
        self.name.clone()
    }

    fn train_step(&mut self, x: &[f32], y: &[u32]) -> Result<(), TrainError> {
        let n = check_batch(&self.spec, x, y)?;
        let slot = self.steps.next_slot(history_reader(&self.device, &self.queue, &self.history))?;
        self.t += 1;
        self.write_step(slot);
        self.run(x, y, &[Stage::Forward, Stage::LossTrain, Stage::Backward, Stage::Update]);
        self.steps.push(n as u32);
        Ok(())
    }

    fn take_step_stats(&mut self) -> Result<Vec<StepStat>, TrainError> {
        self.steps.take(history_reader(&self.device, &self.queue, &self.history))
    }

    fn evaluate(&mut self, x: &[f32], y: &[u32]) -> Result<Eval, TrainError> {
        check_batch(&self.spec, x, y)?;
        evaluate_in_chunks(x, y, self.spec.sizes[0], EVAL_ROWS, |x, y| {
            self.eval_batch(x, y, &[Stage::Forward, Stage::LossEval])
        })
    }

    fn gradients(&mut self, x: &[f32], y: &[u32]) -> Result<(f32, Params), TrainError> {
        let n = check_batch(&self.spec, x, y)?;
        let (loss, _) = self.eval_batch(x, y, &[Stage::Forward, Stage::LossEval, Stage::Backward])?;
        Ok(((loss / n as f64) as f32, self.read_params(&self.gw, &self.gb)?))
    }

    fn params(&mut self) -> Result<Params, TrainError> {
        self.read_params(&self.w, &self.b)
    }
}

impl WgpuBackend {
    /// Seconds per `c = a b` (`m x k` times `k x n`, no transposes) with this backend's matmul
    /// kernel, averaged over `reps` dispatches in one submission, after one warm-up.
    pub fn time_matmul(&self, m: usize, k: usize, n: usize, reps: u32) -> Result<f64, TrainError> {
        let buf = |len: usize| {
            self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("bench"),
                contents: bytemuck::cast_slice(&vec![0.5f32; len]),
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            })
        };
        let (a, b, c) = (buf(m * k), buf(k * n), buf(m * n));
        let d = self.matmul(m, k, n, &a, false, &b, false, &c);
        let run = |reps: u32| -> Result<f64, TrainError> {
            let t = std::time::Instant::now();
            let mut enc = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
            {
                let mut pass =
                    enc.begin_compute_pass(&wgpu::ComputePassDescriptor { label: None, timestamp_writes: None });
                pass.set_pipeline(&self.pipelines[d.pipeline]);
                pass.set_bind_group(0, &d.bind, &[]);
                for _ in 0..reps {
                    pass.dispatch_workgroups(d.groups.0, d.groups.1, 1);
                }
            }
            self.queue.submit([enc.finish()]);
            self.device.poll(wgpu::PollType::wait_indefinitely()).map_err(device_err)?;
            Ok(t.elapsed().as_secs_f64())
        };
        run(1)?;
        let secs = run(reps.max(1))?;
        // Check the result once, so a broken kernel cannot report a fast time.
        let out = self.read(&[(&c, 1)])?;
        let want = 0.25 * k as f32;
        if (out[0][0] - want).abs() > 1e-3 * want {
            return Err(device_err(format!("matmul check failed: {} != {want}", out[0][0])));
        }
        Ok(secs / f64::from(reps.max(1)))
    }

    fn read_params(&self, w: &[wgpu::Buffer], b: &[wgpu::Buffer]) -> Result<Params, TrainError> {
        let mut list = Vec::new();
        for l in 0..self.spec.layers() {
            let (i, o) = self.spec.shape(l);
            list.push((&w[l], i * o));
            list.push((&b[l], o));
        }
        let mut data = self.read(&list)?.into_iter();
        let layers = (0..self.spec.layers())
            .map(|_| Layer { w: data.next().unwrap_or_default(), b: data.next().unwrap_or_default() })
            .collect();
        Ok(Params { layers })
    }
}
