//! `demo`: the authz demo blog and its admin commands. `cargo run -p demo` serves it on
//! 127.0.0.1:3000 with an SQLite file, initializing it on the first run.
//!
//! It logs to stderr. `RUST_LOG` chooses what (`RUST_LOG=debug`, `RUST_LOG=authz=debug`);
//! without it, [`DEFAULT_LOG`].

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// What is logged when `RUST_LOG` does not say: `info` and above, which has authz's denials
/// (target `authz`, with the rule and the user), the causes of its 503s, failed requests and
/// sign-ins, and the store's migrations (`authz::sql`), but not every SQL statement; of sqlx,
/// only warnings (not the database's notices, such as PostgreSQL's "already exists,
/// skipping" at every migration check).
const DEFAULT_LOG: &str = "info,sqlx=warn";

#[tokio::main]
async fn main() -> ExitCode {
    log_to_stderr();
    demo::cli::run(demo::cli::Cli::parse()).await
}

/// Installs the log: stderr, so that stdout keeps only what the commands print, in colour
/// only when someone is watching.
fn log_to_stderr() {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.is_empty() => EnvFilter::builder().parse_lossy(directives),
        _ => EnvFilter::new(DEFAULT_LOG),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
