//! Property tests: printing any tree parses back to the same tree, and no input string makes
//! the parsers panic or report an offset outside the input.

use proptest::prelude::*;
use trackbench_query::{Agg, Attribute, CmpOp, Expr, Field, Literal, OrderBy, parse_filter, parse_order_by};

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_][a-z0-9_]{0,8}",
        "[a-zA-Z]{1,5}(\\.[a-z0-9]{1,5}){1,3}",
        "[a-z0-9/:@+-]{1,6}",
        "[损失精度éñ]{1,4}",
        "[a-z `\"']{1,8}",
        "\\PC{1,10}",
        any::<String>(),
    ]
    .prop_filter("keys are non-empty", |k| !k.is_empty())
}

fn agg() -> impl Strategy<Value = Agg> {
    prop::sample::select(vec![Agg::Last, Agg::Min, Agg::Max, Agg::Mean, Agg::Count, Agg::Sum])
}

fn field() -> impl Strategy<Value = Field> {
    prop_oneof![
        (key(), agg()).prop_map(|(key, agg)| Field::Metric { key, agg }),
        key().prop_map(Field::Param),
        key().prop_map(Field::Tag),
        prop::sample::select(Attribute::ALL.map(|(a, _)| a).to_vec()).prop_map(Field::Attr),
    ]
}

fn string() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z%_ '\"`\\\\]{0,10}", any::<String>()]
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |n| n.is_finite()).prop_map(Literal::Number),
        (-1000i32..1000, 0u32..4).prop_map(|(n, e)| Literal::Number(f64::from(n) / 10f64.powi(e as i32))),
        string().prop_map(Literal::Str),
        any::<bool>().prop_map(Literal::Bool),
    ]
}

fn predicate() -> impl Strategy<Value = Expr> {
    let op = prop::sample::select(vec![CmpOp::Eq, CmpOp::Ne, CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge]);
    prop_oneof![
        (field(), op, literal()).prop_map(|(field, op, value)| Expr::Compare { field, op, value }),
        (field(), string(), any::<bool>(), any::<bool>()).prop_map(|(field, pattern, case_insensitive, negated)| {
            Expr::Like { field, pattern, case_insensitive, negated }
        }),
        (field(), prop::collection::vec(literal(), 1..4), any::<bool>())
            .prop_map(|(field, values, negated)| Expr::In { field, values, negated }),
        (field(), any::<bool>()).prop_map(|(field, negated)| Expr::IsNull { field, negated }),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    predicate().prop_recursive(5, 32, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Expr::And(Box::new(l), Box::new(r))),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Expr::Or(Box::new(l), Box::new(r))),
            inner.prop_map(|e| Expr::Not(Box::new(e))),
        ]
    })
}

/// One of the `|`-separated alternatives.
fn one_of(alternatives: &'static str) -> impl Strategy<Value = &'static str> + Clone {
    prop::sample::select(alternatives.split('|').collect::<Vec<_>>())
}

/// Filters in many spellings (prefixes, aliases, quoting, case, spacing), built from the grammar.
fn sloppy_filter() -> impl Strategy<Value = String> {
    let field = one_of(
        "metrics.a|metric.train.loss|METRICS.`val loss`|avg( metrics.a )|MIN(metric.\"x\")|\
         params.lr|param.`a``b`|Parameters.x|tags.\"mlflow.runName\"|tag.损失|\
         attributes.status|attr.id|run.name|Created_Time|experiment|duration",
    );
    let op = one_of("=|==|!=|<>|<|<=|>|>=");
    let lit = one_of("1|+2|-0.5|.5|1E3|2e-3|'s'|\"dq\"|'it''s'|TRUE|false");
    let tail = prop_oneof![
        (op, lit).prop_map(|(o, l)| format!("{o}{l}")),
        one_of("like 'a%'|NOT ILIKE \"%b\"|is null|IS NOT NULL|in (1)|not in ('x',2, true)").prop_map(String::from),
    ];
    let predicate = (field, one_of(" |  |\t"), tail).prop_map(|(f, s, t)| format!("{f}{s}{t}"));
    predicate.prop_recursive(4, 16, 2, |inner| {
        prop_oneof![
            (inner.clone(), one_of(" and | AND | or | Or "), inner.clone()).prop_map(|(l, k, r)| format!("{l}{k}{r}")),
            inner.clone().prop_map(|e| format!("({e})")),
            inner.prop_map(|e| format!("not {e}")),
        ]
    })
}

/// Sloppy filters, some cut short or with a stray token spliced in, and operator soup.
fn fuzz_input() -> impl Strategy<Value = String> {
    let stray = one_of("(|)|,|'|\"|`|!|=|and|not|in|is|min(|tags.|1e999|nan|#|损|\u{301}|");
    let index = any::<prop::sample::Index>();
    let mangled = (sloppy_filter(), index, stray, any::<bool>()).prop_map(|(s, at, stray, rest)| {
        let cut = (0..=at.index(s.len() + 1)).rev().find(|&i| s.is_char_boundary(i));
        let cut = cut.unwrap_or(0);
        format!("{}{stray}{}", &s[..cut], if rest { &s[cut..] } else { "" })
    });
    // Raw bytes read as lossy UTF-8 (what a URL query or a shell may hand over).
    let bytes = prop::collection::vec(any::<u8>(), 0..120).prop_map(|b| String::from_utf8_lossy(&b).into_owned());
    // Deep or unbalanced nesting and long operator runs.
    let deep = (0usize..400, one_of("(|not |-|!|'|`|min(")).prop_map(|(n, s)| s.repeat(n));
    prop_oneof![sloppy_filter(), mangled, any::<String>(), "[a-z.()=!<>,'\"` 0-9-]{0,30}", bytes, deep]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn printed_filters_parse_back(e in expr()) {
        let printed = e.to_string();
        prop_assert_eq!(parse_filter(&printed), Ok(Some(e)), "printed: {}", printed);
    }

    #[test]
    fn printed_order_by_parses_back(
        terms in prop::collection::vec(
            (field(), any::<bool>()).prop_map(|(field, descending)| OrderBy { field, descending }),
            0..5,
        )
    ) {
        let printed = terms.iter().map(OrderBy::to_string).collect::<Vec<_>>().join(", ");
        prop_assert_eq!(parse_order_by(&printed), Ok(terms), "printed: {}", printed);
    }

    #[test]
    fn no_input_panics(input in fuzz_input()) {
        match parse_filter(&input) {
            Ok(Some(e)) => {
                // Whatever parses prints canonically and parses back to the same tree.
                let printed = e.to_string();
                prop_assert_eq!(parse_filter(&printed), Ok(Some(e)), "printed: {}", printed);
            }
            Ok(None) => prop_assert!(input.trim().is_empty()),
            Err(err) => {
                prop_assert!(err.offset + err.len <= input.len(), "{:?}", err);
                prop_assert!(input.is_char_boundary(err.offset), "{:?}", err);
                prop_assert!(err.len > 0 || err.offset == input.len(), "{:?}", err);
                let _ = err.render(&input);
            }
        }
        match parse_order_by(&input) {
            Ok(terms) => {
                let printed = terms.iter().map(OrderBy::to_string).collect::<Vec<_>>().join(", ");
                prop_assert_eq!(parse_order_by(&printed), Ok(terms));
            }
            Err(err) => prop_assert!(err.offset + err.len <= input.len(), "{:?}", err),
        }
    }
}
