//! Measures profiling speed and profile size for a 1M-row × 20-column table (release build):
//! `cargo run --release -p trackbench-data --example profile_1m`.

use std::time::Instant;

use trackbench_data::{Column, ColumnValues, DriftOptions, Profile, ProfileOptions, drift};

fn main() {
    let rows = 1_000_000;
    let mut s = 0x1234_5678u64;
    let mut uniform = move || {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((s >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let floats: Vec<Vec<f64>> = (0..20)
        .map(|c| {
            (0..rows)
                .map(|_| (-2.0 * uniform().ln()).sqrt() * (std::f64::consts::TAU * uniform()).cos() + f64::from(c))
                .collect()
        })
        .collect();
    let ints: Vec<Vec<Option<i64>>> =
        (0..2).map(|_| (0..rows).map(|_| Some((uniform() * 1e6) as i64)).collect()).collect();
    let cats = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"];
    let strs: Vec<Vec<Option<&str>>> =
        (0..3).map(|_| (0..rows).map(|_| Some(cats[(uniform() * 8.0) as usize])).collect()).collect();
    let flags: Vec<Option<bool>> = (0..rows).map(|_| Some(uniform() < 0.3)).collect();
    let names: Vec<String> = (0..20).map(|i| format!("col{i}")).collect();

    let all_float: Vec<Column> = floats.iter().zip(&names).map(|(v, n)| Column::new(n, ColumnValues::F64(v))).collect();
    let mut mixed: Vec<Column> = all_float[..14].to_vec();
    mixed.extend(ints.iter().zip(&names[14..]).map(|(v, n)| Column::new(n, ColumnValues::I64(v))));
    mixed.extend(strs.iter().zip(&names[16..]).map(|(v, n)| Column::new(n, ColumnValues::Str(v))));
    mixed.push(Column::new(&names[19], ColumnValues::Bool(&flags)));

    let opts = ProfileOptions {
        kll_k: std::env::args().nth(1).map_or(200, |k| k.parse().unwrap()),
        ..ProfileOptions::default()
    };
    for (label, table) in [("20 float columns", &all_float), ("14 float, 2 int, 3 string, 1 bool", &mixed)] {
        let _ = Profile::from_columns(&table[..1], &opts).unwrap();
        let t = Instant::now();
        let p = Profile::from_columns(table, &opts).unwrap();
        let took = t.elapsed();
        let json = p.to_json();
        let t = Instant::now();
        let r = drift(&p, &p, &DriftOptions::default());
        let dt = t.elapsed();
        println!(
            "{label}: profile {:.0} ms, {} bytes JSON ({:.1} KB); 20-column drift {:.1} ms, {} tested",
            took.as_secs_f64() * 1e3,
            json.len(),
            json.len() as f64 / 1024.0,
            dt.as_secs_f64() * 1e3,
            r.tested
        );
    }
}
