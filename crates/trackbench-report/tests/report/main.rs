//! The crate's one integration-test binary: golden snapshots of the HTML structure, one SVG
//! chart and the Markdown; PNG size and non-blankness; escaping of hostile strings; CSV/JSON
//! round trips; input validation; the drift section (`drift`). Fixtures are built in code
//! (`fixture`, and `drift`'s own), fixed and small.

mod charts;
mod data;
mod documents;
mod drift;
mod escaping;
mod fixture;

/// Runs `f` with insta writing snapshots to `tests/snapshots/` (not next to each module).
pub fn snapshots<R>(f: impl FnOnce() -> R) -> R {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(f)
}
