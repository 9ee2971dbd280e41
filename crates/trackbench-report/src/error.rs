//! The crate's error type: inputs that cannot be drawn, and (should they ever happen) failures of
//! the drawing or template libraries.

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The input breaks a rule of the model (e.g. `x` and `y` of different lengths).
    #[error("invalid report input: {what}: {why}")]
    Invalid { what: String, why: String },
    /// plotters failed while drawing a chart.
    #[error("drawing the chart of {metric:?} failed: {message}")]
    Chart { metric: String, message: String },
    /// A template failed to render.
    #[error("rendering the {template} template failed: {message}")]
    Template { template: String, message: String },
}
