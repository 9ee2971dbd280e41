//! Compiles the query language (`trackbench-query` trees) to SQL over the runs table, in the
//! dialect of the backend ([`Dialect`]: SQLite, PostgreSQL), with the same meaning in both.
//!
//! Every value from the user is a bound parameter (`?N` / `$N`), never spliced into the text.
//! Each predicate compiles to an expression that is true or false (never NULL), so `not` is
//! the exact complement. Semantics:
//! - `metrics.k` compares the series summary (`last` by default, or `min`/`max`/`mean`/
//!   `count`/`sum`); a run without the series, or whose value is NaN, matches no comparison.
//! - `params.k` compares numerically when the literal is a number (params logged as numeric
//!   strings, as MLflow does, count as numbers); a string literal that looks like a number
//!   matches either the text or the number (`params.lr = '0.01'` matches `0.01` logged as a
//!   float); otherwise text comparison.
//! - `LIKE` is case-sensitive, `ILIKE` is not (ASCII letters on SQLite; PostgreSQL's ILIKE
//!   folds other letters too), both with `%` and `_` wildcards and no escape character.
//! - `IS NULL` asks whether the run has the param/tag/metric at all.

use trackbench_query::{Agg, Attribute, CmpOp, Expr, Field, Literal};

use crate::error::{Result, StoreError};

/// Which SQL the builder writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A bound parameter's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Int(i64),
    Real(f64),
    Text(String),
}

impl From<i64> for Param {
    fn from(v: i64) -> Param {
        Param::Int(v)
    }
}

impl From<f64> for Param {
    fn from(v: f64) -> Param {
        Param::Real(v)
    }
}

impl From<String> for Param {
    fn from(v: String) -> Param {
        Param::Text(v)
    }
}

impl rusqlite::ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Param::Int(v) => v.to_sql(),
            Param::Real(v) => v.to_sql(),
            Param::Text(v) => v.to_sql(),
        }
    }
}

/// Collects SQL text and its bound parameters. Parameter 1 is reserved for the
/// crash-detection "stale before" time.
pub struct SqlBuilder {
    dialect: Dialect,
    params: Vec<Param>,
    now_ms: i64,
    /// Running runs whose process on this host is gone: they read `crashed`.
    gone: Vec<i64>,
}

fn op_sql(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "=",
        CmpOp::Ne => "!=",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

fn agg_col(agg: Agg) -> &'static str {
    match agg {
        Agg::Last => "s.last",
        Agg::Min => "s.min",
        Agg::Max => "s.max",
        Agg::Sum => "s.sum",
        Agg::Count => "s.count",
        Agg::Mean => "(s.sum / nullif(s.count - s.nan_count, 0))",
    }
}

/// Converts a LIKE pattern (`%`, `_`) to a case-sensitive GLOB pattern.
fn like_to_glob(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        match c {
            '%' => out.push('*'),
            '_' => out.push('?'),
            '*' => out.push_str("[*]"),
            '?' => out.push_str("[?]"),
            '[' => out.push_str("[[]"),
            other => out.push(other),
        }
    }
    out
}

impl SqlBuilder {
    /// A builder for SQLite.
    pub fn new(stale_before_ms: i64, now_ms: i64) -> SqlBuilder {
        SqlBuilder::for_dialect(Dialect::Sqlite, stale_before_ms, now_ms)
    }

    pub fn for_dialect(dialect: Dialect, stale_before_ms: i64, now_ms: i64) -> SqlBuilder {
        SqlBuilder { dialect, params: vec![Param::Int(stale_before_ms)], now_ms, gone: Vec::new() }
    }

    /// The placeholder of parameter `n`.
    fn placeholder(&self, n: usize) -> String {
        match self.dialect {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("${n}"),
        }
    }

    /// The SQL for "false" and, of a boolean that may be NULL, "or else false".
    fn or_false(&self, e: &str) -> String {
        match self.dialect {
            Dialect::Sqlite => format!("coalesce({e}, 0)"),
            Dialect::Postgres => format!("coalesce({e}, false)"),
        }
    }

    /// Runs (by internal id) that read `crashed` whatever their heartbeat says.
    pub fn with_gone(mut self, gone: &[i64]) -> SqlBuilder {
        self.gone = gone.to_vec();
        self
    }

    /// Adds a bound parameter and returns its placeholder (typed on PostgreSQL, which would
    /// otherwise take the type of the column it meets: a count compared with 0.5, say).
    pub fn bind(&mut self, v: impl Into<Param>) -> String {
        let v = v.into();
        let cast = match (self.dialect, &v) {
            (Dialect::Sqlite, _) => "",
            (Dialect::Postgres, Param::Int(_)) => "::bigint",
            (Dialect::Postgres, Param::Real(_)) => "::float8",
            (Dialect::Postgres, Param::Text(_)) => "::text",
        };
        self.params.push(v);
        format!("{}{cast}", self.placeholder(self.params.len()))
    }

    pub fn params(&self) -> &[Param] {
        &self.params
    }

    /// The ORDER BY terms for ordering by `field`: runs that lack it last, then by its value
    /// (numbers before texts for params, as SQLite orders mixed values).
    pub fn order_terms(&mut self, field: &Field, descending: bool) -> Result<Vec<String>> {
        let dir = if descending { "DESC" } else { "ASC" };
        if let (Dialect::Postgres, Field::Param(key)) = (self.dialect, field) {
            // PostgreSQL does not compare a number with a text: order by kind, then each.
            let k = self.bind(key.clone());
            let row = format!("FROM params WHERE run_id = r.id AND key = {k}");
            return Ok(vec![
                format!("NOT EXISTS (SELECT 1 {row})"),
                format!("(SELECT value_num IS NULL {row}) {dir}"),
                format!("(SELECT value_num {row}) {dir}"),
                format!("(SELECT value_text {row}) {dir}"),
            ]);
        }
        let e = self.order_expr(field)?;
        Ok(vec![format!("({e}) IS NULL"), format!("({e}) {dir}")])
    }

    /// SQL (0/1-valued) for a filter tree; the runs table is `r`, projects `p`.
    pub fn filter(&mut self, e: &Expr) -> Result<String> {
        Ok(match e {
            Expr::And(a, b) => format!("({} AND {})", self.filter(a)?, self.filter(b)?),
            Expr::Or(a, b) => format!("({} OR {})", self.filter(a)?, self.filter(b)?),
            Expr::Not(a) => format!("(NOT {})", self.filter(a)?),
            Expr::Compare { field, op, value } => self.compare(field, *op, value)?,
            Expr::Like { field, pattern, case_insensitive, negated } => {
                let cond = |b: &mut Self, col: &str| match (b.dialect, *case_insensitive) {
                    (Dialect::Sqlite, true) => format!("{col} LIKE {}", b.bind(pattern.clone())),
                    (Dialect::Sqlite, false) => format!("{col} GLOB {}", b.bind(like_to_glob(pattern))),
                    (Dialect::Postgres, true) => format!("{col} ILIKE {} ESCAPE ''", b.bind(pattern.clone())),
                    (Dialect::Postgres, false) => format!("{col} LIKE {} ESCAPE ''", b.bind(pattern.clone())),
                };
                let inner = self.text_predicate(field, cond)?;
                if *negated {
                    // Like `NOT IN`, `NOT LIKE` requires the field to exist.
                    let exists = self.exists(field)?;
                    format!("({exists} AND NOT {inner})")
                } else {
                    inner
                }
            }
            Expr::In { field, values, negated } => {
                let mut parts = Vec::new();
                for v in values {
                    parts.push(self.compare(field, CmpOp::Eq, v)?);
                }
                let inner = format!("({})", parts.join(" OR "));
                if *negated {
                    // `NOT IN` still requires the field to exist, as in SQL and MLflow.
                    let exists = self.exists(field)?;
                    format!("({exists} AND NOT {inner})")
                } else {
                    inner
                }
            }
            Expr::IsNull { field, negated } => {
                let exists = self.exists(field)?;
                if *negated { exists } else { format!("(NOT {exists})") }
            }
        })
    }

    /// 0/1: whether the run has this field.
    fn exists(&mut self, field: &Field) -> Result<String> {
        Ok(match field {
            Field::Metric { key, .. } => {
                let k = self.bind(key.clone());
                format!(
                    "EXISTS (SELECT 1 FROM metric_summaries s WHERE s.run_id = r.id AND s.key_id = (SELECT id FROM metric_keys WHERE name = {k}))"
                )
            }
            Field::Param(key) => {
                let k = self.bind(key.clone());
                format!("EXISTS (SELECT 1 FROM params WHERE run_id = r.id AND key = {k})")
            }
            Field::Tag(key) => {
                let k = self.bind(key.clone());
                format!("EXISTS (SELECT 1 FROM run_tags WHERE run_id = r.id AND key = {k})")
            }
            Field::Attr(a) => format!("({} IS NOT NULL)", self.attr_sql(*a)),
        })
    }

    /// A text condition on a field (LIKE/GLOB), built by `cond(self, column)`.
    fn text_predicate(&mut self, field: &Field, cond: impl FnOnce(&mut Self, &str) -> String) -> Result<String> {
        Ok(match field {
            Field::Metric { .. } => {
                return Err(StoreError::invalid(
                    "filter",
                    "LIKE/ILIKE apply to params, tags and attributes, not metrics",
                ));
            }
            Field::Param(key) => {
                let k = self.bind(key.clone());
                let c = cond(self, "value_text");
                format!("EXISTS (SELECT 1 FROM params WHERE run_id = r.id AND key = {k} AND {c})")
            }
            Field::Tag(key) => {
                let k = self.bind(key.clone());
                let c = cond(self, "value");
                format!("EXISTS (SELECT 1 FROM run_tags WHERE run_id = r.id AND key = {k} AND {c})")
            }
            Field::Attr(a) => {
                let col = self.attr_sql(*a);
                let c = cond(self, &col);
                self.or_false(&c)
            }
        })
    }

    fn compare(&mut self, field: &Field, op: CmpOp, value: &Literal) -> Result<String> {
        let o = op_sql(op);
        Ok(match field {
            Field::Metric { key, agg } => {
                let n = match value {
                    Literal::Number(n) => *n,
                    Literal::Str(s) => s.trim().parse::<f64>().map_err(|_| {
                        StoreError::invalid("filter", format!("metrics.{key} is compared with a number, not '{s}'"))
                    })?,
                    Literal::Bool(b) => f64::from(u8::from(*b)),
                };
                let k = self.bind(key.clone());
                let v = self.bind(n);
                format!(
                    "EXISTS (SELECT 1 FROM metric_summaries s WHERE s.run_id = r.id AND s.key_id = (SELECT id FROM metric_keys WHERE name = {k}) AND {} {o} {v})",
                    agg_col(*agg)
                )
            }
            Field::Param(key) => {
                let k = self.bind(key.clone());
                let cond = match value {
                    Literal::Number(n) => format!("value_num {o} {}", self.bind(*n)),
                    Literal::Bool(b) => {
                        let eq = format!("lower(value_text) = {}", self.bind(b.to_string()));
                        match op {
                            CmpOp::Eq => eq,
                            CmpOp::Ne => format!("NOT ({eq})"),
                            _ => return Err(StoreError::invalid("filter", "booleans compare only with = and !=")),
                        }
                    }
                    Literal::Str(s) => match s.trim().parse::<f64>().ok().filter(|f| f.is_finite()) {
                        Some(n) => {
                            let (t, nv) = (self.bind(s.clone()), self.bind(n));
                            match op {
                                CmpOp::Eq => format!("(value_text = {t} OR value_num = {nv})"),
                                CmpOp::Ne => format!("NOT (value_text = {t} OR value_num = {nv})"),
                                _ => format!("value_num {o} {nv}"),
                            }
                        }
                        None => format!("value_text {o} {}", self.bind(s.clone())),
                    },
                };
                format!("EXISTS (SELECT 1 FROM params WHERE run_id = r.id AND key = {k} AND {cond})")
            }
            Field::Tag(key) => {
                let k = self.bind(key.clone());
                let v = self.bind(literal_text(value));
                format!("EXISTS (SELECT 1 FROM run_tags WHERE run_id = r.id AND key = {k} AND value {o} {v})")
            }
            Field::Attr(a) => {
                let col = self.attr_sql(*a);
                let v = match (a, value) {
                    (Attribute::Status, Literal::Str(s)) => {
                        if crate::RunStatus::parse(s).is_none() {
                            return Err(StoreError::invalid(
                                "filter",
                                format!("unknown status '{s}' (running, finished, failed, killed, crashed)"),
                            ));
                        }
                        self.bind(s.to_ascii_lowercase())
                    }
                    (
                        Attribute::StartTime | Attribute::EndTime | Attribute::Created | Attribute::Duration,
                        Literal::Number(n),
                    ) => self.bind(*n),
                    (Attribute::StartTime | Attribute::EndTime | Attribute::Created | Attribute::Duration, other) => {
                        return Err(StoreError::invalid(
                            "filter",
                            format!("attributes.{} is compared with a number, not {other}", a.name()),
                        ));
                    }
                    (_, other) => self.bind(literal_text(other)),
                };
                self.or_false(&format!("{col} {o} {v}"))
            }
        })
    }

    /// A scalar SQL expression for ordering by `field` (NULL when the run lacks it).
    pub fn order_expr(&mut self, field: &Field) -> Result<String> {
        Ok(match field {
            Field::Metric { key, agg } => {
                let k = self.bind(key.clone());
                format!(
                    "(SELECT {} FROM metric_summaries s WHERE s.run_id = r.id AND s.key_id = (SELECT id FROM metric_keys WHERE name = {k}))",
                    agg_col(*agg)
                )
            }
            Field::Param(key) => {
                let k = self.bind(key.clone());
                format!("(SELECT coalesce(value_num, value_text) FROM params WHERE run_id = r.id AND key = {k})")
            }
            Field::Tag(key) => {
                let k = self.bind(key.clone());
                format!("(SELECT value FROM run_tags WHERE run_id = r.id AND key = {k})")
            }
            Field::Attr(a) => self.attr_sql(*a),
        })
    }
}

fn literal_text(l: &Literal) -> String {
    match l {
        Literal::Number(n) => n.to_string(),
        Literal::Str(s) => s.clone(),
        Literal::Bool(b) => b.to_string(),
    }
}

impl SqlBuilder {
    /// SQL for an attribute of run `r` (project `p`).
    fn attr_sql(&mut self, a: Attribute) -> String {
        match a {
            Attribute::RunId => "r.uid".into(),
            Attribute::RunName => "r.name".into(),
            Attribute::Status => {
                let stale = self.placeholder(1);
                crate::runs::status_sql_with(&self.gone, &stale)
            }
            Attribute::Group => "r.grp".into(),
            Attribute::Project => "p.name".into(),
            Attribute::StartTime => "r.started_ms".into(),
            Attribute::EndTime => "r.ended_ms".into(),
            Attribute::Created => "r.created_ms".into(),
            Attribute::Duration => {
                let now = self.bind(self.now_ms);
                format!("((coalesce(r.ended_ms, {now}) - r.started_ms) / 1000.0)")
            }
            Attribute::Host => "r.host".into(),
            Attribute::Notes => "r.notes".into(),
        }
    }
}

/// The SQL and parameters of a run listing (`Store::list_runs` and every backend's): `q`'s
/// project, filter, order (then newest first) and paging over runs `r` joined with their
/// projects `p`, selecting `columns(gone)`. `gone` are runs whose process is gone.
pub fn list_runs_sql(
    dialect: Dialect,
    q: &crate::RunQuery,
    stale_before_ms: i64,
    now_ms: i64,
    gone: &[i64],
    columns: &str,
) -> Result<(String, Vec<Param>)> {
    list_runs_part_sql(dialect, q, stale_before_ms, now_ms, gone, columns, ListPart::All)
}

/// The metric key of `q`'s first order term when it is a metric's last value
/// (`order_by=metrics.KEY [asc|desc]`, the common sort), the listings [`ListPart`] can cut.
pub fn order_metric(q: &crate::RunQuery) -> Result<Option<String>> {
    let Some(o) = q.order_by.as_deref() else { return Ok(None) };
    Ok(match trackbench_query::parse_order_by(o)?.first() {
        Some(t) => match &t.field {
            Field::Metric { key, agg: Agg::Last } => Some(key.clone()),
            _ => None,
        },
        None => None,
    })
}

/// Which runs of a listing to select. A listing ordered first by a metric's last value
/// ([`order_metric`]) is, in order, the runs with a value for it (by that value, then the other
/// terms) followed by the runs without one (missing, or NaN: by the other terms alone). A
/// backend with an index on (metric key, last value) lists the first part by walking that
/// index and stops at the page's end, where the whole listing would sort every run that passes
/// the filter; it lists the second part only when the first runs out within the page (from its
/// start: a page starting past the first part is the whole listing's). The parts name the
/// metric by its key id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListPart {
    /// The whole listing.
    All,
    /// The runs with a non-NaN last value of the metric, by that value (then the other terms).
    With(i64),
    /// The other runs, by the other terms.
    Without(i64),
}

/// [`list_runs_sql`] for one [`ListPart`] (with `q`'s limit and offset applied to that part).
/// The parts other than `All` need [`order_metric`] to be `Some`.
pub fn list_runs_part_sql(
    dialect: Dialect,
    q: &crate::RunQuery,
    stale_before_ms: i64,
    now_ms: i64,
    gone: &[i64],
    columns: &str,
    part: ListPart,
) -> Result<(String, Vec<Param>)> {
    let mut sql = SqlBuilder::for_dialect(dialect, stale_before_ms, now_ms).with_gone(gone);
    let mut from = "runs r JOIN projects p ON p.id = r.project_id".to_string();
    let mut wheres = Vec::new();
    if !q.include_deleted {
        wheres.push("r.deleted_ms IS NULL".to_string());
    }
    if let Some(p) = &q.project {
        let ph = sql.bind(p.clone());
        wheres.push(format!("p.name = {ph}"));
    }
    if let Some(f) = q.filter.as_deref()
        && let Some(expr) = trackbench_query::parse_filter(f)?
    {
        wheres.push(sql.filter(&expr)?);
    }
    let mut order = Vec::new();
    if let Some(o) = q.order_by.as_deref() {
        let mut terms = trackbench_query::parse_order_by(o)?.into_iter();
        if let ListPart::With(key_id) | ListPart::Without(key_id) = part {
            let first = terms.next();
            if !matches!(first.as_ref().map(|t| &t.field), Some(Field::Metric { agg: Agg::Last, .. })) {
                return Err(StoreError::invalid("order", "a listing cut by a metric needs that metric first"));
            }
            let k = sql.bind(key_id);
            let has = format!("ord.run_id = r.id AND ord.key_id = {k} AND ord.last IS NOT NULL");
            if part == ListPart::Without(key_id) {
                wheres.push(format!("NOT EXISTS (SELECT 1 FROM metric_summaries ord WHERE {has})"));
            } else {
                from.push_str(&format!(" JOIN metric_summaries ord ON {has}"));
                let desc = first.is_some_and(|t| t.descending);
                order.push(format!("ord.last {}", if desc { "DESC" } else { "ASC" }));
            }
        }
        for term in terms {
            order.extend(sql.order_terms(&term.field, term.descending)?);
        }
    }
    order.push("r.created_ms DESC, r.id DESC".to_string());
    let where_sql = if wheres.is_empty() { String::new() } else { format!("WHERE {}", wheres.join(" AND ")) };
    let limit = match (q.limit, dialect) {
        (Some(l), _) => format!("LIMIT {l}"),
        (None, Dialect::Sqlite) => "LIMIT -1".to_string(),
        (None, Dialect::Postgres) => String::new(),
    };
    let text =
        format!("SELECT {columns} FROM {from} {where_sql} ORDER BY {} {limit} OFFSET {}", order.join(", "), q.offset);
    Ok((text, sql.params))
}
