//! The demo's server loop: what `axum::serve` does, with time limits on clients and requests.
//!
//! `axum::serve` gives its connections no timer, so a client that sends half its headers and
//! waits keeps its connection, and the task serving it, for as long as it likes; a few hundred
//! such clients exhaust the server. Here every connection is hyper's HTTP/1 with a header
//! read timeout. (Every request's time limit is the app's: see
//! [`Settings::request_timeout`](crate::web::Settings::request_timeout).)

use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::Service;

/// How long the server waits for its clients, and for itself.
///
/// ```
/// use std::time::Duration;
/// use demo::server::Limits;
///
/// let limits = Limits::default();
/// assert_eq!(limits.header_read_timeout, Duration::from_secs(10));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long a client has to send a request's headers, from its connection (or its last
    /// answer, on a kept-alive connection) to the blank line: past it the connection is closed
    /// without an answer. This also bounds how long an idle connection stays open.
    pub header_read_timeout: Duration,
}

impl Default for Limits {
    /// Ten seconds for headers, which a browser sends at once.
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
        }
    }
}

/// Serves `app` on `listener` within `limits` until `shutdown` completes, then stops accepting
/// and waits for the connections to finish their requests (as `axum::serve`'s graceful
/// shutdown does).
///
/// Each request carries [`ConnectInfo<SocketAddr>`](axum::extract::ConnectInfo), the client's
/// address, as with `into_make_service_with_connect_info::<SocketAddr>()`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let mut connect = app.into_make_service_with_connect_info::<SocketAddr>();
    // hyper's own HTTP/1 rather than hyper-util's `auto` builder (which `axum::serve` uses):
    // `auto` first reads ahead for HTTP/2's preface, with no timer, so a client that sends
    // nothing, or the first bytes of the preface, would never be timed out.
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let connections = GracefulShutdown::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, client) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    refused(error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(service) = connect.call(client).await;
        let connection = connections
            .watch(http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)));
        tokio::spawn(async move {
            // A client gone or timed out: nothing to answer, and nothing the operator can fix.
            if let Err(error) = connection.await {
                tracing::debug!(%client, %error, "connection closed");
            }
        });
    }
    drop(listener);
    connections.shutdown().await;
}

/// After a failed `accept`: a connection that failed before it was accepted concerns that
/// client only; anything else (out of file descriptors) persists for a while, so wait before
/// the next try rather than spin.
async fn refused(error: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "cannot accept connections; trying again in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
