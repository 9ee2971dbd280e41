//! Sketched columns tested for drift: what a sketch cannot tell apart is not called drift.

use trackbench_data::{Column, ColumnValues, Profile, ProfileOptions};

use super::generate::Rng;

/// Two samples of one distribution over 2,000 categories (past the exact cap, so sketched)
/// do not drift; the same with one category grown to a tenth of the rows does. Found by the
/// data benchmark: comparing the sketches' listed counts as they were gave JS 0.53 where the
/// data's own was 0.05.
#[test]
fn sketched_categories_with_many_values_drift_only_when_they_do() {
    use trackbench_data::{DriftOptions, drift};
    let names: Vec<String> = (0..2000).map(|i| format!("product-{i}")).collect();
    let cats: Vec<&str> = names.iter().map(String::as_str).collect();
    let weights: Vec<f64> = (0..2000).map(|i| 1.0 / (1.0 + f64::from(i) / 50.0)).collect();
    let mut rng = Rng::new(9);
    let profile = |v: Vec<&str>| {
        let col: Vec<Option<&str>> = v.into_iter().map(Some).collect();
        Profile::from_columns(&[Column::new("p", ColumnValues::Str(&col))], &ProfileOptions::default()).unwrap()
    };
    let reference = profile(rng.pick(200_000, &cats, &weights));
    let same = profile(rng.pick(200_000, &cats, &weights));
    let mut grown = weights.clone();
    grown[1500] = weights.iter().sum::<f64>() / 9.0;
    let shifted = profile(rng.pick(200_000, &cats, &grown));
    assert!(matches!(&reference.columns[0].summary, trackbench_data::Summary::Categorical(c) if !c.is_exact()));
    let r = drift(&reference, &same, &DriftOptions::default());
    let c = &r.columns[0];
    assert_eq!(c.drift, Some(false), "{c:?}");
    assert!(c.statistic.unwrap() < 0.05, "{c:?}");
    let r = drift(&reference, &shifted, &DriftOptions::default());
    assert_eq!(r.columns[0].drift, Some(true), "{:?}", r.columns[0]);
}
