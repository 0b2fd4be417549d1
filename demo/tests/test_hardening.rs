//! `demo serve` against slow clients and hostile links, and what every answer tells browsers.
//! Each test starts the demo binary on a loopback port over a fresh SQLite file and asks it
//! over real HTTP, through a raw TCP socket where a well-behaved client would not do: what
//! it checks is what a client sees, the status, the headers, where it is sent, or that the
//! server hung up.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, HeaderMap, LOCATION, SET_COOKIE};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::Child;

const ROOT_PASSWORD: &str = "root-password";

/// The environment variables the demo reads, removed so that the developer's own do not leak
/// into a test.
const DEMO_VARIABLES: [&str; 7] = [
    "DATABASE_URL",
    "DEMO_ADDR",
    "DEMO_ADMIN_USER",
    "DEMO_ADMIN_PASSWORD",
    "DEMO_SECURE_COOKIES",
    "DEMO_HEADER_READ_TIMEOUT",
    "DEMO_REQUEST_TIMEOUT",
];

/// `demo serve` on a loopback port, over its own SQLite file.
struct Server {
    child: Child,
    /// `http://127.0.0.1:port`.
    base: String,
    /// `127.0.0.1:port`.
    address: String,
    database_url: String,
    directory: PathBuf,
}

impl Server {
    /// Starts `demo serve` with `args` after `--addr 127.0.0.1:0`, on a fresh database whose
    /// administrator `root` has [`ROOT_PASSWORD`], and waits until it listens.
    async fn start(args: &[&str]) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let directory = std::env::temp_dir().join(format!(
            "authz-hardening-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&directory).expect("a fresh directory");
        let database_url = format!("sqlite://{}?mode=rwc", directory.join("demo.db").display());
        let mut child = demo_command()
            .env("DEMO_ADMIN_PASSWORD", ROOT_PASSWORD)
            .args([
                "--database-url",
                &database_url,
                "serve",
                "--addr",
                "127.0.0.1:0",
            ])
            .args(args)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the demo starts");
        let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
        let base = tokio::time::timeout(Duration::from_secs(60), async {
            let mut printed = String::new();
            while let Some(line) = lines.next_line().await.expect("readable output") {
                if let Some(base) = line.strip_prefix("authz demo listening on ") {
                    return base.to_owned();
                }
                printed.push_str(&line);
                printed.push('\n');
            }
            panic!("the demo stopped before listening: {printed}");
        })
        .await
        .expect("the demo listens within a minute");
        // Keep reading what it prints, so that it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let address = base.trim_start_matches("http://").to_owned();
        Self {
            child,
            base,
            address,
            database_url,
            directory,
        }
    }

    /// A new API token for `user`, made as the README says: `demo token`.
    async fn token(&self, user: &str) -> String {
        let output = demo_command()
            .args(["--database-url", &self.database_url, "token", user])
            .output()
            .await
            .expect("`demo token` runs");
        assert!(output.status.success(), "demo token failed: {output:?}");
        String::from_utf8(output.stdout)
            .expect("a token is text")
            .trim()
            .to_owned()
    }

    /// A raw connection to the server.
    async fn connect(&self) -> TcpStream {
        TcpStream::connect(&self.address)
            .await
            .expect("the demo accepts connections")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}

/// `demo` with none of the developer's demo settings.
fn demo_command() -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_demo"));
    for variable in DEMO_VARIABLES {
        command.env_remove(variable);
    }
    command
}

/// Reads until the server hangs up: what it sent, and how long after the call it hung up.
async fn read_until_closed(stream: &mut TcpStream) -> (String, Duration) {
    let started = Instant::now();
    let mut received = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut received))
        .await
        .expect("the server hangs up within 20 seconds")
        .expect("the connection reads until the server hangs up");
    (
        String::from_utf8_lossy(&received).into_owned(),
        started.elapsed(),
    )
}

/// A client that follows no redirect, so that each step can be seen.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}

/// A browser's cookies, kept by hand: enough for the CSRF cookie and the sign-in ticket.
#[derive(Default)]
struct Cookies(Vec<(String, String)>);

impl Cookies {
    fn keep(&mut self, headers: &HeaderMap) {
        for set_cookie in headers.get_all(SET_COOKIE) {
            let pair = set_cookie.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            self.0.retain(|(kept, _)| kept != name);
            self.0.push((name.to_owned(), value.to_owned()));
        }
    }

    fn header(&self) -> String {
        let pairs: Vec<String> = self.0.iter().map(|(n, v)| format!("{n}={v}")).collect();
        pairs.join("; ")
    }
}

/// The `value` of the input named `name` in `page`, as the browser reads it (minijinja
/// escapes `/` among others).
fn input(page: &str, name: &str) -> String {
    let start = page
        .find(&format!(r#"name="{name}" value=""#))
        .unwrap_or_else(|| panic!("an input named {name} in {page}"))
        + name.len()
        + 15;
    let value = &page[start..start + page[start..].find('"').unwrap()];
    [
        ("&#x2f;", "/"),
        ("&quot;", "\""),
        ("&#x27;", "'"),
        ("&lt;", "<"),
        ("&gt;", ">"),
    ]
    .iter()
    .fold(value.to_owned(), |value, (escaped, character)| {
        value.replace(escaped, character)
    })
    .replace("&amp;", "&")
}

/// Signs in as root through the login form, sending `came_from`: the answer to the form.
async fn sign_in(server: &Server, cookies: &mut Cookies, came_from: &str) -> reqwest::Response {
    let form = client()
        .get(format!("{}/login", server.base))
        .send()
        .await
        .expect("the login page answers");
    cookies.keep(form.headers());
    let page = form.text().await.expect("the login page arrives");
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("csrf", &input(&page, "csrf"))
        .append_pair("came_from", came_from)
        .append_pair("user", "root")
        .append_pair("password", ROOT_PASSWORD)
        .finish();
    let signed_in = client()
        .post(format!("{}/login", server.base))
        .header(COOKIE, cookies.header())
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("the login form answers");
    cookies.keep(signed_in.headers());
    signed_in
}

#[tokio::test]
async fn a_client_that_sends_half_its_headers_is_disconnected() {
    let server = Server::start(&["--header-read-timeout", "1s"]).await;

    let mut half = server.connect().await;
    half.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: te")
        .await
        .unwrap();
    let (answer, after) = read_until_closed(&mut half).await;
    assert_eq!(answer, "", "no answer to half a request");
    assert!(
        after >= Duration::from_millis(900),
        "hung up after {after:?}"
    );
    assert!(after < Duration::from_secs(5), "hung up after {after:?}");

    // A client that connects and says nothing is no different.
    let mut silent = server.connect().await;
    let (answer, after) = read_until_closed(&mut silent).await;
    assert_eq!(answer, "");
    assert!(
        after >= Duration::from_millis(900),
        "hung up after {after:?}"
    );
    assert!(after < Duration::from_secs(5), "hung up after {after:?}");

    // The limit is on the whole of the headers, not on each read: a client that sends them in
    // pieces, in time, is answered.
    let mut slow = server.connect().await;
    slow.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    slow.write_all(b"Connection: close\r\n\r\n").await.unwrap();
    let (answer, _) = read_until_closed(&mut slow).await;
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.contains("<h1>The blog</h1>"), "{answer}");
}

#[tokio::test]
async fn a_request_whose_body_never_arrives_gets_503() {
    let server = Server::start(&["--request-timeout", "1s"]).await;
    let mut stream = server.connect().await;
    // The form says 100 bytes and sends 10: the CSRF check waits for the rest.
    stream
        .write_all(
            b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n\
              user=root&",
        )
        .await
        .unwrap();
    let (answer, after) = read_until_closed(&mut stream).await;
    assert!(
        answer.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{answer}"
    );
    // Cut short, it is still one of the site's answers, with their headers.
    let (head, _) = answer.split_once("\r\n\r\n").expect("a complete head");
    let mut headers = HeaderMap::new();
    for line in head.lines().skip(1) {
        let (name, value) = line.split_once(':').expect("a header line");
        headers.append(
            reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.trim().parse().unwrap(),
        );
    }
    assert_security_headers("a request cut short", &headers);
    assert!(
        after >= Duration::from_millis(900),
        "answered after {after:?}"
    );
    assert!(after < Duration::from_secs(5), "answered after {after:?}");
}

/// The headers every answer must carry, with their values.
fn assert_security_headers(what: &str, headers: &HeaderMap) {
    let header = |name: &str| {
        headers
            .get(name)
            .unwrap_or_else(|| panic!("{what}: no {name} in {headers:?}"))
            .to_str()
            .unwrap()
            .to_owned()
    };
    let policy = header("content-security-policy");
    let directives: Vec<&str> = policy.split(';').map(str::trim).collect();
    for directive in [
        "default-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
    ] {
        assert!(directives.contains(&directive), "{what}: {policy}");
    }
    // Inline styles are allowed by hash, never wholesale; no script is allowed at all.
    assert!(!policy.contains("unsafe-inline"), "{what}: {policy}");
    assert!(!policy.contains("script-src"), "{what}: {policy}");
    assert_eq!(header("x-frame-options"), "DENY", "{what}");
    assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header("referrer-policy"), "same-origin", "{what}");
}

#[tokio::test]
async fn every_answer_tells_browsers_what_they_may_do_with_it() {
    let server = Server::start(&[]).await;
    let token = server.token("root").await;
    let cases = [
        ("/", None, StatusCode::OK),
        ("/login", None, StatusCode::OK),
        ("/posts/1", None, StatusCode::OK),
        ("/no-such-page", None, StatusCode::NOT_FOUND),
        // An anonymous browser sent to sign in.
        ("/admin", None, StatusCode::SEE_OTHER),
        ("/api/posts", Some(token.as_str()), StatusCode::OK),
        ("/api/me", Some(token.as_str()), StatusCode::OK),
        ("/api/me", None, StatusCode::UNAUTHORIZED),
    ];
    for (path, token, status) in cases {
        let mut request = client()
            .get(format!("{}{path}", server.base))
            .header("accept", "text/html");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("the demo answers");
        assert_eq!(response.status(), status, "{path}");
        assert_security_headers(path, response.headers());
    }
}

#[tokio::test]
async fn personalised_pages_and_api_answers_are_never_stored() {
    let server = Server::start(&[]).await;
    let mut cookies = Cookies::default();
    let signed_in = sign_in(&server, &mut cookies, "/admin").await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed_in.headers()[CACHE_CONTROL], "no-store");

    for path in ["/", "/admin", "/manage", "/posts/1/edit"] {
        let page = client()
            .get(format!("{}{path}", server.base))
            .header(COOKIE, cookies.header())
            .send()
            .await
            .expect("the demo answers");
        assert_eq!(page.status(), StatusCode::OK, "{path}");
        assert_eq!(page.headers()[CACHE_CONTROL], "no-store", "{path}");
        assert_security_headers(path, page.headers());
        let text = page.text().await.unwrap();
        assert!(
            text.contains("Signed in as <strong>root</strong>"),
            "{path}: {text}"
        );
    }

    let me = client()
        .get(format!("{}/api/me", server.base))
        .bearer_auth(server.token("root").await)
        .send()
        .await
        .expect("the API answers");
    assert_eq!(me.headers()[CACHE_CONTROL], "no-store");
    assert_eq!(me.text().await.unwrap(), r#"{"user":"root"}"#);
}

#[tokio::test]
async fn a_huge_came_from_sends_the_user_home() {
    let server = Server::start(&[]).await;

    // Signing in from a 100 kB link: sent home, and the link copied nowhere.
    let huge = format!("/posts/1?q={}", "a".repeat(100_000));
    let signed_in = sign_in(&server, &mut Cookies::default(), &huge).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed_in.headers()[LOCATION], "/");
    let answer: usize = signed_in
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    assert!(answer < 4096, "{answer} bytes of headers");

    // A link of a real page's length is kept.
    let long = format!("/posts/1?q={}", "a".repeat(2_000));
    let signed_in = sign_in(&server, &mut Cookies::default(), &long).await;
    assert_eq!(signed_in.headers()[LOCATION], long.as_str());

    // The sign-in form does not carry a long one along either.
    let came_from = format!("/posts/1?q={}", "a".repeat(3_000));
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("came_from", &came_from)
        .finish();
    let form = client()
        .get(format!("{}/login?{query}", server.base))
        .send()
        .await
        .expect("the login page answers");
    assert_eq!(form.status(), StatusCode::OK);
    let page = form.text().await.unwrap();
    assert_eq!(input(&page, "came_from"), "/");
}

/// Where Debian's Chromium is; `.ci/run` installs it.
const CHROMIUM: &str = "/usr/bin/chromium";

/// What headless Chromium renders at `url`, and what it said on its console (where it
/// reports what a Content-Security-Policy blocked).
fn rendered(url: &str, profile: &Path) -> (String, String) {
    let output = std::process::Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(output.status.success(), "chromium failed: {output:?}");
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The pages under their Content-Security-Policy, in a real browser: rendered, and their
/// stylesheet not blocked. Needs Chromium; without it the test says so and stops, unless
/// `AUTHZ_TEST_REQUIRE_SERVERS` is set, as in CI, where it fails.
#[tokio::test]
async fn a_browser_renders_the_pages_under_their_policy() {
    if !Path::new(CHROMIUM).exists() {
        assert!(
            std::env::var_os("AUTHZ_TEST_REQUIRE_SERVERS").is_none(),
            "{CHROMIUM} is missing, and AUTHZ_TEST_REQUIRE_SERVERS says it must be there"
        );
        eprintln!("{CHROMIUM} is missing: skipping the browser test");
        return;
    }
    let server = Server::start(&[]).await;
    for (path, heading) in [
        ("/", "<h1>The blog</h1>"),
        ("/login", "<h1>Sign in</h1>"),
        ("/admin", "<h1>Sign in</h1>"),
    ] {
        let url = format!("{}{path}", server.base);
        let profile = server.directory.join("chromium");
        let (page, console) = tokio::task::spawn_blocking(move || rendered(&url, &profile))
            .await
            .unwrap();
        assert!(page.contains(heading), "{path}: {page}");
        let blocked: Vec<&str> = console
            .lines()
            .filter(|line| line.contains("Content Security Policy"))
            .collect();
        assert!(blocked.is_empty(), "{path}: {blocked:#?}");
    }
}

/// Ctrl-C stops the server as before: it stops accepting, closes idle connections and exits
/// cleanly, without waiting out their timeouts.
#[tokio::test]
async fn ctrl_c_stops_the_server_cleanly() {
    let mut server = Server::start(&[]).await;
    let mut idle = server.connect().await;
    idle.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0; 12];
    idle.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"HTTP/1.1 200");

    let pid = server.child.id().expect("the demo runs").to_string();
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill runs");
    assert!(interrupted.success());
    let status = tokio::time::timeout(Duration::from_secs(5), server.child.wait())
        .await
        .expect("the demo stops within 5 seconds, before the 10 s header timeout")
        .expect("the demo's status");
    assert!(status.success(), "{status:?}");
}
