//! What `compare` and `report` share: choosing runs (names, a filter or a project), the
//! direction flag, and mapping comparison errors to the store's errors for exit codes.

use clap::{Args, ValueEnum};
use trackbench_compare::{CompareError, Direction, Selection};
use trackbench_store::RunInfo;
use trackbench_store::prelude::*;

use crate::output::LAST_FILTER;

/// The runs a command works on.
#[derive(Args)]
pub struct RunSelection {
    /// Runs: ids, unique id prefixes (4+ characters) or unique names
    #[arg(conflicts_with_all = ["filter", "project"])]
    pub runs: Vec<String>,
    /// The runs matching a filter instead, e.g. "params.lr < 0.1 and status = 'finished'"
    #[arg(long, short)]
    pub filter: Option<String>,
    /// Only runs of this project (alone: every run of it)
    #[arg(long, short)]
    pub project: Option<String>,
}

impl RunSelection {
    /// No run named, no filter and no project.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty() && self.filter.is_none() && self.project.is_none()
    }

    /// The selection and its runs; no run at all is an error.
    pub fn resolve(&self, store: &dyn Backend) -> anyhow::Result<(Selection, Vec<RunInfo>)> {
        if self.is_empty() {
            return Err(anyhow::Error::new(trackbench_store::StoreError::Invalid {
                what: "selection",
                why: "name runs, or give --filter or --project".into(),
            }));
        }
        let selection = if self.runs.is_empty() {
            LAST_FILTER.with(|f| *f.borrow_mut() = self.filter.clone());
            Selection::Filter { project: self.project.clone(), filter: self.filter.clone() }
        } else {
            Selection::Ids(self.runs.clone())
        };
        let runs = selection.resolve(store).map_err(lift)?;
        if runs.is_empty() {
            return Err(lift(CompareError::NoRuns(format!("{} matches none", selection.describe()))));
        }
        Ok((selection, runs))
    }
}

/// `--direction max|min`.
#[derive(Clone, Copy, ValueEnum)]
pub enum DirectionArg {
    /// Higher is better
    #[value(alias = "maximize")]
    Max,
    /// Lower is better
    #[value(alias = "minimize")]
    Min,
}

impl From<DirectionArg> for Direction {
    fn from(d: DirectionArg) -> Direction {
        match d {
            DirectionArg::Max => Direction::Maximize,
            DirectionArg::Min => Direction::Minimize,
        }
    }
}

/// A comparison error as the store's own error where it is one, so `main` maps its exit code.
pub fn lift(e: CompareError) -> anyhow::Error {
    match e {
        CompareError::Store(s) => anyhow::Error::new(s),
        other => anyhow::Error::new(other),
    }
}
