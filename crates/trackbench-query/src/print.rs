//! Canonical printing of the AST: `Display` for [`Expr`], [`Field`], [`Literal`] and
//! [`OrderBy`]. What is printed parses back to an equal tree.
//!
//! The canonical form uses lowercase keywords, full prefixes (`metrics.`, `params.`, `tags.`,
//! `attributes.`), backquotes around keys that are not plain words, single-quoted strings with
//! `''` for a quote, and parentheses around every `and` / `or` operand that is itself an
//! `and` / `or` and around every `not` operand.

use std::fmt::{self, Display, Formatter, Write};

use crate::lex::is_word_char;
use crate::{Agg, CmpOp, Expr, Field, Literal, OrderBy};

impl CmpOp {
    /// The canonical spelling: `=`, `!=`, `<`, `<=`, `>`, `>=`.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

impl Agg {
    /// The canonical function name (`last`, `min`, `max`, `mean`, `count`, `sum`).
    pub fn name(self) -> &'static str {
        match self {
            Agg::Last => "last",
            Agg::Min => "min",
            Agg::Max => "max",
            Agg::Mean => "mean",
            Agg::Count => "count",
            Agg::Sum => "sum",
        }
    }
}

/// Writes `s` between `quote`s, doubling any `quote` inside.
fn write_quoted(f: &mut Formatter<'_>, s: &str, quote: char) -> fmt::Result {
    f.write_char(quote)?;
    for c in s.chars() {
        if c == quote {
            f.write_char(quote)?;
        }
        f.write_char(c)?;
    }
    f.write_char(quote)
}

/// Writes a key bare when it is a plain word, else in backquotes.
fn write_key(f: &mut Formatter<'_>, key: &str) -> fmt::Result {
    if !key.is_empty() && key.chars().all(is_word_char) { f.write_str(key) } else { write_quoted(f, key, '`') }
}

impl Display for Field {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Field::Metric { key, agg: Agg::Last } => {
                f.write_str("metrics.")?;
                write_key(f, key)
            }
            Field::Metric { key, agg } => {
                write!(f, "{}(metrics.", agg.name())?;
                write_key(f, key)?;
                f.write_char(')')
            }
            Field::Param(key) => {
                f.write_str("params.")?;
                write_key(f, key)
            }
            Field::Tag(key) => {
                f.write_str("tags.")?;
                write_key(f, key)
            }
            Field::Attr(attr) => write!(f, "attributes.{}", attr.name()),
        }
    }
}

impl Display for Literal {
    /// Numbers print in the shortest form that reads back exactly (exponent notation when very
    /// large or small); non-finite numbers print as `NaN` / `inf`, which do not parse.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Number(n) if *n != 0.0 && !(1e-5..1e16).contains(&n.abs()) => {
                write!(f, "{n:e}")
            }
            Literal::Number(n) => write!(f, "{n}"),
            Literal::Str(s) => write_quoted(f, s, '\''),
            Literal::Bool(b) => write!(f, "{b}"),
        }
    }
}

impl Display for OrderBy {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.field, if self.descending { " desc" } else { "" })
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        /// An `and` / `or` operand, in parentheses when it is an `and` / `or` itself.
        fn operand(f: &mut Formatter<'_>, e: &Expr) -> fmt::Result {
            match e {
                Expr::And(..) | Expr::Or(..) => write!(f, "({e})"),
                _ => write!(f, "{e}"),
            }
        }
        let not = |negated: bool| if negated { "not " } else { "" };
        match self {
            Expr::And(l, r) | Expr::Or(l, r) => {
                operand(f, l)?;
                f.write_str(if matches!(self, Expr::And(..)) { " and " } else { " or " })?;
                operand(f, r)
            }
            Expr::Not(e) => write!(f, "not ({e})"),
            Expr::Compare { field, op, value } => write!(f, "{field} {} {value}", op.symbol()),
            Expr::Like { field, pattern, case_insensitive, negated } => {
                let like = if *case_insensitive { "ilike" } else { "like" };
                write!(f, "{field} {}{like} ", not(*negated))?;
                write_quoted(f, pattern, '\'')
            }
            Expr::In { field, values, negated } => {
                write!(f, "{field} {}in (", not(*negated))?;
                for (i, v) in values.iter().enumerate() {
                    write!(f, "{}{v}", if i == 0 { "" } else { ", " })?;
                }
                f.write_char(')')
            }
            Expr::IsNull { field, negated } => write!(f, "{field} is {}null", not(*negated)),
        }
    }
}
