//! The CPU backend: plain Rust around `matrixmultiply`'s SGEMM. It is the correctness
//! reference the other backends are checked against, and deterministic for a seed (each
//! output element is computed by one thread in a fixed order).

use crate::TrainError;
use crate::backend::{Backend, BackendKind, Eval, StepStat, check_batch, evaluate_in_chunks};
use crate::model::{MlpSpec, Optim, OptimizerKind, Params};

/// Rows per evaluation chunk.
const EVAL_ROWS: usize = 1024;

/// `c = alpha * op(a) * op(b) + beta * c` on row-major matrices: `op(a)` is `m x k`, `op(b)`
/// is `k x n`; `ta`/`tb` say the stored matrix is the transpose.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm(m: usize, k: usize, n: usize, a: &[f32], ta: bool, b: &[f32], tb: bool, beta: f32, c: &mut [f32]) {
    assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
    let (rsa, csa) = if ta { (1, m as isize) } else { (k as isize, 1) };
    let (rsb, csb) = if tb { (1, k as isize) } else { (n as isize, 1) };
    // SAFETY: the asserts above bound every index the strides reach.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

/// Softmax cross-entropy over `logits` (`n x classes`): returns the summed loss and the count
/// of rows whose first arg-max is the label, and writes `d loss_mean / d logits` into `grad`.
pub(crate) fn softmax_xent(logits: &[f32], y: &[u32], classes: usize, grad: Option<&mut [f32]>) -> (f64, u32) {
    let n = y.len();
    let mut grad = grad;
    let (mut loss, mut correct) = (0.0f64, 0u32);
    for i in 0..n {
        let row = &logits[i * classes..(i + 1) * classes];
        let (mut max, mut arg) = (row[0], 0);
        for (j, &v) in row.iter().enumerate() {
            if v > max {
                max = v;
                arg = j;
            }
        }
        let sum: f32 = row.iter().map(|&v| (v - max).exp()).sum();
        let label = y[i] as usize;
        loss += f64::from(sum.ln() + max - row[label]);
        correct += u32::from(arg == label);
        if let Some(g) = grad.as_deref_mut() {
            for j in 0..classes {
                let p = (row[j] - max).exp() / sum;
                g[i * classes + j] = (p - if j == label { 1.0 } else { 0.0 }) / n as f32;
            }
        }
    }
    (loss, correct)
}

pub struct CpuBackend {
    spec: MlpSpec,
    params: Params,
    optim: Optim,
    /// Momentum (SGD) or first moment (Adam).
    m: Params,
    /// Second moment (Adam).
    v: Params,
    t: u64,
    stats: Vec<StepStat>,
    /// Activations after each layer (input excluded), reused between steps.
    acts: Vec<Vec<f32>>,
    /// Gradients of the last backward pass.
    grads: Params,
    /// The two gradient-of-activation buffers backward alternates between.
    scratch: [Vec<f32>; 2],
}

impl CpuBackend {
    pub fn new(spec: MlpSpec, params: Params, optim: Optim) -> CpuBackend {
        let m = params.zeros_like();
        let v = params.zeros_like();
        let grads = params.zeros_like();
        CpuBackend {
            spec,
            params,
            optim,
            m,
            v,
            t: 0,
            stats: Vec::new(),
            acts: Vec::new(),
            grads,
            scratch: Default::default(),
        }
    }

    /// Forward pass into `self.acts`; the last entry holds the logits.
    fn forward(&mut self, x: &[f32], n: usize) {
        let layers = self.spec.layers();
        self.acts.resize_with(layers, Vec::new);
        for l in 0..layers {
            let (i, o) = self.spec.shape(l);
            let mut out = std::mem::take(&mut self.acts[l]);
            out.clear();
            out.reserve(n * o);
            for _ in 0..n {
                out.extend_from_slice(&self.params.layers[l].b);
            }
            let input = if l == 0 { x } else { &self.acts[l - 1] };
            gemm(n, i, o, input, false, &self.params.layers[l].w, false, 1.0, &mut out);
            if l + 1 < layers {
                out.iter_mut().for_each(|v| *v = v.max(0.0));
            }
            self.acts[l] = out;
        }
    }

    /// Forward and backward; returns (summed loss, correct, gradients of the mean loss).
    /// Forward and backward; returns (summed loss, correct) and leaves the gradients of the
    /// mean loss in `self.grads`. Buffers are reused between steps (no allocation per step).
    fn backward(&mut self, x: &[f32], y: &[u32]) -> (f64, u32) {
        let n = y.len();
        self.forward(x, n);
        let layers = self.spec.layers();
        let classes = self.spec.classes();
        let [mut dz, mut da] = std::mem::take(&mut self.scratch);
        dz.resize(n * classes, 0.0);
        let (loss, correct) = softmax_xent(&self.acts[layers - 1], y, classes, Some(&mut dz));
        let grads = &mut self.grads;
        for l in (0..layers).rev() {
            let (i, o) = self.spec.shape(l);
            let input = if l == 0 { x } else { &self.acts[l - 1] };
            gemm(i, n, o, input, true, &dz, false, 0.0, &mut grads.layers[l].w);
            let db = &mut grads.layers[l].b;
            db.fill(0.0);
            for r in 0..n {
                for (d, g) in db.iter_mut().zip(&dz[r * o..(r + 1) * o]) {
                    *d += g;
                }
            }
            if l > 0 {
                da.clear();
                da.resize(n * i, 0.0);
                gemm(n, o, i, &dz, false, &self.params.layers[l].w, true, 0.0, &mut da);
                for (d, &a) in da.iter_mut().zip(&self.acts[l - 1]) {
                    if a <= 0.0 {
                        *d = 0.0;
                    }
                }
                std::mem::swap(&mut dz, &mut da);
            }
        }
        self.scratch = [dz, da];
        (loss, correct)
    }

    fn update(&mut self) {
        let grads = &self.grads;
        self.t += 1;
        let o = self.optim;
        let (bc1, bc2) = o.bias_corrections(self.t);
        let tensors =
            self.params.tensors_mut().zip(self.m.tensors_mut()).zip(self.v.tensors_mut()).zip(grads.tensors());
        for (((w, m), v), g) in tensors {
            match o.kind {
                OptimizerKind::Sgd => {
                    for ((w, m), &g) in w.iter_mut().zip(m.iter_mut()).zip(g) {
                        *m = o.momentum * *m + g;
                        *w -= o.lr * *m;
                    }
                }
                OptimizerKind::Adam => {
                    for (((w, m), v), &g) in w.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(g) {
                        *m = o.beta1 * *m + (1.0 - o.beta1) * g;
                        *v = o.beta2 * *v + (1.0 - o.beta2) * g * g;
                        *w -= o.lr * (*m / bc1) / ((*v / bc2).sqrt() + o.eps);
                    }
                }
            }
        }
    }
}

impl Backend for CpuBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Cpu
    }

    fn device_name(&self) -> String {
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        format!("cpu ({threads} threads, {})", std::env::consts::ARCH)
    }

    fn train_step(&mut self, x: &[f32], y: &[u32]) -> Result<(), TrainError> {
        let n = check_batch(&self.spec, x, y)?;
        let (loss, correct) = self.backward(x, y);
        self.update();
        self.stats.push(StepStat { loss: (loss / n as f64) as f32, correct, samples: n as u32 });
        Ok(())
    }

    fn take_step_stats(&mut self) -> Result<Vec<StepStat>, TrainError> {
        Ok(std::mem::take(&mut self.stats))
    }

    fn evaluate(&mut self, x: &[f32], y: &[u32]) -> Result<Eval, TrainError> {
        check_batch(&self.spec, x, y)?;
        evaluate_in_chunks(x, y, self.spec.sizes[0], EVAL_ROWS, |x, y| {
            self.forward(x, y.len());
            let (l, c) = softmax_xent(&self.acts[self.spec.layers() - 1], y, self.spec.classes(), None);
            Ok((l, f64::from(c)))
        })
    }

    fn gradients(&mut self, x: &[f32], y: &[u32]) -> Result<(f32, Params), TrainError> {
        let n = check_batch(&self.spec, x, y)?;
        let (loss, _) = self.backward(x, y);
        Ok(((loss / n as f64) as f32, self.grads.clone()))
    }

    fn params(&mut self) -> Result<Params, TrainError> {
        Ok(self.params.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemm_handles_transposes() {
        // a = [[1,2,3],[4,5,6]] (2x3), b = [[1,0],[0,1],[1,1]] (3x2)
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let mut c = [0.0; 4];
        gemm(2, 3, 2, &a, false, &b, false, 0.0, &mut c);
        assert_eq!(c, [4.0, 5.0, 10.0, 11.0]);
        // aᵀ stored as 3x2, bᵀ stored as 2x3: same product.
        let at = [1.0, 4.0, 2.0, 5.0, 3.0, 6.0];
        let bt = [1.0, 0.0, 1.0, 0.0, 1.0, 1.0];
        let mut c2 = [0.0; 4];
        gemm(2, 3, 2, &at, true, &bt, true, 0.0, &mut c2);
        assert_eq!(c2, c);
    }
}
