//! `demo`: the authz demo blog and its admin commands. `cargo run -p demo` serves it on
//! 127.0.0.1:3000 with an SQLite file, initializing it on the first run.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    demo::cli::run(demo::cli::Cli::parse()).await
}
