//! The push protocol's own route (`trackbench push`, see `crate::PUSH_PROTOCOL`): an A/B object
//! carried with its id, creation time, runs by arm and verdict, as the laptop's store holds it.
//! Idempotent: an A/B already here gets only what it lacks (runs not yet on an arm, its end
//! when it differs). Its runs must be on the server first (push sends them before).

use std::sync::Arc;

use axum::extract::{Path, State};
use trackbench_store::{AbInfo, NewAb, StoreError};

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
            let have = match st.ab(&id) {
                Ok(have) => Some(have),
                Err(StoreError::AbNotFound(_)) => None,
                Err(e) => return Err(e.into()),
            };
            for r in &ab.runs {
                if let Err(StoreError::RunNotFound(_)) = st.run(&r.run_id) {
                    return Err(ApiError::invalid(format!(
                        "run {} of A/B {id} is not on this server: push the run first",
                        r.run_id
                    )));
                }
            }
            if have.is_none() {
                let new = NewAb {
                    project: ab.project.clone(),
                    name: ab.name.clone(),
                    metric: ab.metric.clone(),
                    direction: ab.direction.clone(),
                    spec: ab.spec.clone(),
                };
                st.create_ab_with_id(&id, &new, Some(ab.created_ms))?;
            }
            for r in &ab.runs {
                st.add_ab_run(&id, r.arm, &r.run_id, r.seq)?;
            }
            let now = st.ab(&id)?;
            let ended = !matches!(ab.status, trackbench_store::RunStatus::Running);
            if ended
                && (now.status, &now.result, &now.error, now.ended_ms)
                    != (ab.status, &ab.result, &ab.error, ab.ended_ms)
            {
                st.finish_ab_at(&id, ab.status, ab.result.as_ref(), ab.error.as_deref(), ab.ended_ms)?;
            }
            Ok(st.ab(&id)?)
        })
        .await?;
    Ok(axum::Json(serde_json::to_value(stored).unwrap_or_default()))
}
