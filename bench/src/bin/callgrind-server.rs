//! The server of the instruction-count benchmark (`bench/callgrind.sh`): one trivial handler
//! on 127.0.0.1 under four arrangements of layers, run under valgrind's callgrind, which counts
//! the instructions it executes whatever else the machine is doing.
//!
//! ```text
//! callgrind-server --requests N [--port 3931] [--lifetime-secs 300]
//! ```
//!
//! It serves on a current-thread tokio runtime, one thread, and stops by itself once it has
//! answered `--requests` requests (then it finishes the connections it has and returns from
//! `main`, so that callgrind writes its counts), or after `--lifetime-secs` whatever happened,
//! in which case it exits with a failure.
//!
//! The routes, each in its own `Router` merged into one app, so that a layer wraps only the
//! route it is stated for:
//!
//! - `/bare`: the handler, no layer at all;
//! - `/passthrough`: the handler under a `route_layer` whose service only forwards (a
//!   hand-written `Layer` + `Service` whose future is the inner one's, which is the least any
//!   layer can do): what axum charges for any route layer;
//! - `/guarded`: the handler behind `#[require(has_permission("manage"))]`, with
//!   [`AuthzLayer`] added by `route_layer` to that route alone;
//! - `/guarded-layered`: the same guarded handler with [`AuthzLayer`] added by `Router::layer`,
//!   as most applications add it, for reference.
//!
//! Both guarded routes authenticate with [`TestAuthenticator`] (the `x-test-user` header) on a
//! warm [`authz_bench::store`]. Every handler counts the request it answers (one atomic
//! increment, the same on every route) so that the server knows when to stop.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use authz_bench::{BODY, store};
use authz_runtime::testing::TestAuthenticator;
use authz_runtime::{AuthzLayer, require};
use axum::Router;
use axum::routing::get;
use axum::serve::ListenerExt;
use tokio::sync::Notify;
use tower_layer::Layer;
use tower_service::Service;

/// Requests answered so far, on every route.
static SERVED: AtomicU64 = AtomicU64::new(0);
/// How many to answer before stopping.
static LIMIT: AtomicU64 = AtomicU64::new(u64::MAX);
/// Told once the last of them is being answered.
static DONE: Notify = Notify::const_new();

/// Counts one answered request, and says so when it was the last.
fn served() {
    if SERVED.fetch_add(1, Ordering::Relaxed) + 1 == LIMIT.load(Ordering::Relaxed) {
        DONE.notify_one();
    }
}

async fn handler() -> &'static str {
    served();
    BODY
}

#[require(has_permission("manage"))]
async fn guarded() -> &'static str {
    served();
    BODY
}

/// A layer that does nothing: its service hands every request to the inner one and returns
/// the inner future as it is, neither boxed nor wrapped.
#[derive(Clone, Copy)]
struct PassThroughLayer;

impl<S> Layer<S> for PassThroughLayer {
    type Service = PassThrough<S>;

    fn layer(&self, inner: S) -> Self::Service {
        PassThrough { inner }
    }
}

#[derive(Clone)]
struct PassThrough<S> {
    inner: S,
}

impl<S: Service<R>, R> Service<R> for PassThrough<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        self.inner.call(request)
    }
}

fn app() -> Router {
    let bare = Router::new().route("/bare", get(handler));
    let passthrough = Router::new()
        .route("/passthrough", get(handler))
        .route_layer(PassThroughLayer);
    let guarded_route = Router::new()
        .route("/guarded", get(guarded))
        .route_layer(AuthzLayer::new(TestAuthenticator::default(), store()));
    let guarded_layered = Router::new()
        .route("/guarded-layered", get(guarded))
        .layer(AuthzLayer::new(TestAuthenticator::default(), store()));
    Router::new()
        .merge(bare)
        .merge(passthrough)
        .merge(guarded_route)
        .merge(guarded_layered)
}

struct Options {
    port: u16,
    requests: u64,
    lifetime: Duration,
}

fn options() -> Result<Options, String> {
    let mut port = 3931;
    let mut requests = None;
    let mut lifetime = Duration::from_secs(300);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| format!("`{flag}` needs a value"))?;
        let number = |what: &str| {
            value
                .parse::<u64>()
                .map_err(|_| format!("`{flag}` takes {what}, not `{value}`"))
        };
        match flag.as_str() {
            "--port" => port = u16::try_from(number("a port")?).map_err(|_| "port too large")?,
            "--requests" => requests = Some(number("a count")?),
            "--lifetime-secs" => lifetime = Duration::from_secs(number("seconds")?),
            _ => {
                return Err(format!(
                    "unknown option `{flag}`; expected one of: --port, --requests, \
                     --lifetime-secs"
                ));
            }
        }
    }
    let requests = requests
        .filter(|&requests| requests > 0)
        .ok_or("`--requests N` (N > 0) is required")?;
    Ok(Options {
        port,
        requests,
        lifetime,
    })
}

fn main() -> ExitCode {
    let options = match options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("callgrind-server: {message}");
            return ExitCode::FAILURE;
        }
    };
    LIMIT.store(options.requests, Ordering::Relaxed);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let served = runtime.block_on(async {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, options.port));
        let listener = tokio::net::TcpListener::bind(address)
            .await?
            .tap_io(|stream| {
                // Small request, small response: no Nagle delay on either side.
                let _ = stream.set_nodelay(true);
            });
        eprintln!(
            "callgrind-server listening on http://{address} for {} request(s), at most {} s",
            options.requests,
            options.lifetime.as_secs()
        );
        let serve = axum::serve(listener, app()).with_graceful_shutdown(DONE.notified());
        Ok::<_, std::io::Error>(tokio::time::timeout(options.lifetime, serve).await)
    });
    let count = SERVED.load(Ordering::Relaxed);
    match served {
        Ok(Ok(Ok(()))) => {
            eprintln!("callgrind-server: served {count} request(s), stopping");
            ExitCode::SUCCESS
        }
        Ok(Err(_)) => {
            eprintln!(
                "callgrind-server: lifetime over after {count} of {} request(s)",
                options.requests
            );
            ExitCode::FAILURE
        }
        Err(error) | Ok(Ok(Err(error))) => {
            eprintln!("callgrind-server: {error}");
            ExitCode::FAILURE
        }
    }
}
