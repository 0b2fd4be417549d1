//! A small TCP proxy between a store and its database server, that can stage an outage:
//! every open connection dropped, new ones refused, until the server is "back".

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

/// A proxy on an ephemeral loopback port forwarding to `upstream`.
pub struct Proxy {
    pub port: u16,
    down: Arc<AtomicBool>,
    connections: Arc<Mutex<JoinSet<()>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Starts forwarding 127.0.0.1:`port` to `upstream` (`host:port`).
    pub async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let port = listener.local_addr().expect("a bound address").port();
        let down = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(Mutex::new(JoinSet::new()));
        let accept = tokio::spawn({
            let down = down.clone();
            let connections = connections.clone();
            async move {
                loop {
                    let Ok((mut client, _)) = listener.accept().await else {
                        continue;
                    };
                    if down.load(Ordering::SeqCst) {
                        // Refused: the server is "down".
                        drop(client);
                        continue;
                    }
                    let upstream = upstream.clone();
                    connections.lock().await.spawn(async move {
                        if let Ok(mut server) = TcpStream::connect(&upstream).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                }
            }
        });
        Self {
            port,
            down,
            connections,
            accept,
        }
    }

    /// Drops every open connection and refuses new ones.
    pub async fn outage(&self) {
        self.down.store(true, Ordering::SeqCst);
        self.connections.lock().await.abort_all();
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
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
