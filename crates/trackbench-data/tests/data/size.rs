//! Profiles stay small: a 1M-row × 20-column table's profile in tens of KB (the goal),
//! checked per column on 1M rows, and a column held exactly no larger than it must be.

use trackbench_data::{Column, ColumnValues, Profile, ProfileOptions};

use super::generate::Rng;

#[test]
fn a_sketched_column_of_a_million_rows_takes_a_few_kb() {
    let mut rng = Rng::new(3);
    let floats = rng.normals(1_000_000, 10.0, 3.0);
    let ints: Vec<Option<i64>> = (0..1_000_000).map(|_| Some((rng.uniform() * 1e9) as i64)).collect();
    let p = Profile::from_columns(
        &[Column::new("f", ColumnValues::F64(&floats)), Column::new("i", ColumnValues::I64(&ints))],
        &ProfileOptions::default(),
    )
    .unwrap();
    let json = p.to_json();
    // 5 KB a column: 20 of them in under 100 KB (whole little-endian f64s took 7.9 KB).
    assert!(json.len() < 2 * 5 * 1024, "{} bytes for two sketched columns", json.len());
    let back = Profile::from_json(&json).unwrap();
    assert_eq!(back, p, "the compact form reads back to the same profile");
}

#[test]
fn an_exact_column_of_4096_values_is_stored_compactly_and_exactly() {
    let mut rng = Rng::new(4);
    let ints: Vec<Option<i64>> = (0..49_152).map(|i| Some((i % 4096) * 7 - 9000)).collect();
    let distinct: Vec<f64> = (0..4096).map(|_| rng.normal(0.0, 1.0)).collect();
    let floats: Vec<f64> = distinct.iter().cycle().take(49_152).copied().collect();
    let p = Profile::from_columns(
        &[Column::new("i", ColumnValues::I64(&ints)), Column::new("f", ColumnValues::F64(&floats))],
        &ProfileOptions::default(),
    )
    .unwrap();
    assert!(p.columns.iter().all(|c| matches!(&c.summary, trackbench_data::Summary::Numeric(s) if s.is_exact())));
    let json = p.to_json();
    // Integers: gaps of a few f32 steps, two bytes each; f64 normals: their bits' gaps (about
    // seven bytes). Whole little-endian arrays took about 98 KB.
    assert!(json.len() < 64 * 1024, "{} bytes", json.len());
    let back = Profile::from_json(&json).unwrap();
    assert_eq!(back, p);
    let q = back.column("f").unwrap();
    let trackbench_data::Summary::Numeric(s) = &q.summary else { panic!() };
    let trackbench_data::NumericDist::Exact { values, .. } = &s.dist else { panic!() };
    let mut sorted = distinct.clone();
    sorted.sort_by(f64::total_cmp);
    assert!(values.iter().zip(&sorted).all(|(a, b)| a.to_bits() == b.to_bits()), "bit-exact values");
}

/// A table large enough to be profiled on workers gives each column the profile it has alone
/// (profiled on the calling thread).
#[test]
fn columns_profiled_on_workers_equal_each_profiled_alone() {
    let mut rng = Rng::new(5);
    let cols: Vec<Vec<f64>> = (0..6).map(|i| rng.normals(100_000, f64::from(i), 1.0)).collect();
    let names: Vec<String> = (0..6).map(|i| format!("c{i}")).collect();
    let table: Vec<Column> = cols.iter().zip(&names).map(|(v, n)| Column::new(n, ColumnValues::F64(v))).collect();
    let whole = Profile::from_columns(&table, &ProfileOptions::default()).unwrap();
    for (c, got) in table.iter().zip(&whole.columns) {
        let alone = Profile::from_columns(std::slice::from_ref(c), &ProfileOptions::default()).unwrap();
        assert_eq!(&alone.columns[0], got);
    }
}
