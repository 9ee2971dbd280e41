//! Connections: the accept loop and what bounds a client that is slow or gone quiet, so a
//! thousand half-sent requests cannot use up the server's open files and stop it accepting.
//!
//! - **Header read**: a request's head (request line and headers) must arrive within
//!   [`ConnLimits::header_read_timeout`], counted from the connection's start or from the end
//!   of its previous response (hyper's timer; so it is also how long an idle kept-alive
//!   connection stays open). Then the connection is closed.
//! - **Idle transfer**: a request body that stops arriving, or a response that the client
//!   stops reading, fails after [`ConnLimits::idle_timeout`] without a byte moving. Time a
//!   handler spends working is not counted, nor the quiet between live events (the events
//!   stream sends a keep-alive comment every 15 s anyway).
//! - **Cap**: at most [`ConnLimits::max_connections`] connections are served at once; more wait
//!   in the operating system's accept queue (holding none of this process's files) until one
//!   closes. An accept error (`EMFILE` when files run out after all) is logged and retried
//!   after a short pause instead of ending the loop.
//!
//! Graceful stop: no new connections; each open one finishes its request in flight and closes;
//! [`serve`] returns when all are closed.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::Request;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::time::Sleep;
use tower::ServiceExt;

/// Bounds on each client connection; see the module docs.
#[derive(Debug, Clone)]
pub struct ConnLimits {
    /// Longest wait for a request's head; also how long an idle kept-alive connection lives.
    pub header_read_timeout: Duration,
    /// Longest pause, once a request is under way, in receiving its body or in the client
    /// taking the response.
    pub idle_timeout: Duration,
    /// Most connections served at once (at least 1).
    pub max_connections: usize,
}

impl Default for ConnLimits {
    fn default() -> ConnLimits {
        ConnLimits {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 512,
        }
    }
}

/// Pause after an accept error that is not about one connection (out of files, out of memory).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Least time between two warnings about failing accepts.
const WARN_EVERY: Duration = Duration::from_secs(5);

/// Serves `app` on `listener` until `shutdown` completes, then stops gracefully.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    // Every connection task holds a receiver: the sender sees them all gone when the last ends.
    let (open_tx, open_rx) = watch::channel(());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut warned: Option<tokio::time::Instant> = None;
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = &mut shutdown => break,
        };
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                // Once every few seconds: the condition (out of files) tends to last a while.
                if warned.is_none_or(|t| t.elapsed() >= WARN_EVERY) {
                    tracing::warn!(error = %e, "accepting a connection failed; retrying shortly");
                    warned = Some(tokio::time::Instant::now());
                }
                tokio::select! {
                    _ = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                    _ = &mut shutdown => break,
                }
            }
        };
        let (app, limits, open, stop) = (app.clone(), limits.clone(), open_rx.clone(), stop_rx.clone());
        tokio::spawn(async move {
            serve_connection(stream, app, &limits, stop).await;
            tracing::trace!(%peer, "connection closed");
            drop((permit, open));
        });
    }
    drop(listener);
    stop_tx.send_replace(true);
    drop(open_rx);
    open_tx.closed().await;
    Ok(())
}

/// Errors of one connection attempt (the client gave up): nothing to wait out.
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(e.kind(), ConnectionRefused | ConnectionAborted | ConnectionReset)
}

async fn serve_connection(stream: TcpStream, app: Router, limits: &ConnLimits, mut stop: watch::Receiver<bool>) {
    let _ = stream.set_nodelay(true);
    let idle = limits.idle_timeout;
    let io = TokioIo::new(IdleIo { inner: stream, idle, stalled: None });
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let req = req.map(|b| Body::new(IdleBody { inner: b, idle, stalled: None }));
        app.clone().oneshot(req)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    let conn = builder.serve_connection(io, service);
    let mut conn = std::pin::pin!(conn);
    let mut stopping = false;
    loop {
        tokio::select! {
            done = conn.as_mut() => {
                if let Err(e) = done {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            _ = stop.wait_for(|s| *s), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Polls `stalled` (armed on first use) and answers a timeout error once it fires.
fn stall(stalled: &mut Option<Pin<Box<Sleep>>>, idle: Duration, cx: &mut Context<'_>) -> Poll<std::io::Error> {
    let sleep = stalled.get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
    ready!(sleep.as_mut().poll(cx));
    Poll::Ready(std::io::Error::new(std::io::ErrorKind::TimedOut, format!("no progress for {idle:?}")))
}

/// The socket, failing a write that has waited on the client for `idle` (the client is not
/// reading its response). Reads are left alone: hyper keeps one pending between requests.
struct IdleIo {
    inner: TcpStream,
    idle: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
}

impl IdleIo {
    fn progress<T>(&mut self, r: Poll<std::io::Result<T>>, cx: &mut Context<'_>) -> Poll<std::io::Result<T>> {
        match r {
            Poll::Ready(r) => {
                self.stalled = None;
                Poll::Ready(r)
            }
            Poll::Pending => stall(&mut self.stalled, self.idle, cx).map(Err),
        }
    }
}

impl AsyncRead for IdleIo {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for IdleIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.progress(r, cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.progress(r, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_flush(cx);
        self.progress(r, cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A request body that fails when the handler has waited `idle` for its next bytes.
struct IdleBody {
    inner: Incoming,
    idle: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
}

impl hyper::body::Body for IdleBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.stalled = None;
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => stall(&mut this.stalled, this.idle, cx).map(|e| Some(Err(e.into()))),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
