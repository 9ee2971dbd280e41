//! Live updates. A watcher thread notices writes to the store — by any process — and publishes
//! them as [`Change`]s on the state's broadcast channel; `GET /api/v1/events` streams them to
//! clients as server-sent events (`event: run_created|run_status|points`, `data: <json>`).
//!
//! Noticing, on SQLite: the `notify` crate watches the store folder (the database and its WAL);
//! each file event, and a short timer as a safety net (and the only trigger where watching is
//! unavailable), checks `PRAGMA data_version` on the watcher's own connection, the truth about
//! whether another connection committed. Only then does it poll the store for what changed.
//!
//! On the team store (PostgreSQL), every replica's watcher listens for the notices writes send
//! on commit (`trackbench_store_pg::ChangeListener`), from any replica, and polls then; a lost
//! database is retried every second until it is back.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use notify::{RecursiveMode, Watcher};
use serde::Deserialize;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use trackbench_store::prelude::*;
use trackbench_store::{Change, Store};

use crate::state::AppState;

/// How often `data_version` is checked when no file event arrives.
const SAFETY_POLL: Duration = Duration::from_millis(100);
/// Polled this often even when nothing was written (a silent run turns crashed).
const STALE_POLL: Duration = Duration::from_secs(5);
/// How long a team server's start waits for its watcher's first cursor.
const WATCH_READY: Duration = Duration::from_secs(10);
/// Events arriving this close together are handled as one.
const COALESCE: Duration = Duration::from_millis(15);

/// Starts the watcher thread; it ends when the server state is dropped.
pub fn spawn_watcher(state: &Arc<AppState>) -> std::io::Result<()> {
    if let Some(team) = state.team.clone() {
        return spawn_team_watcher(state, team);
    }
    let weak = Arc::downgrade(state);
    let store = Store::open(&state.root, trackbench_store::StoreOptions { read_only: true, ..state.opts.clone() })
        .map_err(std::io::Error::other)?;
    let mut cursor = store.change_cursor().map_err(std::io::Error::other)?;
    std::thread::Builder::new().name("trackbench-watch".into()).spawn(move || {
        let (tx, rx) = channel();
        let watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
            if ev.is_ok() {
                let _ = tx.send(());
            }
        })
        .and_then(|mut w| {
            w.watch(store.root(), RecursiveMode::NonRecursive)?;
            Ok(w)
        });
        if let Err(e) = &watcher {
            tracing::warn!(error = %e, "file watching unavailable; polling the store instead");
        }
        let mut version = store.data_version().unwrap_or(0);
        let mut last_poll = std::time::Instant::now();
        loop {
            match rx.recv_timeout(SAFETY_POLL) {
                Ok(()) => {
                    std::thread::sleep(COALESCE);
                    while rx.try_recv().is_ok() {}
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => std::thread::sleep(SAFETY_POLL),
            }
            let Some(state) = weak.upgrade() else { break };
            let v = match store.data_version() {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!(error = %e, "watcher could not read the store");
                    continue;
                }
            };
            // Crash detection is time-based: poll anyway every few seconds.
            if v == version && last_poll.elapsed() < STALE_POLL {
                continue;
            }
            version = v;
            last_poll = std::time::Instant::now();
            match store.poll_changes(&mut cursor) {
                Ok(changes) => publish(&state, changes),
                Err(e) => tracing::warn!(error = %e, "watcher could not poll changes"),
            }
            drop(state);
        }
        drop(watcher);
    })?;
    Ok(())
}

/// The team store's watcher: waits on `LISTEN`, polls on a notice (and every few seconds, for
/// runs that turn crashed by silence), reconnects when the database comes back.
fn spawn_team_watcher(state: &Arc<AppState>, team: crate::state::TeamStore) -> std::io::Result<()> {
    let weak = Arc::downgrade(state);
    let opts = state.opts.clone();
    let connect = move || -> trackbench_store::Result<_> {
        let listener = trackbench_store_pg::ChangeListener::connect(&team.url)?;
        let store = team.connect(&opts)?;
        Ok((listener, store))
    };
    // The client is synchronous: it connects on the watcher's own thread, never on the
    // runtime's. A cursor from the first connection starts at the store as it is, so the
    // server waits for it before it takes requests: a write before it would never be told.
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    let mut ready = Some(ready_tx);
    std::thread::Builder::new().name("trackbench-watch".into()).spawn(move || {
        let mut conn: Option<(trackbench_store_pg::ChangeListener, trackbench_store_pg::PgStore)> = None;
        let mut cursor = None;
        let mut last_poll = std::time::Instant::now();
        // After a reconnect, notices sent meanwhile were lost: poll at once.
        let mut catch_up = false;
        loop {
            if weak.strong_count() == 0 {
                break;
            }
            let Some((listener, store)) = conn.as_mut() else {
                match connect() {
                    Ok(c) => {
                        conn = Some(c);
                        catch_up = true;
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "watcher: the database is unavailable");
                        std::thread::sleep(Duration::from_secs(1));
                    }
                }
                continue;
            };
            let cursor = match &mut cursor {
                Some(c) => c,
                None => match store.change_cursor() {
                    Ok(c) => {
                        if let Some(tx) = ready.take() {
                            let _ = tx.send(());
                        }
                        cursor.insert(c)
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "watcher could not read the store");
                        conn = None;
                        continue;
                    }
                },
            };
            // Short waits, so a dropped server state ends the thread soon.
            let heard = match listener.wait(Duration::from_millis(250)) {
                Ok(heard) => heard,
                Err(e) => {
                    tracing::warn!(error = %e, "watcher lost the database; reconnecting");
                    conn = None;
                    continue;
                }
            };
            if !heard && !catch_up && last_poll.elapsed() < STALE_POLL {
                continue;
            }
            last_poll = std::time::Instant::now();
            catch_up = false;
            let Some(state) = weak.upgrade() else { break };
            match store.poll_changes(cursor) {
                Ok(changes) => publish(&state, changes),
                Err(e) => {
                    tracing::warn!(error = %e, "watcher could not poll changes");
                    conn = None;
                }
            }
        }
    })?;
    if ready_rx.recv_timeout(WATCH_READY).is_err() {
        tracing::warn!("the live-events watcher is not connected yet; events start once it is");
    }
    Ok(())
}

fn publish(state: &AppState, changes: Vec<Change>) {
    for c in changes {
        // No subscriber is fine.
        let _ = state.events.send(Arc::new(c));
    }
}

#[derive(Deserialize)]
pub struct EventsQuery {
    /// Only events of this project.
    project: Option<String>,
    /// Only events of this run.
    run: Option<String>,
}

fn kind(c: &Change) -> (&'static str, &str, &str) {
    match c {
        Change::RunCreated { run, project, .. } => ("run_created", run, project),
        Change::RunStatus { run, project, .. } => ("run_status", run, project),
        Change::Points { run, project, .. } => ("points", run, project),
    }
}

/// `GET /api/v1/events`: server-sent events of store changes.
pub async fn events(
    State(state): State<Arc<AppState>>,
    caller: Option<axum::Extension<crate::access::Caller>>,
    Query(q): Query<EventsQuery>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = state.events.subscribe();
    let hello = tokio_stream::once(Ok(Event::default().event("hello").data("{}")));
    let stream = BroadcastStream::new(rx).filter_map(move |msg| match msg {
        Ok(change) => {
            let (name, run, project) = kind(&change);
            if q.project.as_deref().is_some_and(|p| p != project)
                || q.run.as_deref().is_some_and(|r| r != run)
                || !crate::access::can_read(&caller, project)
            {
                return None;
            }
            let data = serde_json::to_string(&*change).unwrap_or_default();
            Some(Ok(Event::default().event(name).data(data)))
        }
        // The client fell behind: tell it to reload rather than pretend nothing was missed.
        Err(BroadcastStreamRecvError::Lagged(n)) => {
            Some(Ok(Event::default().event("resync").data(format!("{{\"missed\":{n}}}"))))
        }
    });
    // Ends when the server shuts down (the client's EventSource reconnects to whatever comes next).
    let mut stopping = state.stopping.subscribe();
    let stopped = async move {
        let _ = stopping.wait_for(|s| *s).await;
    };
    let stream = futures_util::StreamExt::take_until(hello.chain(stream), stopped);
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
