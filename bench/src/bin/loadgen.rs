//! The load generator of the load test: alternating rounds of keep-alive HTTP/1.1 `GET`s to
//! each path of one server on loopback, the same request but for the path, and per round the
//! requests per second and, given the server's pid, the server's CPU time per request.
//!
//! ```text
//! loadgen [--addr 127.0.0.1:3917] [--paths /open,/guarded] [--rounds 10] [--secs 3]
//!         [--warmup-secs 2] [--connections 16] [--user rms] [--server-pid PID]
//! ```
//!
//! `--secs` takes fractions (`--secs 0.25`): on a host whose speed drifts from one second to
//! the next, many short rounds pair the paths under closer conditions than a few long ones.
//! The median of the per-round ratios is printed with a 95% confidence interval (from the
//! order statistics of the ratios, so it assumes nothing of their distribution).
//!
//! Ratios are against the first path. Rounds alternate the order of the paths (ABBA…), so
//! that neither path always runs first after a pause. Every request must answer 200: any
//! other status, or a closed connection, fails the run, since a denied or broken request would
//! not measure the guard's cost.
//!
//! The client is one thread and does as little as it can per request (one write, reads parsed
//! by `httparse`), so that it outpaces the server; the server's CPU time per request, read from
//! `/proc`, tells the paths apart even when it does not. On a shared machine, the CPU time other
//! processes took in each phase is printed too (`other-cpu`), and the ratios are given again
//! over the quiet rounds alone when some were not.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Bounds on the run, whatever the options say: traffic stops by itself.
const MAX_ROUNDS: u32 = 2000;
const MIN_SECS: f64 = 0.05;
const MAX_SECS: f64 = 60.0;
const MAX_CONNECTIONS: usize = 1024;
/// Per connection and phase; far above what loopback allows in `MAX_SECS`.
const MAX_REQUESTS: u64 = 100_000_000;
/// A phase is quiet when other processes took less than this share of one CPU, in percent.
const QUIET_SHARE: f64 = 5.0;

struct Options {
    addr: std::net::SocketAddr,
    paths: Vec<String>,
    rounds: u32,
    secs: f64,
    warmup_secs: f64,
    connections: usize,
    user: String,
    server_pid: Option<u32>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        addr: ([127, 0, 0, 1], 3917).into(),
        paths: vec!["/open".to_owned(), "/guarded".to_owned()],
        rounds: 10,
        secs: 3.0,
        warmup_secs: 2.0,
        connections: 16,
        user: authz_bench::USER.to_owned(),
        server_pid: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| format!("`{flag}` needs a value"))?;
        let bad = |what: &str| format!("`{flag}` takes {what}, not `{value}`");
        match flag.as_str() {
            "--addr" => options.addr = value.parse().map_err(|_| bad("an ip:port"))?,
            "--paths" => options.paths = value.split(',').map(str::to_owned).collect(),
            "--rounds" => options.rounds = value.parse().map_err(|_| bad("a count"))?,
            "--secs" => options.secs = value.parse().map_err(|_| bad("seconds"))?,
            "--warmup-secs" => options.warmup_secs = value.parse().map_err(|_| bad("seconds"))?,
            "--connections" => options.connections = value.parse().map_err(|_| bad("a count"))?,
            "--user" => options.user = value,
            "--server-pid" => options.server_pid = Some(value.parse().map_err(|_| bad("a pid"))?),
            _ => {
                return Err(format!(
                    "unknown option `{flag}`; expected one of: --addr, --paths, --rounds, \
                     --secs, --warmup-secs, --connections, --user, --server-pid"
                ));
            }
        }
    }
    // Load goes to this machine's own server and nowhere else.
    if !options.addr.ip().is_loopback() {
        return Err(format!("{} is not a loopback address", options.addr));
    }
    if options.paths.is_empty() || options.paths.iter().any(|path| !path.starts_with('/')) {
        return Err("`--paths` takes paths starting with `/`, separated by commas".to_owned());
    }
    if !(1..=MAX_ROUNDS).contains(&options.rounds)
        || !(MIN_SECS..=MAX_SECS).contains(&options.secs)
        || !(0.0..=MAX_SECS).contains(&options.warmup_secs)
        || !(1..=MAX_CONNECTIONS).contains(&options.connections)
    {
        return Err(format!(
            "limits: 1..={MAX_ROUNDS} rounds, {MIN_SECS}..={MAX_SECS} s a phase, \
             1..={MAX_CONNECTIONS} connections"
        ));
    }
    Ok(options)
}

/// One path for a while.
struct Phase {
    requests: u64,
    elapsed: Duration,
    /// The server's CPU time over the phase, all threads, when its pid is known.
    server_cpu: Option<Duration>,
    /// This process's, to tell whether the client kept up.
    client_cpu: Option<Duration>,
    /// The whole machine's busy time over the phase, all CPUs, from `/proc/stat`.
    machine_cpu: Option<Duration>,
}

impl Phase {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    fn cpu_micros_per_request(&self) -> Option<f64> {
        let cpu = self.server_cpu?;
        Some(cpu.as_secs_f64() * 1e6 / self.requests as f64)
    }

    /// CPU time taken by other processes over the phase, as a share of one CPU: other people's
    /// builds and tests on this machine, which make a phase's figures noisy.
    fn others(&self) -> Option<Duration> {
        let ours = self.server_cpu? + self.client_cpu?;
        Some(self.machine_cpu?.saturating_sub(ours))
    }

    /// Whether other processes left this phase alone; unknown counts as not.
    fn quiet(&self) -> bool {
        self.others().is_some_and(|others| {
            others.as_secs_f64() * 100.0 / self.elapsed.as_secs_f64() < QUIET_SHARE
        })
    }

    fn cpu_share(&self, cpu: Option<Duration>) -> String {
        cpu.map_or_else(
            || "-".to_owned(),
            |cpu| {
                format!(
                    "{:.0}%",
                    cpu.as_secs_f64() * 100.0 / self.elapsed.as_secs_f64()
                )
            },
        )
    }
}

/// The CPU time of every thread of `pid` so far, from `/proc/PID/task/*/schedstat` (its first
/// field, in nanoseconds).
fn cpu_time(pid: u32) -> Option<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let path = task.ok()?.path().join("schedstat");
        // A thread may end between the listing and the read.
        let Ok(stat) = std::fs::read_to_string(path) else {
            continue;
        };
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(total))
}

/// The busy time of all CPUs so far: `/proc/stat`'s first line less idle and iowait, in
/// clock ticks of 10 ms (`USER_HZ`, 100 on Linux).
fn machine_busy() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let ticks: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|field| field.parse().ok())
        .collect::<Option<_>>()?;
    let (idle, iowait) = (ticks.get(3)?, ticks.get(4)?);
    let busy = ticks.iter().sum::<u64>() - idle - iowait;
    Some(Duration::from_millis(busy * 10))
}

async fn connect(options: &Options) -> Result<TcpStream, String> {
    let stream = TcpStream::connect(options.addr)
        .await
        .map_err(|error| format!("cannot connect to {}: {error}", options.addr))?;
    stream
        .set_nodelay(true)
        .map_err(|error| format!("set_nodelay: {error}"))?;
    Ok(stream)
}

/// Sends `request` and reads the answer until `deadline`, one request in flight.
async fn drive(
    mut stream: TcpStream,
    request: Arc<[u8]>,
    deadline: Instant,
) -> Result<u64, String> {
    let mut buffer = vec![0u8; 16 * 1024];
    let mut done = 0;
    while done < MAX_REQUESTS && Instant::now() < deadline {
        stream
            .write_all(&request)
            .await
            .map_err(|error| format!("write: {error}"))?;
        let mut filled = 0;
        loop {
            if filled == buffer.len() {
                return Err("a response larger than the buffer".to_owned());
            }
            let read = stream
                .read(&mut buffer[filled..])
                .await
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
                    "status {:?} where 200 was expected: check the user and the store",
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
            break;
        }
        done += 1;
    }
    Ok(done)
}

/// Loads `path` with every connection for `duration`.
async fn phase(options: &Options, path: &str, duration: Duration) -> Result<Phase, String> {
    let request: Arc<[u8]> = format!(
        "GET {path} HTTP/1.1\r\nhost: {}\r\n{}: {}\r\n\r\n",
        options.addr,
        authz_runtime::testing::TEST_USER_HEADER,
        options.user
    )
    .into_bytes()
    .into();
    let mut streams = Vec::with_capacity(options.connections);
    for _ in 0..options.connections {
        streams.push(connect(options).await?);
    }
    let cpu_before = options.server_pid.and_then(cpu_time);
    let client_before = cpu_time(std::process::id());
    let machine_before = machine_busy();
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|stream| tokio::spawn(drive(stream, request.clone(), deadline)))
        .collect();
    let mut requests = 0;
    for task in tasks {
        requests += task.await.map_err(|error| error.to_string())??;
    }
    let elapsed = start.elapsed();
    let cpu_after = options.server_pid.and_then(cpu_time);
    let client_after = cpu_time(std::process::id());
    let machine_after = machine_busy();
    let spent = |before: Option<Duration>, after: Option<Duration>| {
        before.zip(after).map(|(before, after)| after - before)
    };
    Ok(Phase {
        requests,
        elapsed,
        server_cpu: spent(cpu_before, cpu_after),
        client_cpu: spent(client_before, client_after),
        machine_cpu: spent(machine_before, machine_after),
    })
}

/// Waits up to ten seconds for the server to accept connections.
async fn wait_for_server(options: &Options) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match connect(options).await {
            Ok(_) => return Ok(()),
            Err(error) if Instant::now() >= deadline => return Err(error),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[middle - 1] + values[middle]) / 2.0
    } else {
        values[middle]
    }
}

/// A 95% confidence interval for the median of `sorted`: the order statistics whose ranks
/// the binomial distribution of "how many values fall below the median" puts 1.96 standard
/// deviations either side of the middle. With under six values, the whole range.
fn median_interval(sorted: &[f64]) -> (f64, f64) {
    let n = sorted.len();
    if n < 6 {
        return (sorted[0], sorted[n - 1]);
    }
    let half_width = 1.96 * (n as f64).sqrt() / 2.0;
    let low = ((n as f64 / 2.0) - half_width).floor().max(0.0) as usize;
    let high = ((n as f64 / 2.0) + half_width).ceil().min(n as f64 - 1.0) as usize;
    (sorted[low], sorted[high])
}

fn show(value: Option<f64>, precision: usize) -> String {
    value.map_or_else(|| "-".to_owned(), |value| format!("{value:.precision$}"))
}

async fn run(options: Options) -> Result<(), String> {
    wait_for_server(&options).await?;
    println!(
        "loadgen: {} x {} s per path, {} keep-alive connections, user `{}`, paths {} on {}",
        options.rounds,
        options.secs,
        options.connections,
        options.user,
        options.paths.join(" "),
        options.addr
    );
    for path in &options.paths {
        let warmup = phase(&options, path, Duration::from_secs_f64(options.warmup_secs)).await?;
        println!(
            "warm-up {path}: {:.0} req/s (not counted)",
            warmup.per_second()
        );
    }
    println!(
        "{:>5}  {:<12} {:>10} {:>10} {:>13} {:>10} {:>10} {:>10}",
        "round",
        "path",
        "requests",
        "req/s",
        "server-us/req",
        "server-cpu",
        "client-cpu",
        "other-cpu"
    );
    // phases[path][round]
    let mut phases: Vec<Vec<Phase>> = options.paths.iter().map(|_| Vec::new()).collect();
    for round in 0..options.rounds {
        let mut order: Vec<usize> = (0..options.paths.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for index in order {
            let path = &options.paths[index];
            let done = phase(&options, path, Duration::from_secs_f64(options.secs)).await?;
            println!(
                "{:>5}  {:<12} {:>10} {:>10.0} {:>13} {:>10} {:>10} {:>10}",
                round + 1,
                path,
                done.requests,
                done.per_second(),
                show(done.cpu_micros_per_request(), 2),
                done.cpu_share(done.server_cpu),
                done.cpu_share(done.client_cpu),
                done.cpu_share(done.others()),
            );
            phases[index].push(done);
        }
    }

    println!("\nper path, median over rounds (min..max of req/s):");
    let mut medians = Vec::new();
    for (path, runs) in options.paths.iter().zip(&phases) {
        let mut rates: Vec<f64> = runs.iter().map(Phase::per_second).collect();
        let mut cpu: Vec<f64> = runs
            .iter()
            .filter_map(Phase::cpu_micros_per_request)
            .collect();
        let rate = median(&mut rates);
        let cpu = (!cpu.is_empty()).then(|| median(&mut cpu));
        println!(
            "  {path:<12} {rate:>10.0} req/s ({:.0}..{:.0})   server {} us/req",
            rates[0],
            rates[rates.len() - 1],
            show(cpu, 2)
        );
        medians.push((rate, cpu));
    }
    let (base_path, (base_rate, base_cpu)) = (&options.paths[0], medians[0]);
    for (index, path) in options.paths.iter().enumerate().skip(1) {
        let (rate, cpu) = medians[index];
        // Paired: each round's ratio, from phases run next to each other.
        let mut paired: Vec<f64> = phases[index]
            .iter()
            .zip(&phases[0])
            .map(|(this, base)| this.per_second() / base.per_second())
            .collect();
        let paired_median = median(&mut paired);
        let (low, high) = median_interval(&paired);
        println!(
            "ratio {path} / {base_path}: {:.3}x (medians), {:.3}x (median of per-round ratios, \
             {:.3}..{:.3}); server CPU per request {}",
            rate / base_rate,
            paired_median,
            paired[0],
            paired[paired.len() - 1],
            match (cpu, base_cpu) {
                (Some(cpu), Some(base)) => format!("{:+.2} us ({:.3}x)", cpu - base, cpu / base),
                _ => "not measured (no --server-pid)".to_owned(),
            }
        );
        println!(
            "  95% confidence interval of that median: {low:.3}x..{high:.3}x over {} rounds",
            paired.len()
        );
        // The same over the rounds where nothing else ran, when any did not.
        let mut quiet: Vec<f64> = phases[index]
            .iter()
            .zip(&phases[0])
            .filter(|(this, base)| this.quiet() && base.quiet())
            .map(|(this, base)| this.per_second() / base.per_second())
            .collect();
        if !quiet.is_empty() && quiet.len() < paired.len() {
            let rounds = quiet.len();
            println!(
                "  over the {rounds} quiet round(s) (others under {QUIET_SHARE:.0}% of a CPU in \
                 both phases): {:.3}x (median of per-round ratios, {:.3}..{:.3})",
                median(&mut quiet),
                quiet[0],
                quiet[rounds - 1],
            );
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let options = match options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("loadgen: {message}");
            return ExitCode::FAILURE;
        }
    };
    // One thread: the other core is the server's.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(run(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("loadgen: {message}");
            ExitCode::FAILURE
        }
    }
}
