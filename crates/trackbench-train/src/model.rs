//! The model and optimizer description every backend shares: layer sizes, weights as plain
//! `f32` vectors (the exchange format between backends, tests and the safetensors artifact),
//! seeded initialisation and the optimizer's hyper-parameters.

use crate::rng::Rng;

/// Layer widths, input first and classes last: `[64, 128, 128, 10]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MlpSpec {
    pub sizes: Vec<usize>,
}

impl MlpSpec {
    pub fn new(input: usize, hidden: &[usize], classes: usize) -> MlpSpec {
        let mut sizes = vec![input];
        sizes.extend_from_slice(hidden);
        sizes.push(classes);
        MlpSpec { sizes }
    }

    pub fn layers(&self) -> usize {
        self.sizes.len() - 1
    }

    /// `(fan_in, fan_out)` of layer `l`.
    pub fn shape(&self, l: usize) -> (usize, usize) {
        (self.sizes[l], self.sizes[l + 1])
    }

    pub fn classes(&self) -> usize {
        *self.sizes.last().unwrap_or(&0)
    }

    /// Multiply-adds of one forward pass per sample.
    pub fn macs_per_sample(&self) -> usize {
        (0..self.layers()).map(|l| self.sizes[l] * self.sizes[l + 1]).sum()
    }

    pub fn param_count(&self) -> usize {
        (0..self.layers()).map(|l| (self.sizes[l] + 1) * self.sizes[l + 1]).sum()
    }
}

/// One linear layer: `w` is `fan_in x fan_out` row-major (so `y = x w + b`), `b` is `fan_out`.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    pub w: Vec<f32>,
    pub b: Vec<f32>,
}

/// Weights (or gradients, same shapes) of every layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub layers: Vec<Layer>,
}

impl Params {
    /// He-normal weights (`N(0, 2 / fan_in)`), zero biases, from `seed` alone.
    pub fn init(spec: &MlpSpec, seed: u64) -> Params {
        let mut rng = Rng::new(seed ^ 0x494E_4954);
        let layers = (0..spec.layers())
            .map(|l| {
                let (i, o) = spec.shape(l);
                let scale = (2.0 / i as f64).sqrt();
                Layer { w: (0..i * o).map(|_| (rng.normal() * scale) as f32).collect(), b: vec![0.0; o] }
            })
            .collect();
        Params { layers }
    }

    pub fn zeros_like(&self) -> Params {
        Params {
            layers: self.layers.iter().map(|l| Layer { w: vec![0.0; l.w.len()], b: vec![0.0; l.b.len()] }).collect(),
        }
    }

    /// Tensors in a fixed order (`w0, b0, w1, b1, …`), for element-wise work.
    pub fn tensors(&self) -> impl Iterator<Item = &Vec<f32>> {
        self.layers.iter().flat_map(|l| [&l.w, &l.b])
    }

    pub fn tensors_mut(&mut self) -> impl Iterator<Item = &mut Vec<f32>> {
        self.layers.iter_mut().flat_map(|l| [&mut l.w, &mut l.b])
    }
}

/// Which update rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptimizerKind {
    /// SGD with (heavy-ball) momentum: `v = μv + g; w -= lr·v`.
    Sgd,
    /// Adam with bias correction.
    Adam,
}

impl std::str::FromStr for OptimizerKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "sgd" => Ok(OptimizerKind::Sgd),
            "adam" => Ok(OptimizerKind::Adam),
            _ => Err(format!("unknown optimizer {s:?} (expected sgd or adam)")),
        }
    }
}

impl OptimizerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OptimizerKind::Sgd => "sgd",
            OptimizerKind::Adam => "adam",
        }
    }
}

/// The optimizer and its hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Optim {
    pub kind: OptimizerKind,
    pub lr: f32,
    /// SGD momentum μ.
    pub momentum: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
}

impl Optim {
    pub fn new(kind: OptimizerKind, lr: f32) -> Optim {
        Optim { kind, lr, momentum: 0.9, beta1: 0.9, beta2: 0.999, eps: 1e-8 }
    }

    /// Adam's bias corrections `(1 - β1^t, 1 - β2^t)` for step `t` (1-based).
    pub fn bias_corrections(&self, t: u64) -> (f32, f32) {
        let t = t.min(i32::MAX as u64) as i32;
        (1.0 - self.beta1.powi(t), 1.0 - self.beta2.powi(t))
    }
}
