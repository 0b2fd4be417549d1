//! Every `demo` command, run as a user would run it, on SQLite, PostgreSQL and MariaDB: what it
//! prints, its exit status, and its errors.

// The per-test databases of the workspace's test suites.
#[path = "../../tests/tests/databases/mod.rs"]
mod databases;

use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::Duration;

use databases::TestDatabase;
use tokio::io::{AsyncBufReadExt, BufReader};

sql_suite!(
    init_db_bootstraps_an_administrator_once,
    users_groups_and_grants_from_the_terminal,
    commands_report_duplicates_and_missing_rows,
    commands_need_an_initialized_database,
    serve_initializes_on_the_first_run_only,
);

/// The `demo` binary, which cargo builds for this test.
fn demo_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_demo"))
}

struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

async fn demo(url: &str, args: &[&str]) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = tokio::process::Command::new(demo_binary())
        .arg("--database-url")
        .arg(url)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("DEMO_ADMIN_USER")
        .env_remove("DEMO_ADMIN_PASSWORD")
        .output()
        .await
        .expect("the demo runs");
    Run {
        status: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

async fn ok(url: &str, args: &[&str]) -> String {
    let run = demo(url, args).await;
    assert_eq!(run.status, 0, "demo {args:?} failed: {}", run.stderr);
    run.stdout
}

async fn fails(url: &str, args: &[&str]) -> String {
    let run = demo(url, args).await;
    assert_eq!(run.status, 1, "demo {args:?} should fail: {}", run.stdout);
    run.stderr
}

async fn init_db_bootstraps_an_administrator_once(database: &TestDatabase) {
    let url = &database.url;
    let out = ok(
        url,
        &[
            "init-db",
            "--admin-user",
            "root",
            "--admin-password",
            "s3cret",
        ],
    )
    .await;
    assert!(
        out.contains("created user \"root\" with password \"s3cret\""),
        "{out}"
    );
    assert!(
        out.contains("created user \"editor\" with password"),
        "{out}"
    );
    let again = ok(url, &["init-db", "--admin-user", "root"]).await;
    assert_eq!(
        again,
        "the database was initialized already; nothing created\n"
    );
    let users = ok(url, &["user", "list"]).await;
    assert_eq!(users, "editor\twriters\nroot\tadmin\n");
    let groups = ok(url, &["group", "list"]).await;
    assert!(
        groups.contains("admin\troot\tmanage, manage_users, release\n"),
        "{groups}"
    );
}

async fn users_groups_and_grants_from_the_terminal(database: &TestDatabase) {
    let url = &database.url;
    ok(url, &["init-db", "--admin-password", "s3cret"]).await;
    assert_eq!(
        ok(url, &["user", "add", "alice", "--password", "wonderland"]).await,
        "created user \"alice\"\n"
    );
    let generated = ok(url, &["user", "add", "bob"]).await;
    assert!(
        generated.starts_with("created user \"bob\" with password \""),
        "{generated}"
    );
    ok(url, &["group", "add", "editors"]).await;
    assert_eq!(
        ok(url, &["group", "add-member", "editors", "alice"]).await,
        "added \"alice\" to \"editors\"\n"
    );
    assert_eq!(
        ok(url, &["grant", "publish", "editors"]).await,
        "granted \"publish\" to \"editors\"\n"
    );
    let groups = ok(url, &["group", "list"]).await;
    assert!(groups.contains("editors\talice\tpublish\n"), "{groups}");
    ok(url, &["revoke", "publish", "editors"]).await;
    ok(url, &["group", "remove-member", "editors", "alice"]).await;
    let groups = ok(url, &["group", "list"]).await;
    assert!(groups.contains("editors\t\t\n"), "{groups}");
    ok(
        url,
        &["user", "password", "alice", "--password", "looking-glass"],
    )
    .await;
    let token = ok(url, &["token", "alice"]).await;
    assert!(token.trim().len() >= 32, "{token}");
    ok(url, &["group", "remove", "editors"]).await;
    assert_eq!(
        ok(url, &["user", "remove", "bob"]).await,
        "deleted user \"bob\"\n"
    );
    assert_eq!(
        ok(url, &["user", "list"]).await,
        "alice\t\neditor\twriters\nroot\tadmin\n"
    );
}

async fn commands_report_duplicates_and_missing_rows(database: &TestDatabase) {
    let url = &database.url;
    ok(url, &["init-db", "--admin-password", "s3cret"]).await;
    assert_eq!(
        fails(url, &["user", "add", "root", "--password", "x"]).await,
        "demo: a user named \"root\" already exists\n"
    );
    assert_eq!(
        fails(url, &["group", "add", "admin"]).await,
        "demo: a group named \"admin\" already exists\n"
    );
    assert_eq!(
        fails(url, &["user", "remove", "nobody"]).await,
        "demo: there is no user named \"nobody\"\n"
    );
    assert_eq!(
        fails(url, &["group", "add-member", "admin", "nobody"]).await,
        "demo: there is no user named \"nobody\"\n"
    );
    assert_eq!(
        fails(url, &["token", "nobody"]).await,
        "demo: there is no user named \"nobody\"\n"
    );
    assert_eq!(
        fails(url, &["user", "add", " padded"]).await,
        "demo: invalid user name \" padded\": it has leading or trailing whitespace\n"
    );
    assert_eq!(
        fails(url, &["user", "password", "root", "--password", ""]).await,
        "demo: the password is empty\n"
    );
}

async fn commands_need_an_initialized_database(database: &TestDatabase) {
    let url = &database.url;
    assert_eq!(
        fails(url, &["user", "list"]).await,
        "demo: the database is not initialized: run `demo init-db` first\n"
    );
}

async fn serve_initializes_on_the_first_run_only(database: &TestDatabase) {
    let url = &database.url;
    let first = serve_once(url).await;
    assert!(first.contains("first run: initializing"), "{first}");
    assert!(
        first.contains("created user \"root\" with password \""),
        "{first}"
    );
    let second = serve_once(url).await;
    assert!(!second.contains("created user"), "{second}");
}

/// Starts `demo serve` on an ephemeral port, reads what it prints until it listens, checks
/// that it answers, stops it, and returns what it printed.
async fn serve_once(url: &str) -> String {
    let mut child = tokio::process::Command::new(demo_binary())
        .args(["--database-url", url, "serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the demo starts");
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    let mut printed = String::new();
    let address = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("readable output") {
            printed.push_str(&line);
            printed.push('\n');
            if let Some(address) = line.strip_prefix("authz demo listening on ") {
                return address.to_owned();
            }
        }
        panic!("the demo stopped before listening: {printed}");
    })
    .await
    .expect("the demo listens within a minute");
    let home = reqwest::get(&address).await.expect("the demo answers");
    assert_eq!(home.status(), reqwest::StatusCode::OK);
    child.kill().await.expect("the demo stops");
    printed
}

#[tokio::test]
async fn a_bad_database_url_is_refused_clearly() {
    let run = demo("foo://nowhere", &["user", "list"]).await;
    assert_eq!(run.status, 1);
    assert_eq!(
        run.stderr,
        "demo: unsupported database URL `foo://nowhere`: expected one starting with `sqlite:`, \
         `postgres:` or `mysql:`\n"
    );
}

#[tokio::test]
async fn an_unreachable_database_is_reported() {
    // Nothing listens on port 1 of the loopback interface.
    let run = demo(
        "postgres://authz:secret@127.0.0.1:1/authz",
        &["user", "list"],
    )
    .await;
    assert_eq!(run.status, 1);
    assert!(
        run.stderr.starts_with(
            "demo: cannot connect to the database at postgres://authz:***@127.0.0.1:1/authz: "
        ),
        "{}",
        run.stderr
    );
}
