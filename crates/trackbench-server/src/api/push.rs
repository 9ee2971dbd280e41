//! The push protocol's own route (`trackbench push`, see `crate::PUSH_PROTOCOL`): an A/B object
//! carried with its id, creation time, runs by arm and verdict, as the laptop's store holds it.
//! Idempotent: an A/B already here gets only what it lacks (runs not yet on an arm, its end
//! when it differs). Its runs must be on the server first (push sends them before).

use std::sync::Arc;

use axum::extract::{Path, State};
use trackbench_store::{AbInfo, StoreError};

use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

use super::AppJson;

pub(super) async fn put_ab(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    JsonBody(ab): JsonBody<AbInfo>,
) -> ApiResult<AppJson> {
    if ab.id != id {
        return Err(ApiError::invalid(format!("the body's A/B id `{}` is not the path's `{id}`", ab.id)));
    }
    let stored = s
        .write(move |st| {
            for r in &ab.runs {
                if let Err(StoreError::RunNotFound(_)) = st.run(&r.run_id) {
                    return Err(ApiError::invalid(format!(
                        "run {} of A/B {id} is not on this server: push the run first",
                        r.run_id
                    )));
                }
            }
            trackbench_store::copy::record_ab(st, &ab)?;
            Ok(st.ab(&id)?)
        })
        .await?;
    Ok(axum::Json(serde_json::to_value(stored).unwrap_or_default()))
}
