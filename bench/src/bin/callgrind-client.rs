//! The client of the instruction-count benchmark (`bench/callgrind.sh`): exactly `--requests`
//! keep-alive HTTP/1.1 `GET`s of one path, one after another over one connection, each of
//! which must answer 200.
//!
//! ```text
//! callgrind-client --path /bare --requests N [--addr 127.0.0.1:3931] [--user rms]
//!                  [--pause-us 0] [--connect-secs 60]
//! ```
//!
//! It keeps trying to connect for `--connect-secs` (a server under valgrind starts slowly), and
//! the connection it gets is the only one it opens, so the server sees one connection and
//! `--requests` requests and nothing else. `--pause-us` waits that long after each response
//! before sending the next request, so that the server has gone back to waiting on its socket
//! every time instead of sometimes finding the next request already there. Loopback only; it
//! gives up on any other status, a closed connection, or a read that takes over a minute.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Bounds on the run, whatever the options say.
const MAX_REQUESTS: u64 = 1_000_000;
const MAX_PAUSE_US: u64 = 1_000_000;
const MAX_CONNECT_SECS: u64 = 600;
const READ_TIMEOUT: Duration = Duration::from_secs(60);

struct Options {
    addr: SocketAddr,
    path: String,
    requests: u64,
    user: String,
    pause: Duration,
    connect: Duration,
}

fn options() -> Result<Options, String> {
    let mut addr: SocketAddr = ([127, 0, 0, 1], 3931).into();
    let mut path = None;
    let mut requests = None;
    let mut user = authz_bench::USER.to_owned();
    let mut pause_us = 0;
    let mut connect_secs = 60;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| format!("`{flag}` needs a value"))?;
        let bad = |what: &str| format!("`{flag}` takes {what}, not `{value}`");
        match flag.as_str() {
            "--addr" => addr = value.parse().map_err(|_| bad("an ip:port"))?,
            "--path" => path = Some(value),
            "--requests" => requests = Some(value.parse().map_err(|_| bad("a count"))?),
            "--user" => user = value,
            "--pause-us" => pause_us = value.parse().map_err(|_| bad("microseconds"))?,
            "--connect-secs" => connect_secs = value.parse().map_err(|_| bad("seconds"))?,
            _ => {
                return Err(format!(
                    "unknown option `{flag}`; expected one of: --addr, --path, --requests, \
                     --user, --pause-us, --connect-secs"
                ));
            }
        }
    }
    // Requests go to this machine's own server and nowhere else.
    if !addr.ip().is_loopback() {
        return Err(format!("{addr} is not a loopback address"));
    }
    let path = path
        .filter(|path| path.starts_with('/') && !path.contains(char::is_whitespace))
        .ok_or("`--path` takes one path starting with `/`")?;
    let requests = requests
        .filter(|requests| (1..=MAX_REQUESTS).contains(requests))
        .ok_or(format!("`--requests N` is required, 1..={MAX_REQUESTS}"))?;
    if pause_us > MAX_PAUSE_US || connect_secs > MAX_CONNECT_SECS {
        return Err(format!(
            "limits: --pause-us up to {MAX_PAUSE_US}, --connect-secs up to {MAX_CONNECT_SECS}"
        ));
    }
    Ok(Options {
        addr,
        path,
        requests,
        user,
        pause: Duration::from_micros(pause_us),
        connect: Duration::from_secs(connect_secs),
    })
}

/// Connects, retrying every 50 ms until `options.connect` has passed.
fn connect(options: &Options) -> Result<TcpStream, String> {
    let deadline = Instant::now() + options.connect;
    let stream = loop {
        match TcpStream::connect(options.addr) {
            Ok(stream) => break stream,
            Err(error) if Instant::now() >= deadline => {
                return Err(format!("cannot connect to {}: {error}", options.addr));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    stream
        .set_nodelay(true)
        .and_then(|()| stream.set_read_timeout(Some(READ_TIMEOUT)))
        .map_err(|error| format!("socket options: {error}"))?;
    Ok(stream)
}

/// Reads one whole response into `buffer` and checks that it is a 200 with a body.
fn response(stream: &mut TcpStream, buffer: &mut [u8]) -> Result<(), String> {
    let mut filled = 0;
    loop {
        if filled == buffer.len() {
            return Err("a response larger than the buffer".to_owned());
        }
        let read = stream
            .read(&mut buffer[filled..])
            .map_err(|error| format!("read: {error}"))?;
        if read == 0 {
            return Err("the server closed the connection".to_owned());
        }
        filled += read;
        let mut headers = [httparse::EMPTY_HEADER; 16];
        let mut response = httparse::Response::new(&mut headers);
        let head = match response.parse(&buffer[..filled]) {
            Ok(httparse::Status::Complete(head)) => head,
            Ok(httparse::Status::Partial) => continue,
            Err(error) => return Err(format!("a malformed response: {error}")),
        };
        if response.code != Some(200) {
            return Err(format!(
                "status {:?} where 200 was expected: check the path and the user",
                response.code
            ));
        }
        let length = response
            .headers
            .iter()
            .find(|header| header.name.eq_ignore_ascii_case("content-length"))
            .and_then(|header| {
                std::str::from_utf8(header.value)
                    .ok()?
                    .parse::<usize>()
                    .ok()
            })
            .ok_or("a response without content-length")?;
        if filled < head + length {
            continue;
        }
        if filled > head + length {
            return Err("bytes after the response, which nobody asked for".to_owned());
        }
        if &buffer[head..filled] != authz_bench::BODY.as_bytes() {
            return Err("a body other than the handler's".to_owned());
        }
        return Ok(());
    }
}

fn run(options: &Options) -> Result<(), String> {
    let request = format!(
        "GET {} HTTP/1.1\r\nhost: {}\r\n{}: {}\r\n\r\n",
        options.path,
        options.addr,
        authz_runtime::testing::TEST_USER_HEADER,
        options.user
    )
    .into_bytes();
    let mut stream = connect(options)?;
    let mut buffer = vec![0u8; 16 * 1024];
    for done in 0..options.requests {
        if done > 0 && !options.pause.is_zero() {
            std::thread::sleep(options.pause);
        }
        stream
            .write_all(&request)
            .map_err(|error| format!("write: {error}"))?;
        response(&mut stream, &mut buffer)
            .map_err(|error| format!("request {} of {}: {error}", done + 1, options.requests))?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let options = match options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("callgrind-client: {message}");
            return ExitCode::FAILURE;
        }
    };
    match run(&options) {
        Ok(()) => {
            eprintln!(
                "callgrind-client: {} x GET {}: all 200",
                options.requests, options.path
            );
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("callgrind-client: {message}");
            ExitCode::FAILURE
        }
    }
}
