//! Table-driven tests of the filter and order-by parsers: valid inputs against their canonical
//! printing, invalid inputs against the error offset and message, and error rendering.

use trackbench_query::{
    Agg, Attribute, CmpOp, Expr, Field, Literal, OrderBy, ParseError, parse_filter, parse_order_by,
};

/// Parses `input`, checks its canonical printing, and that the printing parses to the same tree.
#[track_caller]
fn check(input: &str, expected: &str) {
    let expr = match parse_filter(input) {
        Ok(Some(expr)) => expr,
        other => panic!("{input:?} parsed to {other:?}"),
    };
    assert_eq!(expr.to_string(), expected, "printing of {input:?}");
    assert_eq!(parse_filter(expected), Ok(Some(expr)), "reparse of {expected:?}");
}

/// Filters already in canonical form: each prints exactly as written.
const CANONICAL: &[&str] = &[
    // MLflow examples.
    "metrics.rmse < 1 and params.model = 'tree'",
    "attributes.status = 'FINISHED'",
    "attributes.run_name ilike '%foo%'",
    "metrics.`f1 score` >= 0.5",
    // Keys: dots, unicode, punctuation, quoting, keywords after a prefix.
    "metrics.train.loss < 0.1",
    "metrics.損失 < 0.1",
    "params.a-b/c:d@e+f_g = 'v'",
    "tags.`a ``b`` c` = 'v'",
    "metrics.and = 1",
    // Literals.
    "metrics.a > -0.5",
    "metrics.a < 1e20",
    "params.s = 'it''s'",
    "params.s = 'back\\slash'",
    "params.s = ''",
    // not / precedence / aggregates.
    "not (metrics.a = 1 or metrics.b = 2)",
    "metrics.a = 1 or (metrics.b = 2 and metrics.c = 3)",
    "min(metrics.loss) < 0.1",
    // like / in / is null.
    "params.opt not like 'ad%'",
    "metrics.a in (1, 2.5, -3)",
    "tags.note is null",
];

/// (input, canonical printing)
#[rustfmt::skip]
const NORMALIZED: &[(&str, &str)] = &[
    ("tags.\"mlflow.runName\" = 'x'", "tags.mlflow.runName = 'x'"),
    ("params.lr IN ('0.01', '0.1')", "params.lr in ('0.01', '0.1')"),
    ("tags.`mlflow.user` != \"alice\"", "tags.mlflow.user != 'alice'"),
    ("tags.\"say \"\"hi\"\"\" = 'v'", "tags.`say \"hi\"` = 'v'"),
    ("attributes.`run_name` = 'x'", "attributes.run_name = 'x'"),
    // Prefix spellings, aliases, bare attributes, case-insensitive keywords.
    ("metric.a == 1 AND param.b <> 'x' Or tag.c LIKE 'y%'",
     "(metrics.a = 1 and params.b != 'x') or tags.c like 'y%'"),
    ("parameters.x = '1' or parameter.y = '2'", "params.x = '1' or params.y = '2'"),
    ("attr.id = 'r1' or run.name = 'n'", "attributes.run_id = 'r1' or attributes.run_name = 'n'"),
    ("attribute.experiment = 'p'", "attributes.project = 'p'"),
    ("status = 'running'", "attributes.status = 'running'"),
    ("Created_Time > 5 or creation_time < 9", "attributes.created > 5 or attributes.created < 9"),
    ("experiment_id = 'e' or group = 'g'", "attributes.project = 'e' or attributes.group = 'g'"),
    ("duration > 60 or host = 'gpu1'", "attributes.duration > 60 or attributes.host = 'gpu1'"),
    ("notes like '%x%' or name = 'n'", "attributes.notes like '%x%' or attributes.run_name = 'n'"),
    ("start_time >= 1 and end_time IS NULL",
     "attributes.start_time >= 1 and attributes.end_time is null"),
    // Literals.
    ("metrics.a > +2", "metrics.a > 2"),
    ("metrics.a > .5", "metrics.a > 0.5"),
    ("metrics.a > 5.", "metrics.a > 5"),
    ("metrics.a > -0", "metrics.a > -0"),
    ("metrics.a > 1e-3", "metrics.a > 0.001"),
    ("metrics.a<=1E-9", "metrics.a <= 1e-9"),
    ("params.s = \"dq \"\"q\"\" 'sq'\"", "params.s = 'dq \"q\" ''sq'''"),
    ("tags.f = TRUE or tags.f = false", "tags.f = true or tags.f = false"),
    // not / parentheses / precedence.
    ("not metrics.a = 1 and metrics.b = 2", "not (metrics.a = 1) and metrics.b = 2"),
    ("NOT NOT metrics.a = 1", "not (not (metrics.a = 1))"),
    ("not(metrics.a=1)", "not (metrics.a = 1)"),
    ("((metrics.a = 1 or metrics.b = 2)) and metrics.c = 3",
     "(metrics.a = 1 or metrics.b = 2) and metrics.c = 3"),
    ("metrics.a = 1 and metrics.b = 2 and metrics.c = 3",
     "(metrics.a = 1 and metrics.b = 2) and metrics.c = 3"),
    // Aggregates.
    ("AVG( metrics.`val loss` ) > 1", "mean(metrics.`val loss`) > 1"),
    ("mean(metric.x) > 2 or last(metrics.x) = 1", "mean(metrics.x) > 2 or metrics.x = 1"),
    ("max(metrics.a) > 0 or COUNT(metrics.a) >= 10", "max(metrics.a) > 0 or count(metrics.a) >= 10"),
    ("Sum(metrics.a) = 3", "sum(metrics.a) = 3"),
    // like / in / is null.
    ("tags.t NOT ILIKE \"%X%\"", "tags.t not ilike '%X%'"),
    ("params.a not in ('x', \"y\", true)", "params.a not in ('x', 'y', true)"),
    ("tags.n IS NOT NULL and min(metrics.l) is not null",
     "tags.n is not null and min(metrics.l) is not null"),
    ("  \t metrics.a = 1 \n", "metrics.a = 1"),
];

#[test]
fn valid_filters() {
    for input in CANONICAL {
        check(input, input);
    }
    for (input, expected) in NORMALIZED {
        check(input, expected);
    }
}

#[test]
fn trees() {
    let cmp = |field, op, value| Some(Expr::Compare { field, op, value });
    let metric = |key: &str, agg| Field::Metric { key: key.into(), agg };
    let (tag, param) = (Field::Tag("f".into()), Field::Param("x".into()));
    assert_eq!(parse_filter(""), Ok(None));
    assert_eq!(parse_filter(" \n\t "), Ok(None));
    assert_eq!(parse_filter("tags.f = true"), Ok(cmp(tag, CmpOp::Eq, Literal::Bool(true))));
    let y = Literal::Str("y".into());
    assert_eq!(parse_filter("params.x <> \"y\""), Ok(cmp(param, CmpOp::Ne, y)));
    let (count, three) = (metric("x", Agg::Count), Literal::Number(3.0));
    assert_eq!(parse_filter("count(metrics.x) > 3"), Ok(cmp(count, CmpOp::Gt, three)));
    let is = |k| Box::new(Expr::IsNull { field: metric(k, Agg::Last), negated: false });
    let abc = Expr::And(Box::new(Expr::And(is("a"), is("b"))), is("c"));
    let input = "metrics.a is null and metrics.b is null and metrics.c is null";
    assert_eq!(parse_filter(input), Ok(Some(abc)));
}

#[test]
fn order_by() {
    let cases = [
        ("", vec![]),
        ("   ", vec![]),
        ("metrics.loss", vec!["metrics.loss"]),
        ("min(metrics.loss) ASC, attributes.start_time desc", vec!["min(metrics.loss)", "attributes.start_time desc"]),
        ("start_time DESC,params.`learning rate`", vec!["attributes.start_time desc", "params.`learning rate`"]),
        ("tags.\"a.b\" asc , name", vec!["tags.a.b", "attributes.run_name"]),
    ];
    for (input, expected) in cases {
        let terms = parse_order_by(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        let printed: Vec<String> = terms.iter().map(OrderBy::to_string).collect();
        assert_eq!(printed, expected, "{input:?}");
        assert_eq!(parse_order_by(&printed.join(", ")), Ok(terms));
    }
    assert_eq!(
        parse_order_by("run_id desc"),
        Ok(vec![OrderBy { field: Field::Attr(Attribute::RunId), descending: true }])
    );
}

/// (input, offset, message substring)
#[rustfmt::skip]
const FILTER_ERRORS: &[(&str, usize, &str)] = &[
    ("metrics.acc 0.9", 12, "expected a comparison operator after `metrics.acc`, found `0.9`"),
    ("metrics.acc", 11, "unexpected end of input, expected a comparison operator"),
    ("metrics.acc >", 13, "unexpected end of input, expected a value"),
    ("metrics.acc > 'abc", 14, "unterminated string"),
    ("tags.`abc = 1", 5, "unterminated quoted key"),
    ("metrc.loss < 1", 0, "unknown field prefix `metrc` (expected metrics., params., tags. or attributes.)"),
    ("metrics.a = 1 foo", 14, "trailing input `foo`"),
    ("metrics.a = 1)", 13, "unmatched `)`"),
    ("(metrics.a = 1", 14, "expected `)` to close `(` at position 1"),
    ("metrics.a = 1 and", 17, "unexpected end of input, expected a field"),
    ("and metrics.a = 1", 0, "unknown attribute `and`"),
    ("foo = 1", 0, "unknown attribute `foo` (expected one of run_id, run_name, status"),
    ("attributes.colour = 'red'", 11, "unknown attribute `colour`"),
    ("attributes.`colour` = 'red'", 11, "unknown attribute `colour`"),
    ("tags. = 'x'", 0, "empty key after `tags.`"),
    ("tags.`` = 'x'", 5, "empty key"),
    ("tags.'x' = 'y'", 5, "not single quotes"),
    ("min(params.lr) > 1", 4, "aggregates apply only to metrics"),
    ("max(status) > 1", 4, "aggregates apply only to metrics"),
    ("min(min(metrics.a)) > 1", 4, "aggregates cannot be nested"),
    ("min metrics.a > 1", 4, "expected `(` after `min`"),
    ("min(metrics.a > 1", 14, "expected `)` to close `min(`"),
    ("metrics.a = nan", 12, "expected a value after `metrics.a`"),
    ("metrics.a = inf", 12, "found `inf`"),
    ("metrics.a = 1e999", 12, "invalid number `1e999`"),
    ("metrics.a = 1.2.3", 12, "invalid number"),
    ("metrics.a = 1e", 12, "invalid number"),
    ("metrics.a = .", 12, "expected a value"),
    ("metrics.a = -.e1", 12, "expected a value"),
    ("metrics.a = +.5e+", 12, "invalid number"),
    ("metrics.a = `x`", 12, "backquotes quote keys, not values"),
    ("metrics.a = tree", 12, "expected a value"),
    ("params.a like 5", 14, "expected a quoted string pattern after `like`"),
    ("params.a ilike", 14, "unexpected end of input, expected a quoted string pattern after `ilike`"),
    ("params.a not = 'x'", 13, "expected `like`, `ilike` or `in` after `not`"),
    ("params.a in 'x'", 12, "expected `(` after `in`"),
    ("params.a in ()", 13, "empty `in` list"),
    ("params.a in ('x',)", 16, "trailing comma in `in` list"),
    ("params.a in ('x' 'y')", 17, "expected `,` or `)` in the `in` list"),
    ("params.a in ('x'", 16, "unexpected end of input, expected `,` or `)`"),
    ("params.a is nul", 12, "expected `null` or `not null` after `is`"),
    ("params.a is not 1", 16, "expected `null` after `is`"),
    ("metrics.a ! 1", 10, "unexpected `!`"),
    ("metrics.a# = 1", 9, "unexpected character `#` (keys with special characters must be quoted"),
    ("metrics.a = 1.5;", 15, "unexpected character `;`"),
    ("0.9 < metrics.a", 0, "expected a field, found `0.9`"),
    ("'x' = params.a", 0, "expected a field, found `'x'`"),
    ("()", 1, "expected a field, found `)`"),
    (".x = 1", 0, "unknown field prefix"),
    ("metrics.損失 ≈ 1", 15, "unexpected character `≈`"),
    ("metrics.损 'a'", 12, "found `'a'`"),
];

/// (input, offset, message substring)
#[rustfmt::skip]
const ORDER_BY_ERRORS: &[(&str, usize, &str)] = &[
    ("metrics.a,", 10, "unexpected end of input, expected a field"),
    (",metrics.a", 0, "expected a field, found `,`"),
    ("metrics.a up", 10, "expected `asc`, `desc`, `,` or end of input after `metrics.a`, found `up`"),
    ("metrics.a desc desc", 15, "found `desc`"),
    ("min(params.x)", 4, "aggregates apply only to metrics"),
];

#[test]
fn error_offsets_and_messages() {
    let filter_errors = FILTER_ERRORS.iter().map(|&(i, o, m)| (i, o, m, parse_filter(i).err()));
    let order_errors = ORDER_BY_ERRORS.iter().map(|&(i, o, m)| (i, o, m, parse_order_by(i).err()));
    for (input, offset, message, err) in filter_errors.chain(order_errors) {
        let err = err.unwrap_or_else(|| panic!("{input:?} parsed"));
        let msg = &err.message;
        assert!(msg.contains(message), "{input:?}: {msg:?} lacks {message:?}");
        assert_eq!(err.offset, offset, "{input:?}: offset of {msg:?}");
        assert!(err.len >= 1 || err.offset == input.len(), "{input:?}: empty span");
        assert!(err.offset + err.len <= input.len(), "{input:?}: span past the end");
    }
}

#[test]
fn nesting_is_capped_and_long_chains_are_fine() {
    // Redundant parentheses may open up to 128 levels, which keeps the parser's stack small.
    let parens = |n| format!("{}metrics.a = 1{}", "(".repeat(n), ")".repeat(n));
    let err = parse_filter(&parens(100_000)).expect_err("too deep");
    assert_eq!(err.offset, 128);
    assert!(err.message.contains("nested too deeply"), "{}", err.message);
    assert!(parse_filter(&parens(128)).is_ok());
    let err = parse_filter(&format!("{}metrics.a = 1", "not ".repeat(100_000))).expect_err("deep");
    assert_eq!(err.offset, 4 * 128);

    // The tree itself may be 64 levels deep, and then it still prints into parseable text.
    let nots = |n| format!("{}metrics.a = 1", "not ".repeat(n));
    let expr = parse_filter(&nots(64)).expect("64 levels").expect("non-empty");
    assert_eq!(parse_filter(&expr.to_string()), Ok(Some(expr)));
    let err = parse_filter(&nots(65)).expect_err("65 levels");
    assert_eq!((err.offset, err.len), (0, 3));
    // Chains count their balanced depth: 4 operands add 2 levels, 5 add 3.
    assert!(parse_filter(&vec![nots(62); 4].join(" and ")).is_ok());
    let chain = vec![nots(62); 5].join(" and ");
    let err = parse_filter(&chain).expect_err("62 + 3 levels");
    assert_eq!((err.offset, err.len), (0, chain.len()));

    // A 100k-term chain parses into a balanced tree that prints and reparses without overflow.
    let chain = vec!["metrics.a = 1"; 100_000].join(" or ");
    let expr = parse_filter(&chain).expect("chain parses").expect("non-empty");
    assert_eq!(parse_filter(&expr.to_string()), Ok(Some(expr)));
}

#[test]
fn display_of_errors_and_render() {
    let input = "metrics.損失 0.9 and x";
    let err = parse_filter(input).expect_err("no operator");
    assert_eq!(
        err,
        ParseError {
            message: "expected a comparison operator after `metrics.損失`, found `0.9`".into(),
            offset: 15,
            len: 3,
        }
    );
    assert_eq!(err.to_string(), "expected a comparison operator after `metrics.損失`, found `0.9` at position 16");
    assert_eq!(
        err.render(input),
        "metrics.損失 0.9 and x\n           ^^^ expected a comparison operator after `metrics.損失`, found `0.9`"
    );
    let err = parse_filter("metrics.a <").expect_err("no value");
    assert!(err.render("metrics.a <").ends_with(
        "\n           ^ unexpected end of input, expected a value after `metrics.a` (a number, 'string', true or false)"
    ));
    // The quoting hint appears only where a key was being written.
    let err = parse_filter("metrics.a = 1.5;").expect_err("stray `;`");
    assert_eq!(err.message, "unexpected character `;`");
}

#[test]
fn aliases_map_foreign_attribute_names_and_nothing_else() {
    use trackbench_query::{parse_filter_with, parse_order_by_with};
    let alias = |name: &str| (name == "user_id").then(|| Field::Tag("mlflow.user".into()));
    let with = |s: &str| parse_filter_with(s, &alias).unwrap();
    assert_eq!(with("user_id = 'ada'"), parse_filter("tags.`mlflow.user` = 'ada'").unwrap());
    assert_eq!(with("attributes.user_id = 'ada'"), parse_filter("tags.`mlflow.user` = 'ada'").unwrap());
    // Our own attributes win, and prefixed keys are never aliases.
    assert_eq!(with("status = 'running'"), parse_filter("status = 'running'").unwrap());
    assert_eq!(with("params.user_id = 1"), parse_filter("params.user_id = 1").unwrap());
    let err = parse_filter_with("user = 'x'", &alias).unwrap_err();
    assert!(err.message.contains("user"), "{err}");
    assert!(parse_filter("user_id = 'ada'").is_err(), "no alias, no field");
    let order = parse_order_by_with("user_id desc", &alias).unwrap();
    assert_eq!(order, parse_order_by("tags.`mlflow.user` desc").unwrap());
}
