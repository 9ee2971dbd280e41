//! Shared helpers: a small fixed problem and tolerance checks.

use trackbench_train::{Dataset, MlpSpec, Params};

/// A small deterministic batch: `n` rows of `spec.sizes[0]` features.
pub fn batch(spec: &MlpSpec, n: usize) -> Dataset {
    let d = trackbench_train::data::blobs(n, spec.classes(), spec.sizes[0], 0.7, 11);
    assert_eq!(d.len(), n);
    d
}

/// Asserts `a` and `b` agree element-wise within `abs + rel·|b|`; returns the worst ratio.
pub fn assert_close(what: &str, a: &Params, b: &Params, abs: f32, rel: f32) -> f32 {
    let mut worst = 0.0f32;
    for (t, (x, y)) in a.tensors().zip(b.tensors()).enumerate() {
        assert_eq!(x.len(), y.len(), "{what}: tensor {t} length");
        for (i, (&p, &q)) in x.iter().zip(y).enumerate() {
            let tol = abs + rel * q.abs();
            let ratio = (p - q).abs() / tol;
            assert!(ratio <= 1.0, "{what}: tensor {t} (w0,b0,w1,…) element {i}: {p} vs {q} (tolerance {tol})");
            worst = worst.max(ratio);
        }
    }
    worst
}
