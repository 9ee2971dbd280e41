//! The input side: a table as named, typed columns borrowed from the caller, with nulls as
//! `None`, so the SDKs can hand over Arrow, numpy or pandas buffers without building rows.

/// One named column of a table.
#[derive(Debug, Clone, Copy)]
pub struct Column<'a> {
    pub name: &'a str,
    pub values: ColumnValues<'a>,
}

impl<'a> Column<'a> {
    /// A column named `name` holding `values`.
    pub fn new(name: &'a str, values: ColumnValues<'a>) -> Self {
        Column { name, values }
    }

    /// How many rows it has.
    pub fn len(&self) -> usize {
        match self.values {
            ColumnValues::F64(v) => v.len(),
            ColumnValues::F64Opt(v) => v.len(),
            ColumnValues::I64(v) => v.len(),
            ColumnValues::Bool(v) => v.len(),
            ColumnValues::Str(v) => v.len(),
            ColumnValues::Any(v) => v.len(),
        }
    }

    /// Whether it has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A column's values, one variant per physical type.
#[derive(Debug, Clone, Copy)]
pub enum ColumnValues<'a> {
    /// Floats without nulls (a numpy array); NaN and ±inf are counted apart, not nulls.
    F64(&'a [f64]),
    /// Floats with nulls.
    F64Opt(&'a [Option<f64>]),
    /// Integers with nulls; profiled as numbers (exact as `f64` up to 2^53 in magnitude).
    I64(&'a [Option<i64>]),
    /// Booleans with nulls; profiled as the categories `false` and `true`.
    Bool(&'a [Option<bool>]),
    /// Strings with nulls; profiled as categories.
    Str(&'a [Option<&'a str>]),
    /// Values of any type (a pandas `object` column): numbers (ints and floats together),
    /// booleans or strings, with nulls; a column mixing those kinds is an error.
    Any(&'a [Value<'a>]),
}

/// One cell of an [`ColumnValues::Any`] column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Null,
    F64(f64),
    I64(i64),
    Bool(bool),
    Str(&'a str),
}

impl Value<'_> {
    /// The kind's name as errors print it.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::F64(_) | Value::I64(_) => "a number",
            Value::Bool(_) => "a boolean",
            Value::Str(_) => "a string",
        }
    }
}
