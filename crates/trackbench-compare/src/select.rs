//! Which runs to compare: named runs, a filter expression, or a run group, resolved through
//! the store's public API into [`RunInfo`]s in a deterministic order.

use std::collections::HashSet;

use serde::Serialize;
use trackbench_store::prelude::*;
use trackbench_store::{RunInfo, RunQuery, RunStatus};

use crate::error::Result;

/// The runs a comparison is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Runs as a user names them: full ids, unique id prefixes (4+ characters) or unique run
    /// names. Kept in the order given; a run named twice is compared once. Deleted runs are
    /// included when named.
    Ids(Vec<String>),
    /// Every non-deleted run matching a filter in the query language (`None`: every run),
    /// optionally within one project; newest first, like `trackbench runs ls`.
    Filter { project: Option<String>, filter: Option<String> },
    /// Every non-deleted run whose `group` is exactly this name (the seeds of one variant),
    /// optionally within one project; newest first.
    Group { project: Option<String>, group: String },
}

impl Selection {
    /// The runs selected, possibly none. Errors: an unknown or ambiguous run name, a bad
    /// filter ([`trackbench_store::StoreError::Filter`], with the byte offset).
    pub fn resolve(&self, store: &dyn Backend) -> Result<Vec<RunInfo>> {
        Ok(match self {
            Selection::Ids(names) => {
                let mut seen = HashSet::new();
                let mut runs = Vec::with_capacity(names.len());
                for name in names {
                    let id = store.resolve_run(name)?;
                    if seen.insert(id.clone()) {
                        runs.push(store.run(&id)?);
                    }
                }
                runs
            }
            Selection::Filter { project, filter } => store.list_runs(&RunQuery {
                project: project.clone(),
                filter: filter.clone(),
                ..RunQuery::default()
            })?,
            Selection::Group { project, group } => store
                .list_runs(&RunQuery { project: project.clone(), ..RunQuery::default() })?
                .into_iter()
                .filter(|r| r.group.as_deref() == Some(group.as_str()))
                .collect(),
        })
    }

    /// A few words saying what was selected, for messages ("filter `lr > 0.1`").
    pub fn describe(&self) -> String {
        let within = |p: &Option<String>| p.as_ref().map(|p| format!(" in project `{p}`")).unwrap_or_default();
        match self {
            Selection::Ids(names) => format!("{} named run(s)", names.len()),
            Selection::Filter { project, filter: Some(f) } => format!("filter `{f}`{}", within(project)),
            Selection::Filter { project: Some(p), filter: None } => format!("project `{p}`"),
            Selection::Filter { project: None, filter: None } => "every run".to_string(),
            Selection::Group { project, group } => format!("group `{group}`{}", within(project)),
        }
    }
}

/// The few attributes of a run a comparison shows next to its numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRef {
    pub id: String,
    pub name: String,
    pub project: String,
    pub status: RunStatus,
    pub group: Option<String>,
}

impl From<&RunInfo> for RunRef {
    fn from(r: &RunInfo) -> RunRef {
        RunRef {
            id: r.id.clone(),
            name: r.name.clone(),
            project: r.project.clone(),
            status: r.status,
            group: r.group.clone(),
        }
    }
}
