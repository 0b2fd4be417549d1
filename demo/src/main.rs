//! Runs the authz demo on 127.0.0.1:3000 (or the address in `DEMO_ADDR`).

use demo::auth::{Clock, USER_HEADER};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let address = std::env::var("DEMO_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let listener = tokio::net::TcpListener::bind(&address).await?;
    let address = listener.local_addr()?;
    println!("authz demo listening on http://{address}");
    println!("  curl -i http://{address}/admin                              # 401");
    println!("  curl -i -H '{USER_HEADER}: visitor' http://{address}/admin   # 403");
    println!("  curl -i -H '{USER_HEADER}: root' http://{address}/admin      # 200");
    println!("  curl -i -X DELETE -H '{USER_HEADER}: manager' http://{address}/posts/1");
    axum::serve(listener, demo::app(Clock::system()))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
