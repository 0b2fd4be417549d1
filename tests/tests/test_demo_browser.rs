//! The demo in a real browser: headless Chromium follows the sign-in redirect and renders the
//! pages. Needs `chromium` (Debian's package; `.ci/run` installs it); without it the test says
//! so and stops, unless `AUTHZ_TEST_REQUIRE_SERVERS` is set, as in CI, where it fails.

use std::path::Path;
use std::process::Command;

use demo::auth::Clock;
use demo::db::Demo;
use demo::web::Settings;

const CHROMIUM: &str = "/usr/bin/chromium";

/// What Chromium renders at `url`, after following redirects, as HTML.
fn rendered(url: &str) -> String {
    let profile = std::env::temp_dir().join(format!("authz-chromium-{}", std::process::id()));
    let output = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(url)
        .output()
        .expect("chromium runs");
    let _ = std::fs::remove_dir_all(&profile);
    assert!(output.status.success(), "chromium failed: {output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_is_sent_to_sign_in_and_sees_the_pages() {
    if !Path::new(CHROMIUM).exists() {
        assert!(
            std::env::var_os("AUTHZ_TEST_REQUIRE_SERVERS").is_none(),
            "{CHROMIUM} is missing, and AUTHZ_TEST_REQUIRE_SERVERS says it must be there"
        );
        eprintln!("{CHROMIUM} is missing: skipping the browser test");
        return;
    }
    let path = std::env::temp_dir().join(format!("authz-browser-{}.db", std::process::id()));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let demo = Demo::open(&url).await.unwrap();
    demo.initialize("root", Some("root-password"))
        .await
        .unwrap();
    let app = demo::web::app(demo, Settings::new(Clock::fixed(4)))
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let home = tokio::task::spawn_blocking({
        let base = base.clone();
        move || rendered(&format!("{base}/"))
    })
    .await
    .unwrap();
    assert!(home.contains("<h1>The blog</h1>"), "{home}");
    assert!(home.contains("Notes from the editor"), "{home}");
    // An anonymous visitor is offered none of the actions they may not take.
    for hidden in [
        "/edit\"",
        "/delete\"",
        "href=\"/admin\"",
        "href=\"/release\"",
        "href=\"/manage\"",
    ] {
        assert!(!home.contains(hidden), "{hidden} in {home}");
    }
    assert!(home.contains("href=\"/login\""), "{home}");

    // The admin side sends an anonymous browser to sign in, remembering where it was going.
    let admin = tokio::task::spawn_blocking(move || rendered(&format!("{base}/admin")))
        .await
        .unwrap();
    assert!(admin.contains("<h1>Sign in</h1>"), "{admin}");
    assert!(
        admin.contains(r#"name="came_from" value="/admin""#),
        "{admin}"
    );
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
