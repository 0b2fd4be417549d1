//! The server of the load test: [`authz_bench::app`] on 127.0.0.1.
//!
//! ```text
//! bench-server [--port 3917] [--threads N] [--lifetime-secs 900]
//! ```
//!
//! It listens on 127.0.0.1 only, and stops by itself after `--lifetime-secs` in case whoever
//! started it does not. `bench/run-load.sh` runs it with the load generator.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use authz_bench::app;
use axum::serve::ListenerExt;

struct Options {
    port: u16,
    threads: usize,
    lifetime: Duration,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        port: 3917,
        threads: std::thread::available_parallelism().map_or(1, usize::from),
        lifetime: Duration::from_secs(900),
    };
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
            "--port" => {
                options.port = u16::try_from(number("a port")?).map_err(|_| "port too large")?;
            }
            "--threads" => {
                options.threads = usize::try_from(number("a thread count")?)
                    .map_err(|_| "too many threads")?
                    .max(1);
            }
            "--lifetime-secs" => options.lifetime = Duration::from_secs(number("seconds")?),
            _ => {
                return Err(format!(
                    "unknown option `{flag}`; expected one of: --port, --threads, --lifetime-secs"
                ));
            }
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("bench-server: {message}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.threads)
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
        println!(
            "bench-server listening on http://{address} with {} worker thread(s), for at most {} s",
            options.threads,
            options.lifetime.as_secs()
        );
        match tokio::time::timeout(options.lifetime, axum::serve(listener, app())).await {
            Ok(result) => result,
            Err(_) => {
                println!("bench-server: lifetime over, stopping");
                Ok(())
            }
        }
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench-server: {error}");
            ExitCode::FAILURE
        }
    }
}
