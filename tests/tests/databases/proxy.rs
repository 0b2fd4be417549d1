//! A small TCP proxy between a store and its database server, that can stage faults:
//! - an outage: every open connection dropped, new ones refused, until the server is "back";
//! - a stall: connections stay open and new ones are accepted, but no byte goes either way
//!   until the stall ends (a server that hangs, or a network that drops everything);
//! - a lost answer: the next connection to send a given statement (e.g. `COMMIT`) has it
//!   delivered to the server, and is then cut off from the client before any answer comes back,
//!   so the client cannot know whether the server carried it out.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as StdMutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, Notify, watch};
use tokio::task::JoinSet;

/// A proxy on an ephemeral loopback port forwarding to `upstream`.
pub struct Proxy {
    pub port: u16,
    faults: Arc<Faults>,
    connections: Arc<Mutex<JoinSet<()>>>,
    accept: tokio::task::JoinHandle<()>,
}

/// The faults staged, shared by every connection.
struct Faults {
    down: AtomicBool,
    /// `true` while no byte may pass.
    stalled: watch::Sender<bool>,
    /// The statement whose answer the next connection to send it loses.
    cut_after: StdMutex<Option<Vec<u8>>>,
}

impl Proxy {
    /// Starts forwarding 127.0.0.1:`port` to `upstream` (`host:port`).
    pub async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let port = listener.local_addr().expect("a bound address").port();
        let faults = Arc::new(Faults {
            down: AtomicBool::new(false),
            stalled: watch::Sender::new(false),
            cut_after: StdMutex::new(None),
        });
        let connections = Arc::new(Mutex::new(JoinSet::new()));
        let accept = tokio::spawn({
            let faults = faults.clone();
            let connections = connections.clone();
            async move {
                loop {
                    let Ok((client, _)) = listener.accept().await else {
                        continue;
                    };
                    if faults.down.load(Ordering::SeqCst) {
                        // Refused: the server is "down".
                        drop(client);
                        continue;
                    }
                    let upstream = upstream.clone();
                    let faults = faults.clone();
                    connections.lock().await.spawn(async move {
                        if let Ok(server) = TcpStream::connect(&upstream).await {
                            forward(client, server, faults).await;
                        }
                    });
                }
            }
        });
        Self {
            port,
            faults,
            connections,
            accept,
        }
    }

    /// Drops every open connection and refuses new ones.
    pub async fn outage(&self) {
        self.faults.down.store(true, Ordering::SeqCst);
        self.connections.lock().await.abort_all();
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.faults.down.store(false, Ordering::SeqCst);
    }

    /// Stops every byte, on open connections and new ones, until [`Proxy::resume`]. Nothing
    /// is lost: what was held is delivered then.
    pub fn stall(&self) {
        self.faults.stalled.send_replace(true);
    }

    /// Ends a stall.
    pub fn resume(&self) {
        self.faults.stalled.send_replace(false);
    }

    /// The next connection whose client sends `statement` has it delivered to the server and is
    /// then closed on the client's side before any answer; the server's side is closed once it
    /// has answered (a clean end of input after the statement, which the server carries out).
    pub fn lose_the_answer_to(&self, statement: &str) {
        *self.faults.cut_after.lock().expect("the faults lock") =
            Some(statement.as_bytes().to_vec());
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Forwards both ways until either side closes.
async fn forward(client: TcpStream, server: TcpStream, faults: Arc<Faults>) {
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let cut = Arc::new(Cut::default());
    tokio::join!(
        upstream(client_read, server_write, &faults, &cut),
        downstream(server_read, client_write, &faults, &cut),
    );
}

/// Set once the client must hear nothing more.
#[derive(Default)]
struct Cut {
    done: AtomicBool,
    notify: Notify,
}

/// Client to server. Returns (closing the client's reading side and the server's writing side)
/// when either side closes, or after delivering the statement whose answer is to be lost.
async fn upstream(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, faults: &Faults, cut: &Cut) {
    let mut buffer = vec![0; 16 * 1024];
    // The end of the previous read, so that a statement split across reads is still seen.
    let mut tail: Vec<u8> = Vec::new();
    loop {
        let Ok(read) = from.read(&mut buffer).await else {
            return;
        };
        if read == 0 {
            return;
        }
        let chunk = &buffer[..read];
        wait_while_stalled(faults).await;
        let cutting = {
            let mut cut_after = faults.cut_after.lock().expect("the faults lock");
            let seen = cut_after.as_deref().is_some_and(|statement| {
                let mut window = tail.clone();
                window.extend_from_slice(chunk);
                window
                    .windows(statement.len())
                    .any(|window| window == statement)
            });
            if seen {
                *cut_after = None;
            }
            seen
        };
        if cutting {
            // Before the server can answer: nothing of the answer must reach the client.
            cut.done.store(true, Ordering::SeqCst);
            cut.notify.notify_one();
        }
        if to.write_all(chunk).await.is_err() || cutting {
            return;
        }
        let keep = chunk.len().min(64);
        tail = chunk[chunk.len() - keep..].to_vec();
    }
}

/// Server to client, until either side closes or the client is cut off; after a cut, reads
/// the server's answer and drops it.
async fn downstream(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, faults: &Faults, cut: &Cut) {
    let mut buffer = vec![0; 16 * 1024];
    loop {
        let read = tokio::select! {
            read = from.read(&mut buffer) => read,
            () = cut.notify.notified() => break,
        };
        let Ok(read) = read else { return };
        if read == 0 {
            return;
        }
        wait_while_stalled(faults).await;
        if cut.done.load(Ordering::SeqCst) {
            break;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
    // Cut off: the client's side closes now; the server's answer is read and dropped.
    drop(to);
    while matches!(from.read(&mut buffer).await, Ok(read) if read > 0) {}
}

async fn wait_while_stalled(faults: &Faults) {
    let mut stalled = faults.stalled.subscribe();
    let _ = stalled.wait_for(|stalled| !stalled).await;
}

/// The `host:port` of a database URL.
pub fn authority(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.split(['/', '?']).next().unwrap_or(rest);
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    host.to_owned()
}

/// `url` pointed at 127.0.0.1:`port` instead of its server.
pub fn through(url: &str, port: u16) -> String {
    let host = authority(url);
    url.replacen(&host, &format!("127.0.0.1:{port}"), 1)
}
