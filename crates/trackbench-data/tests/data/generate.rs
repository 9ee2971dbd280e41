//! Seeded generated data for the tests: normal and categorical columns.

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    pub fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        mean + sd * (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    pub fn normals(&mut self, n: usize, mean: f64, sd: f64) -> Vec<f64> {
        (0..n).map(|_| self.normal(mean, sd)).collect()
    }

    /// `n` draws from `cats` with weights `w`.
    pub fn pick<'a>(&mut self, n: usize, cats: &[&'a str], w: &[f64]) -> Vec<&'a str> {
        let total: f64 = w.iter().sum();
        (0..n)
            .map(|_| {
                let mut u = self.uniform() * total;
                for (c, &x) in cats.iter().zip(w) {
                    if u < x {
                        return *c;
                    }
                    u -= x;
                }
                cats[cats.len() - 1]
            })
            .collect()
    }
}
