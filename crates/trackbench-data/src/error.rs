//! The crate's one error type: what was wrong with the input, in the input's terms.

use crate::profile::DType;

/// Why a profile could not be built, merged or read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataError {
    #[error("column {0:?} appears more than once")]
    DuplicateColumn(String),
    #[error("column {column:?} has {len} rows, the first column has {expected}")]
    LengthMismatch { column: String, len: usize, expected: usize },
    #[error("column {column:?} mixes types: row {row} is {found}, earlier rows are {expected}")]
    MixedTypes { column: String, row: usize, expected: &'static str, found: &'static str },
    #[error("profiles have different columns (only in the first: {only_left:?}; only in the second: {only_right:?})")]
    SchemaMismatch { only_left: Vec<String>, only_right: Vec<String> },
    #[error("column {column:?} is {left} in one profile and {right} in the other")]
    TypeMismatch { column: String, left: DType, right: DType },
    #[error("invalid option: {0}")]
    InvalidOption(String),
    #[error("corrupt profile: {0}")]
    Corrupt(String),
}
