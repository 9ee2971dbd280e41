//! The run query language: filters (`metrics.acc > 0.9 and params.lr = '0.01'`) and order-by
//! clauses (`min(metrics.loss) asc, attributes.start_time desc`).
//!
//! A superset of MLflow's run filter syntax. This crate only parses and prints: it turns text
//! into an [`Expr`] / [`OrderBy`] tree and back. Turning a tree into SQL is the store's job
//! (`trackbench-store::filter`), so this crate knows nothing about SQL or storage.
//!
//! Grammar (case-insensitive keywords, precedence `not` > `and` > `or`):
//!
//! ```text
//! filter   := or_expr | ""                      (empty filter = match everything)
//! or_expr  := and_expr ( OR and_expr )*
//! and_expr := not_expr ( AND not_expr )*
//! not_expr := NOT not_expr | "(" or_expr ")" | predicate
//! predicate:= field cmp literal
//!           | field [NOT] (LIKE | ILIKE) string
//!           | field [NOT] IN "(" literal ("," literal)* ")"
//!           | field IS [NOT] NULL
//! cmp      := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">="
//! field    := AGG "(" metric ")" | metric | param | tag | attribute
//! metric   := ("metrics" | "metric") "." key     (bare metric = its last value)
//! param    := ("params" | "param" | "parameters" | "parameter") "." key
//! tag      := ("tags" | "tag") "." key
//! attribute:= ("attributes" | "attribute" | "attr" | "run") "." name | name
//! key      := unquoted key (may contain dots, letters, digits, _ - / : @ +) | `back quoted` | "double quoted"
//! AGG      := min | max | mean | avg | last | count | sum
//! literal  := number | 'single quoted' | "double quoted" | true | false
//! order_by := field [ASC | DESC] ( "," field [ASC | DESC] )*
//! ```
//!
//! Every [`ParseError`] carries the byte offset of the offending token so the UI and the CLI
//! can point at it.

mod lex;
mod parse;
mod print;

pub use parse::{Alias, parse_filter, parse_filter_with, parse_order_by, parse_order_by_with};

/// A boolean filter over runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// `field op literal`, e.g. `metrics.acc > 0.9`.
    Compare {
        field: Field,
        op: CmpOp,
        value: Literal,
    },
    /// `field [NOT] LIKE 'pat%'` / `ILIKE` (SQL wildcards `%` and `_`).
    Like {
        field: Field,
        pattern: String,
        case_insensitive: bool,
        negated: bool,
    },
    /// `field [NOT] IN (a, b, c)`; never empty.
    In {
        field: Field,
        values: Vec<Literal>,
        negated: bool,
    },
    /// `field IS [NOT] NULL`: whether the run has the param/tag/metric at all.
    IsNull {
        field: Field,
        negated: bool,
    },
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// What a predicate or an order-by term looks at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    /// A metric summary of one series: `metrics.loss` (= `Agg::Last`) or `min(metrics.loss)`.
    Metric {
        key: String,
        agg: Agg,
    },
    Param(String),
    Tag(String),
    Attr(Attribute),
}

/// Per-series aggregate kept in the store's metric summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Agg {
    /// Value at the greatest step (bare `metrics.k`, as in MLflow).
    Last,
    Min,
    Max,
    /// Mean of the non-NaN points (`mean(...)` or `avg(...)`).
    Mean,
    /// Number of points logged (NaN included).
    Count,
    Sum,
}

/// Run attributes addressable as `attributes.<name>` (or the bare name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Attribute {
    /// `run_id` (also `id`): the run's public id.
    RunId,
    /// `run_name` (also `name`).
    RunName,
    /// `status`: running, finished, failed, killed, crashed.
    Status,
    /// `group`.
    Group,
    /// `project` (also `experiment`): the project name.
    Project,
    /// `start_time`: epoch milliseconds.
    StartTime,
    /// `end_time`: epoch milliseconds (null while running).
    EndTime,
    /// `created` (also `created_time`): epoch milliseconds.
    Created,
    /// `duration`: seconds, end (or now) minus start.
    Duration,
    /// `host`.
    Host,
    /// `notes`.
    Notes,
}

impl Attribute {
    /// Every attribute with its canonical name (the one the printer writes).
    pub const ALL: [(Attribute, &'static str); 11] = [
        (Attribute::RunId, "run_id"),
        (Attribute::RunName, "run_name"),
        (Attribute::Status, "status"),
        (Attribute::Group, "group"),
        (Attribute::Project, "project"),
        (Attribute::StartTime, "start_time"),
        (Attribute::EndTime, "end_time"),
        (Attribute::Created, "created"),
        (Attribute::Duration, "duration"),
        (Attribute::Host, "host"),
        (Attribute::Notes, "notes"),
    ];

    /// Canonical name, e.g. `run_name`.
    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(a, _)| *a == self).map(|(_, n)| *n).unwrap_or("?")
    }
}

/// A literal on the right-hand side of a predicate.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// Any finite number; `inf`/`nan` are not literals.
    Number(f64),
    Str(String),
    Bool(bool),
}

/// One order-by term.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrderBy {
    pub field: Field,
    pub descending: bool,
}

/// A syntax error, pointing at a byte offset of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at position {}", .offset + 1)]
pub struct ParseError {
    /// What was wrong, e.g. "expected a comparison operator after `metrics.acc`".
    pub message: String,
    /// Byte offset (0-based) into the input where the problem starts.
    pub offset: usize,
    /// Length in bytes of the offending token (at least 1 unless at end of input).
    pub len: usize,
}

impl ParseError {
    /// The input with a caret line under the offending token, for terminals.
    pub fn render(&self, input: &str) -> String {
        let col = input.get(..self.offset.min(input.len())).map(|s| s.chars().count()).unwrap_or(0);
        let width = input
            .get(self.offset.min(input.len())..(self.offset + self.len).min(input.len()))
            .map(|s| s.chars().count())
            .unwrap_or(1)
            .max(1);
        format!("{input}\n{}{} {}", " ".repeat(col), "^".repeat(width), self.message)
    }
}
