//! Merge laws: the merge of two exact profiles is the profile of the concatenated data, field
//! for field; beyond the caps, counts and moments agree and quantiles stay within the bound.

use proptest::prelude::*;
use trackbench_data::{Column, ColumnValues, NumericStats, Profile, ProfileOptions, Summary};

fn profile(f: &[Option<f64>], s: &[Option<&str>], opts: &ProfileOptions) -> Profile {
    Profile::from_columns(&[Column::new("x", ColumnValues::F64Opt(f)), Column::new("c", ColumnValues::Str(s))], opts)
        .unwrap()
}

fn cell() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        8 => (-50i32..50).prop_map(|i| Some(f64::from(i) / 4.0)),
        1 => Just(None),
        1 => prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY), Just(-0.0)].prop_map(Some),
    ]
}

fn cat() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![Just(None), Just(Some("a")), Just(Some("b")), Just(Some("c")), Just(Some("d"))]
}

fn numeric(p: &Profile) -> &NumericStats {
    match &p.column("x").unwrap().summary {
        Summary::Numeric(n) => n,
        other => panic!("{other:?}"),
    }
}

proptest! {
    #[test]
    fn exact_merge_is_the_profile_of_the_concatenation(
        rows in prop::collection::vec((cell(), cat()), 0..300),
        split in 0usize..300,
    ) {
        let opts = ProfileOptions::default();
        let split = split.min(rows.len());
        let f: Vec<_> = rows.iter().map(|r| r.0).collect();
        let s: Vec<_> = rows.iter().map(|r| r.1).collect();
        let whole = profile(&f, &s, &opts);
        let merged = profile(&f[..split], &s[..split], &opts).merge(&profile(&f[split..], &s[split..], &opts)).unwrap();
        prop_assert_eq!(&merged, &whole);
        // And the serialized form round-trips to the same profile.
        prop_assert_eq!(Profile::from_json(&whole.to_json()).unwrap(), whole);
    }

    #[test]
    fn merge_is_commutative_and_associative_in_exact_mode(
        a in prop::collection::vec((cell(), cat()), 0..100),
        b in prop::collection::vec((cell(), cat()), 0..100),
        c in prop::collection::vec((cell(), cat()), 0..100),
    ) {
        let opts = ProfileOptions::default();
        let p = |rows: &Vec<(Option<f64>, Option<&'static str>)>| {
            let f: Vec<_> = rows.iter().map(|r| r.0).collect();
            let s: Vec<_> = rows.iter().map(|r| r.1).collect();
            profile(&f, &s, &opts)
        };
        let (pa, pb, pc) = (p(&a), p(&b), p(&c));
        prop_assert_eq!(pa.merge(&pb).unwrap(), pb.merge(&pa).unwrap());
        prop_assert_eq!(pa.merge(&pb).unwrap().merge(&pc).unwrap(), pa.merge(&pb.merge(&pc).unwrap()).unwrap());
    }
}

#[test]
fn sketched_merge_agrees_within_the_bound() {
    let opts = ProfileOptions { exact_values: 64, exact_categories: 3, ..ProfileOptions::default() };
    let mut rng = super::generate::Rng::new(3);
    let parts: Vec<Vec<Option<f64>>> =
        (0..5).map(|i| rng.normals(20_000, f64::from(i), 1.0).into_iter().map(Some).collect()).collect();
    let cats: Vec<Vec<Option<&str>>> = (0..5)
        .map(|_| {
            rng.pick(20_000, &["a", "b", "c", "d", "e"], &[5.0, 3.0, 1.0, 0.5, 0.5]).into_iter().map(Some).collect()
        })
        .collect();
    let all: Vec<Option<f64>> = parts.concat();
    let all_c: Vec<Option<&str>> = cats.concat();
    let whole = profile(&all, &all_c, &opts);
    let merged =
        parts.iter().zip(&cats).map(|(f, c)| profile(f, c, &opts)).reduce(|a, b| a.merge(&b).unwrap()).unwrap();
    let (w, m) = (numeric(&whole), numeric(&merged));
    assert_eq!((w.finite, w.min, w.max), (m.finite, m.min, m.max));
    assert!((w.mean.unwrap() - m.mean.unwrap()).abs() < 1e-12);
    assert!((w.m2 - m.m2).abs() / w.m2 < 1e-12);
    assert!((w.distinct() - 100_000.0).abs() / 100_000.0 < 0.05, "{}", w.distinct());
    // Quantiles of the merge within the rank bound of the data's own.
    let mut sorted: Vec<f64> = all.iter().flatten().copied().collect();
    sorted.sort_unstable_by(f64::total_cmp);
    let eps = m.weighted().rank_error;
    for (q, v) in [0.01, 0.1, 0.5, 0.9, 0.99].iter().zip(m.quantiles(&[0.01, 0.1, 0.5, 0.9, 0.99]).unwrap()) {
        let rank = sorted.partition_point(|&x| x <= v) as f64 / sorted.len() as f64;
        assert!((rank - q).abs() <= eps, "q {q}: rank {rank}, bound {eps}");
    }
    let Summary::Categorical(c) = &merged.column("c").unwrap().summary else { panic!() };
    assert!(!c.is_exact());
    let top = c.top(2).unwrap();
    assert_eq!(top[0].0, "a");
    assert_eq!(top[1].0, "b");
    let json = merged.to_json();
    assert_eq!(Profile::from_json(&json).unwrap(), merged);
}
