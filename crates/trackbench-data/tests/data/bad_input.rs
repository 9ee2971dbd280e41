//! Bad and degenerate input: clear errors or well-defined results, never a panic or a NaN.

use trackbench_data::{
    Column, ColumnValues, DType, DataError, DriftOptions, Profile, ProfileOptions, Summary, Test, Value, drift,
};

fn opts() -> ProfileOptions {
    ProfileOptions::default()
}

#[test]
fn a_column_of_mixed_types_is_an_error_naming_the_row() {
    let v = [Value::I64(1), Value::F64(2.5), Value::Null, Value::Str("x")];
    let err = Profile::from_columns(&[Column::new("m", ColumnValues::Any(&v))], &opts()).unwrap_err();
    assert_eq!(err, DataError::MixedTypes { column: "m".into(), row: 3, expected: "a number", found: "a string" });
    assert_eq!(err.to_string(), "column \"m\" mixes types: row 3 is a string, earlier rows are a number");
    // Ints and floats together are one numeric column.
    let p = Profile::from_columns(&[Column::new("m", ColumnValues::Any(&v[..3]))], &opts()).unwrap();
    assert_eq!(p.columns[0].dtype, DType::Float);
}

#[test]
fn all_null_columns_are_empty_and_not_tested() {
    let f = [None, None];
    let a = [Value::Null, Value::Null];
    let p = Profile::from_columns(
        &[Column::new("f", ColumnValues::F64Opt(&f)), Column::new("a", ColumnValues::Any(&a))],
        &opts(),
    )
    .unwrap();
    assert_eq!(p.columns[0].dtype, DType::Float);
    assert_eq!(p.columns[1].dtype, DType::Null);
    assert!(p.columns.iter().all(|c| c.summary == Summary::Empty && c.nulls == 2));
    let r = drift(&p, &p, &DriftOptions::default());
    assert_eq!((r.tested, r.drifted, r.share, r.drift), (0, 0, None, false));
    assert!(r.columns[0].notes[0].contains("no non-null values"));
    // A null-only column merges into a typed one.
    let x = [Value::F64(1.0), Value::F64(2.0)];
    let q = Profile::from_columns(
        &[Column::new("f", ColumnValues::F64Opt(&f)), Column::new("a", ColumnValues::Any(&x))],
        &opts(),
    )
    .unwrap();
    assert_eq!(p.merge(&q).unwrap().columns[1].dtype, DType::Float);
}

#[test]
fn nan_and_infinities_are_counted_apart_and_poison_nothing() {
    let v = [1.0, f64::NAN, 2.0, f64::INFINITY, 3.0, f64::NEG_INFINITY, f64::NAN];
    let p = Profile::from_columns(&[Column::new("x", ColumnValues::F64(&v))], &opts()).unwrap();
    let Summary::Numeric(n) = &p.columns[0].summary else { panic!() };
    assert_eq!((n.nan, n.pos_inf, n.neg_inf, n.finite), (2, 1, 1, 3));
    assert_eq!((n.min, n.max, n.mean, n.std()), (Some(1.0), Some(3.0), Some(2.0), Some(1.0)));
    let r = drift(&p, &p, &DriftOptions { test: Test::Ks, ..DriftOptions::default() });
    let c = &r.columns[0];
    assert_eq!((c.statistic, c.p_value, c.drift), (Some(0.0), Some(1.0), Some(false)));
    assert!(c.notes[0].contains("2 NaN, 1 +inf, 1 -inf"), "{:?}", c.notes);
    // Only NaN: numeric, but no finite values to test.
    let only = [f64::NAN; 3];
    let q = Profile::from_columns(&[Column::new("x", ColumnValues::F64(&only))], &opts()).unwrap();
    let r = drift(&q, &p, &DriftOptions::default());
    assert_eq!(r.columns[0].drift, None);
    assert_eq!(r.tested, 0);
    serde_json_roundtrip(&q);
}

fn serde_json_roundtrip(p: &Profile) {
    assert_eq!(&Profile::from_json(&p.to_json()).unwrap(), p);
}

#[test]
fn empty_tables_profile_and_compare_to_nothing() {
    let none = Profile::from_columns(&[], &opts()).unwrap();
    assert_eq!((none.rows, none.columns.len()), (0, 0));
    let r = drift(&none, &none, &DriftOptions::default());
    assert_eq!((r.tested, r.drift), (0, false));
    let zero = Profile::from_columns(&[Column::new("x", ColumnValues::F64(&[]))], &opts()).unwrap();
    assert_eq!(zero.columns[0].summary, Summary::Empty);
    assert_eq!(zero.merge(&zero).unwrap(), zero);
    serde_json_roundtrip(&zero);
}

#[test]
fn a_single_row_is_a_well_defined_test() {
    let a = Profile::from_columns(&[Column::new("x", ColumnValues::F64(&[1.0]))], &opts()).unwrap();
    let b = Profile::from_columns(&[Column::new("x", ColumnValues::F64(&[2.0]))], &opts()).unwrap();
    // auto: two distinct values in all, so chi-square (Evidently's rule); scipy's
    // chi2_contingency([[1, 0], [0, 1]]) with Yates' correction: statistic 0, p-value 1.
    let r = drift(&a, &b, &DriftOptions::default());
    let c = &r.columns[0];
    assert_eq!((c.test, c.statistic, c.p_value, c.drift), (Some(Test::Chi2), Some(0.0), Some(1.0), Some(false)));
    // scipy.stats.ks_2samp([1.0], [2.0]): statistic 1.0, p-value 1.0.
    let r = drift(&a, &b, &DriftOptions { test: Test::Ks, ..DriftOptions::default() });
    let c = &r.columns[0];
    assert_eq!((c.statistic, c.p_value, c.drift), (Some(1.0), Some(1.0), Some(false)));
    let w = drift(&a, &b, &DriftOptions { test: Test::Wasserstein, ..DriftOptions::default() });
    // One value: population std 0, so the norm is Evidently's floor 0.001.
    assert_eq!(w.columns[0].wasserstein, Some(1.0));
    assert_eq!(w.columns[0].statistic, Some(1000.0));
}

#[test]
fn table_shape_errors_are_clear() {
    let err = Profile::from_columns(
        &[Column::new("x", ColumnValues::F64(&[1.0])), Column::new("x", ColumnValues::F64(&[1.0]))],
        &opts(),
    )
    .unwrap_err();
    assert_eq!(err, DataError::DuplicateColumn("x".into()));
    let err = Profile::from_columns(
        &[Column::new("x", ColumnValues::F64(&[1.0])), Column::new("y", ColumnValues::F64(&[1.0, 2.0]))],
        &opts(),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "column \"y\" has 2 rows, the first column has 1");
    let bad = ProfileOptions { frequent_items: 100, ..opts() };
    assert!(matches!(Profile::from_columns(&[], &bad), Err(DataError::InvalidOption(_))));
}

#[test]
fn mismatched_schemas_error_on_merge_and_note_per_column_in_drift() {
    let a = Profile::from_columns(
        &[Column::new("x", ColumnValues::F64(&[1.0])), Column::new("s", ColumnValues::Str(&[Some("a")]))],
        &opts(),
    )
    .unwrap();
    let b = Profile::from_columns(
        &[Column::new("x", ColumnValues::Str(&[Some("a")])), Column::new("t", ColumnValues::Bool(&[Some(true)]))],
        &opts(),
    )
    .unwrap();
    assert_eq!(
        a.merge(&b).unwrap_err(),
        DataError::SchemaMismatch { only_left: vec!["s".into()], only_right: vec!["t".into()] }
    );
    let r = drift(&a, &b, &DriftOptions::default());
    let notes: Vec<&str> = r.columns.iter().map(|c| c.notes[0].as_str()).collect();
    assert_eq!(
        notes,
        [
            "types differ: float in the reference, string in the current data",
            "no column \"s\" in the current profile",
            "no column \"t\" in the reference profile"
        ]
    );
    let c = Profile::from_columns(
        &[Column::new("x", ColumnValues::Str(&[Some("a")])), Column::new("s", ColumnValues::Str(&[None]))],
        &opts(),
    )
    .unwrap();
    assert!(matches!(a.merge(&c), Err(DataError::TypeMismatch { .. })));
}

#[test]
fn a_test_that_does_not_fit_the_type_says_so() {
    let a = Profile::from_columns(&[Column::new("s", ColumnValues::Str(&[Some("a"), Some("b")]))], &opts()).unwrap();
    let r = drift(&a, &a, &DriftOptions { test: Test::Ks, ..DriftOptions::default() });
    assert_eq!(r.columns[0].drift, None);
    assert!(r.columns[0].notes[0].contains("ks needs numbers"));
}
