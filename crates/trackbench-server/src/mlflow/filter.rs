//! MLflow search filters over objects held in memory (experiments, logged models, registered
//! models, model versions): the filter is parsed by `trackbench-query` (MLflow's names the
//! language does not know become [`attr`] fields), and [`eval`] walks the tree, asking the
//! caller's resolver for each field's value. Runs are filtered by the store in SQL instead.

use std::cmp::Ordering;

use trackbench_query::{CmpOp, Expr, Field, Literal, OrderBy};

use crate::error::{ApiError, ApiResult};

/// A field's value: a number or a text.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Num(f64),
    Text(String),
}

impl Val {
    fn cmp_literal(&self, lit: &Literal) -> Option<Ordering> {
        match (self, lit) {
            (Val::Num(a), Literal::Number(b)) => a.partial_cmp(b),
            (Val::Num(a), Literal::Str(b)) => b.trim().parse::<f64>().ok().and_then(|b| a.partial_cmp(&b)),
            (Val::Text(a), Literal::Str(b)) => Some(a.as_str().cmp(b)),
            (Val::Text(a), Literal::Number(b)) => match a.trim().parse::<f64>() {
                Ok(a) => a.partial_cmp(b),
                Err(_) => Some(a.as_str().cmp(b.to_string().as_str())),
            },
            (v, Literal::Bool(b)) => Some(v.text().as_str().cmp(if *b { "true" } else { "false" })),
        }
    }

    fn text(&self) -> String {
        match self {
            Val::Num(n) => n.to_string(),
            Val::Text(t) => t.clone(),
        }
    }

    /// Orders two values: numbers before texts, numbers numerically.
    pub fn order(a: &Option<Val>, b: &Option<Val>) -> Ordering {
        match (a, b) {
            (None, None) => Ordering::Equal,
            // Missing values sort last, as MLflow's searches put them.
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(Val::Num(x)), Some(Val::Num(y))) => x.total_cmp(y),
            (Some(Val::Num(_)), Some(Val::Text(_))) => Ordering::Less,
            (Some(Val::Text(_)), Some(Val::Num(_))) => Ordering::Greater,
            (Some(Val::Text(x)), Some(Val::Text(y))) => x.cmp(y),
        }
    }
}

/// Prefix of the synthetic tag keys [`attr`] makes (a control character: no real key has one).
const ATTR: char = '\u{1}';

/// The field standing for attribute `name` the query language does not know (`model_id`,
/// `version_number`, …); [`attr_name`] reads it back.
pub fn attr(name: &str) -> Option<Field> {
    Some(Field::Tag(format!("{ATTR}{name}")))
}

/// The MLflow attribute name of a field made by [`attr`].
pub fn attr_name(f: &Field) -> Option<&str> {
    match f {
        Field::Tag(k) => k.strip_prefix(ATTR),
        _ => None,
    }
}

/// Parses an MLflow filter (`None` when empty); unknown attribute names become [`attr`] fields.
pub fn parse(filter: Option<&str>) -> ApiResult<Option<Expr>> {
    match filter.map(str::trim).filter(|f| !f.is_empty()) {
        Some(f) => trackbench_query::parse_filter_with(f, &attr)
            .map_err(|e| ApiError::invalid(format!("Invalid filter '{f}': {e}"))),
        None => Ok(None),
    }
}

/// Parses one MLflow order-by term (`name ASC`, `metrics.acc DESC`).
pub fn parse_order(term: &str) -> ApiResult<OrderBy> {
    let mut terms = trackbench_query::parse_order_by_with(term, &attr)
        .map_err(|e| ApiError::invalid(format!("Invalid order_by clause '{term}': {e}")))?;
    match terms.len() {
        1 => Ok(terms.remove(0)),
        _ => Err(ApiError::invalid(format!("Invalid order_by clause '{term}': give one field per clause"))),
    }
}

/// Evaluates `e`; `field` gives a field's value (`None`: the object has no such value) or
/// refuses a field the search does not support.
pub fn eval(e: &Expr, field: &dyn Fn(&Field) -> ApiResult<Option<Val>>) -> ApiResult<bool> {
    Ok(match e {
        Expr::And(a, b) => eval(a, field)? && eval(b, field)?,
        Expr::Or(a, b) => eval(a, field)? || eval(b, field)?,
        Expr::Not(a) => !eval(a, field)?,
        Expr::Compare { field: f, op, value } => match field(f)? {
            Some(have) => cmp(op, have.cmp_literal(value)),
            None => false,
        },
        Expr::Like { field: f, pattern, case_insensitive, negated } => match field(f)? {
            Some(have) => like(&have.text(), pattern, *case_insensitive) != *negated,
            None => false,
        },
        Expr::In { field: f, values, negated } => match field(f)? {
            Some(have) => values.iter().any(|v| have.cmp_literal(v) == Some(Ordering::Equal)) != *negated,
            None => false,
        },
        Expr::IsNull { field: f, negated } => field(f)?.is_none() != *negated,
    })
}

pub fn cmp(op: &CmpOp, ord: Option<Ordering>) -> bool {
    use std::cmp::Ordering::*;
    match (op, ord) {
        (_, None) => false,
        (CmpOp::Eq, Some(o)) => o == Equal,
        (CmpOp::Ne, Some(o)) => o != Equal,
        (CmpOp::Lt, Some(o)) => o == Less,
        (CmpOp::Le, Some(o)) => o != Greater,
        (CmpOp::Gt, Some(o)) => o == Greater,
        (CmpOp::Ge, Some(o)) => o != Less,
    }
}

/// SQL LIKE with `%` and `_`.
pub fn like(text: &str, pattern: &str, case_insensitive: bool) -> bool {
    let (t, p): (Vec<char>, Vec<char>) = if case_insensitive {
        (text.to_lowercase().chars().collect(), pattern.to_lowercase().chars().collect())
    } else {
        (text.chars().collect(), pattern.chars().collect())
    };
    // Iterative wildcard match with backtracking on the last `%`.
    let (mut ti, mut pi) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '_' || p[pi] == t[ti]) {
            ti += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == '%' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '%')
}

/// The comparisons of a filter that may only join them with `and` (MLflow's logged-model
/// search): `or` and `not` are `INVALID_PARAMETER_VALUE`.
pub fn and_terms(e: &Expr) -> ApiResult<Vec<&Expr>> {
    match e {
        Expr::And(a, b) => {
            let mut out = and_terms(a)?;
            out.extend(and_terms(b)?);
            Ok(out)
        }
        Expr::Or(..) | Expr::Not(_) => {
            Err(ApiError::invalid("Invalid filter: only comparisons joined with AND are supported here"))
        }
        leaf => Ok(vec![leaf]),
    }
}

/// A page token bound to the search it came from: the offset and a digest of the search's
/// arguments (`what`), so a token replayed with another filter or order is refused.
pub fn bound_token(offset: usize, what: &str) -> String {
    format!("{offset}.{}", &blake3::hash(what.as_bytes()).to_hex()[..16])
}

/// The offset of a token made by [`bound_token`] for the same `what` (0 without a token).
pub fn parse_bound_token(token: Option<&str>, what: &str) -> ApiResult<usize> {
    let Some(t) = token.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(0) };
    let bad = || ApiError::invalid(format!("Invalid page token `{t}` for this search"));
    let (offset, digest) = t.split_once('.').ok_or_else(bad)?;
    let offset: usize = offset.parse().map_err(|_| bad())?;
    if bound_token(offset, what) != t || offset > crate::api::MAX_OFFSET {
        return Err(bad());
    }
    let _ = digest;
    Ok(offset)
}

/// One page of `rows` after `offset` (at most `max`), and the next page's token if more remain.
pub fn page<T>(rows: Vec<T>, offset: usize, max: usize) -> (Vec<T>, Option<String>) {
    let total = rows.len();
    let page: Vec<T> = rows.into_iter().skip(offset).take(max).collect();
    let next = offset.saturating_add(max);
    (page, (next < total).then(|| next.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(f: &Field) -> ApiResult<Option<Val>> {
        Ok(match (f, attr_name(f)) {
            (_, Some("version_number")) => Some(Val::Num(3.0)),
            (Field::Attr(trackbench_query::Attribute::RunName), _) => Some(Val::Text("my-model".into())),
            (Field::Tag(k), None) if k == "team" => Some(Val::Text("vision".into())),
            (Field::Tag(_), None) => None,
            _ => return Err(ApiError::invalid("unsupported")),
        })
    }

    #[test]
    fn filters_evaluate_over_resolved_fields() {
        let t = |f: &str| eval(&parse(Some(f)).unwrap().unwrap(), &obj).unwrap();
        assert!(t("name = 'my-model'"));
        assert!(t("name LIKE 'my-%' and tags.team = 'vision'"));
        assert!(!t("name ILIKE 'OTHER%'"));
        assert!(t("version_number > 2 and version_number <= 3"));
        assert!(t("version_number = '3'"));
        assert!(t("tags.missing IS NULL"));
        assert!(!t("tags.missing = 'x'"));
        assert!(t("name IN ('a', 'my-model')"));
        assert!(eval(&parse(Some("params.x = '1'")).unwrap().unwrap(), &obj).is_err());
        assert!(parse(Some("name = ")).is_err());
        assert!(parse(Some("  ")).unwrap().is_none());
    }

    #[test]
    fn like_patterns_and_pages() {
        assert!(like("my-exp", "my%", false));
        assert!(like("my-exp", "%exp", false));
        assert!(like("my-exp", "m_-%", false));
        assert!(!like("My-exp", "my%", false));
        assert!(like("My-exp", "my%", true));
        assert!(like("", "%", false));
        assert!(!like("abc", "a%d", false));
        assert!(like("model-1", "model%", false));
        assert!(like("Model-1", "model_1", true));
        assert!(!like("model-1", "model_", false));
        let (p, next) = page(vec![1, 2, 3, 4, 5], 2, 2);
        assert_eq!((p, next.as_deref()), (vec![3, 4], Some("4")));
        let (p, next) = page(vec![1, 2, 3], 2, 2);
        assert_eq!((p, next), (vec![3], None));
        let t = bound_token(40, "search a");
        assert_eq!(parse_bound_token(Some(&t), "search a").unwrap(), 40);
        assert!(parse_bound_token(Some(&t), "search b").is_err());
        assert!(parse_bound_token(Some("40"), "search a").is_err());
        assert_eq!(parse_bound_token(None, "x").unwrap(), 0);
        let e = parse(Some("name = 'a' and tags.t = 'b'")).unwrap().unwrap();
        assert_eq!(and_terms(&e).unwrap().len(), 2);
        assert!(and_terms(&parse(Some("name = 'a' or name = 'b'")).unwrap().unwrap()).is_err());
        assert_eq!(Val::order(&Some(Val::Num(1.0)), &None), Ordering::Less);
    }
}
