//! Every `demo` command, run as a user would run it, on SQLite, PostgreSQL and MariaDB: what it
//! prints, its exit status, and its errors.

// The per-test databases of the workspace's test suites.
#[path = "../../tests/tests/databases/mod.rs"]
mod databases;

use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::Duration;

use databases::TestDatabase;
use demo::db::Demo;
use tokio::io::{AsyncBufReadExt, BufReader};

sql_suite!(
    init_db_bootstraps_an_administrator_once,
    init_db_reads_the_administrator_from_the_environment,
    users_groups_and_grants_from_the_terminal,
    commands_report_duplicates_and_missing_rows,
    commands_report_missing_groups_members_and_grants,
    a_user_with_an_empty_password_is_not_created,
    commands_need_an_initialized_database,
    a_database_error_is_not_taken_for_an_uninitialized_database,
    serve_initializes_on_the_first_run_only,
    serve_marks_cookies_secure_when_told,
    a_member_removed_from_the_terminal_loses_access_within_a_second,
    api_tokens_expire_are_listed_and_revoked_and_die_with_their_account,
    sessions_end_at_sign_out_with_a_new_password_and_everywhere,
    a_new_user_of_a_removed_name_starts_with_nothing,
    posts_of_an_earlier_version_keep_their_authors,
);

/// Whether `password` is the one stored for `name`.
async fn password_matches(demo: &Demo, name: &str, password: &str) -> bool {
    let stored = demo.stored_password(name).await.unwrap();
    let checks = authz_runtime::signin::PasswordChecks::new();
    checks.verify(password, stored.as_deref()).await.unwrap()
}

/// The `demo` binary, which cargo builds for this test.
fn demo_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_demo"))
}

struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

/// The environment variables the demo reads, removed from every run but those that set them.
const DEMO_VARIABLES: [&str; 9] = [
    "DATABASE_URL",
    "DEMO_ADDR",
    "DEMO_ADMIN_USER",
    "DEMO_ADMIN_PASSWORD",
    "DEMO_SECURE_COOKIES",
    "DEMO_HEADER_READ_TIMEOUT",
    "DEMO_REQUEST_TIMEOUT",
    "DEMO_PASSWORD_CHECKS",
    "RUST_LOG",
];

/// `demo` with only `environment` of the demo's variables set.
fn command(environment: &[(&str, &str)]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(demo_binary());
    for variable in DEMO_VARIABLES {
        command.env_remove(variable);
    }
    command.envs(environment.iter().copied());
    command
}

async fn demo(url: &str, args: &[&str]) -> Run {
    demo_with(url, args, &[]).await
}

async fn demo_with(url: &str, args: &[&str], environment: &[(&str, &str)]) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = command(environment)
        .arg("--database-url")
        .arg(url)
        .args(args)
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

async fn init_db_reads_the_administrator_from_the_environment(database: &TestDatabase) {
    let url = &database.url;
    let run = demo_with(
        url,
        &["init-db"],
        &[
            ("DEMO_ADMIN_USER", "boss"),
            ("DEMO_ADMIN_PASSWORD", "from-the-environment"),
        ],
    )
    .await;
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("created user \"boss\" with password \"from-the-environment\""),
        "{}",
        run.stdout
    );
    assert_eq!(
        ok(url, &["user", "list"]).await,
        "boss\tadmin\neditor\twriters\n"
    );
    let demo = Demo::open(url).await.unwrap();
    assert!(password_matches(&demo, "boss", "from-the-environment").await);
    // Flags win over the environment.
    let other = databases::TestDatabase::create(database.backend)
        .await
        .expect("a second database");
    let run = demo_with(
        &other.url,
        &[
            "init-db",
            "--admin-user",
            "chief",
            "--admin-password",
            "flag",
        ],
        &[
            ("DEMO_ADMIN_USER", "boss"),
            ("DEMO_ADMIN_PASSWORD", "from-the-environment"),
        ],
    )
    .await;
    assert!(
        run.stdout
            .contains("created user \"chief\" with password \"flag\""),
        "{}",
        run.stdout
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

async fn commands_report_missing_groups_members_and_grants(database: &TestDatabase) {
    let url = &database.url;
    ok(url, &["init-db", "--admin-password", "s3cret"]).await;
    for (args, error) in [
        (
            &["group", "remove", "nogroup"][..],
            "there is no group named \"nogroup\"",
        ),
        (
            &["group", "remove-member", "admin", "nobody"],
            "there is no user named \"nobody\"",
        ),
        (
            &["group", "remove-member", "nogroup", "root"],
            "there is no group named \"nogroup\"",
        ),
        (
            &["group", "remove-member", "writers", "root"],
            "\"root\" is not a member of \"writers\"",
        ),
        (
            &["revoke", "release", "writers"],
            "\"release\" is not granted to \"writers\"",
        ),
        (
            &["revoke", "nosuch", "admin"],
            "there is no permission named \"nosuch\"",
        ),
        (
            &["revoke", "release", "nogroup"],
            "there is no group named \"nogroup\"",
        ),
        (
            &["grant", "publish", "nogroup"],
            "there is no group named \"nogroup\"",
        ),
        (
            &["user", "password", "nobody", "--password", "x"],
            "there is no user named \"nobody\"",
        ),
    ] {
        assert_eq!(
            fails(url, args).await,
            format!("demo: {error}\n"),
            "{args:?}"
        );
    }
    // Nothing changed: root is still in admin, admin still releases, and the grant to a
    // missing group created no permission.
    let groups = ok(url, &["group", "list"]).await;
    assert!(
        groups.contains("admin\troot\tmanage, manage_users, release\n"),
        "{groups}"
    );
    let demo = Demo::open(url).await.unwrap();
    let permissions = demo.store.permissions().await.unwrap();
    assert!(
        !permissions.iter().any(|p| p == "publish"),
        "{permissions:?}"
    );
}

async fn a_user_with_an_empty_password_is_not_created(database: &TestDatabase) {
    let url = &database.url;
    ok(url, &["init-db", "--admin-password", "s3cret"]).await;
    assert_eq!(
        fails(url, &["user", "add", "x", "--password", ""]).await,
        "demo: the password is empty\n"
    );
    assert_eq!(
        ok(url, &["user", "list"]).await,
        "editor\twriters\nroot\tadmin\n"
    );
    let demo = Demo::open(url).await.unwrap();
    assert!(!demo.store.user_exists("x").await.unwrap());
    // Now it can be created, with a password.
    ok(url, &["user", "add", "x", "--password", "y"]).await;
    assert!(password_matches(&demo, "x", "y").await);
}

async fn commands_need_an_initialized_database(database: &TestDatabase) {
    let url = &database.url;
    assert_eq!(
        fails(url, &["user", "list"]).await,
        "demo: the database is not initialized: run `demo init-db` first\n"
    );
}

/// A database that exists but whose demo tables are not the demo's is an error to report,
/// not a reason to run `init-db`.
async fn a_database_error_is_not_taken_for_an_uninitialized_database(database: &TestDatabase) {
    let url = &database.url;
    let demo = Demo::open(url).await.unwrap();
    sqlx::query("CREATE TABLE demo_setting (something_else INTEGER)")
        .execute(demo.store.pool().as_any().unwrap())
        .await
        .unwrap();
    let error = fails(url, &["user", "list"]).await;
    assert!(error.starts_with("demo: database error: "), "{error}");
    assert!(!error.contains("init-db"), "{error}");
    assert!(demo.is_initialized().await.is_err());
}

async fn serve_initializes_on_the_first_run_only(database: &TestDatabase) {
    let url = &database.url;
    let first = serve_once(url, &[]).await;
    assert!(
        first.printed.contains("first run: initializing"),
        "{first:?}"
    );
    assert!(
        first
            .printed
            .contains("created user \"root\" with password \""),
        "{first:?}"
    );
    let second = serve_once(url, &[]).await;
    assert!(!second.printed.contains("created user"), "{second:?}");
    // Without the setting, the cookies are not Secure.
    assert!(!first.csrf_cookie.contains("Secure"), "{first:?}");
}

async fn serve_marks_cookies_secure_when_told(database: &TestDatabase) {
    let url = &database.url;
    ok(url, &["init-db", "--admin-password", "s3cret"]).await;
    let served = serve_once(url, &[("DEMO_SECURE_COOKIES", "1")]).await;
    assert!(
        served
            .printed
            .contains("cookies are marked Secure: browsers send them over HTTPS only"),
        "{served:?}"
    );
    assert!(served.csrf_cookie.ends_with("; Secure"), "{served:?}");
    let flagged = serve_once(url, &[]).await;
    assert!(!flagged.csrf_cookie.contains("Secure"), "{flagged:?}");
}

/// What a run of `demo serve` showed.
#[derive(Debug)]
struct Served {
    /// What it printed until it listened.
    printed: String,
    /// The `Set-Cookie` of the CSRF token on its home page.
    csrf_cookie: String,
}

/// Starts `demo serve` on an ephemeral port with `environment`, and checks it as
/// [`check_serving`] does.
async fn serve_once(url: &str, environment: &[(&str, &str)]) -> Served {
    let mut child = command(environment);
    child.args(["--database-url", url, "serve", "--addr", "127.0.0.1:0"]);
    check_serving(child).await
}

/// A running server sees what another process (`demo group remove-member`) changes at once,
/// not when its cache's entry expires: an administrator removed from `admin` is refused
/// `/admin` within a second, and one removed altogether is anonymous.
async fn a_member_removed_from_the_terminal_loses_access_within_a_second(database: &TestDatabase) {
    let url = &database.url;
    ok(url, &["init-db", "--admin-password", "s3cret"]).await;
    ok(url, &["user", "add", "ops", "--password", "ops-password"]).await;
    ok(url, &["group", "add-member", "admin", "ops"]).await;
    let mut command = command(&[]);
    command.args(["--database-url", url, "serve", "--addr", "127.0.0.1:0"]);
    let (_server, base, _) = start_serving(&mut command).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // Sign in as ops: the form's CSRF cookie and token, then the ticket.
    let form = client.get(format!("{base}/login")).send().await.unwrap();
    let csrf_cookie = set_cookie(&form, "demo_csrf=");
    let page = form.text().await.unwrap();
    let token = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form carries the CSRF token");
    let signed_in = client
        .post(format!("{base}/login"))
        .header(reqwest::header::COOKIE, &csrf_cookie)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(format!(
            "csrf={token}&came_from=%2F&user=ops&password=ops-password"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), reqwest::StatusCode::SEE_OTHER);
    let cookies = format!("{csrf_cookie}; {}", set_cookie(&signed_in, "authz_ticket="));
    let admin = || async {
        client
            .get(format!("{base}/admin"))
            .header(reqwest::header::COOKIE, &cookies)
            .header(reqwest::header::ACCEPT, "text/html")
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(admin().await, reqwest::StatusCode::OK);
    assert_eq!(
        admin().await,
        reqwest::StatusCode::OK,
        "served from the cache"
    );

    for (args, refused) in [
        (
            &["group", "remove-member", "admin", "ops"][..],
            reqwest::StatusCode::FORBIDDEN,
        ),
        (
            &["user", "remove", "ops"][..],
            reqwest::StatusCode::SEE_OTHER,
        ),
    ] {
        ok(url, args).await;
        let changed = std::time::Instant::now();
        while admin().await != refused {
            assert!(
                changed.elapsed() < Duration::from_secs(1),
                "`demo {}` not seen by the server after a second",
                args.join(" ")
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// API tokens: each with an expiry (`--expires-in`), listed by `demo tokens` (never the token
/// itself), revoked by `demo revoke-token`; and tied to the account, not the name: a user
/// deleted and made again under the same name has none of the old tokens. Each seen over
/// HTTP by a running server.
async fn api_tokens_expire_are_listed_and_revoked_and_die_with_their_account(
    database: &TestDatabase,
) {
    let url = &database.url;
    ok(url, &["init-db", "--admin-password", "s3cret"]).await;
    ok(url, &["user", "add", "alice", "--password", "wonderland"]).await;
    let lasting = ok(url, &["token", "alice", "--expires-in", "1h"]).await;
    let brief = ok(url, &["token", "alice", "--expires-in", "1s"]).await;
    let root = ok(url, &["token", "root"]).await;
    let (lasting, brief, root) = (lasting.trim(), brief.trim(), root.trim());

    let listed = ok(url, &["tokens"]).await;
    let rows: Vec<Vec<&str>> = listed
        .lines()
        .map(|line| line.split('\t').collect())
        .collect();
    assert_eq!(rows.len(), 3, "{listed}");
    let users: Vec<&str> = rows.iter().map(|row| row[1]).collect();
    assert_eq!(users, ["alice", "alice", "root"]);
    for row in &rows {
        assert!(
            row[2].ends_with(" UTC") && row[3].ends_with(" UTC"),
            "{listed}"
        );
    }
    assert!(
        !listed.contains(lasting) && !listed.contains(brief),
        "only ids: {listed}"
    );
    assert_eq!(ok(url, &["tokens", "alice"]).await.lines().count(), 2);
    let refused = demo(url, &["token", "alice", "--expires-in", "soon"]).await;
    assert_ne!(refused.status, 0);
    assert!(
        refused.stderr.contains("expected a duration such as"),
        "{}",
        refused.stderr
    );

    let mut command = command(&[]);
    command.args(["--database-url", url, "serve", "--addr", "127.0.0.1:0"]);
    let (_server, base, _) = start_serving(&mut command).await;
    let me = |token: String| {
        let base = base.clone();
        async move {
            let response = reqwest::Client::new()
                .get(format!("{base}/api/me"))
                .header(reqwest::header::AUTHORIZATION, format!("Bearer {token}"))
                .header(reqwest::header::ACCEPT, "application/json")
                .send()
                .await
                .unwrap();
            let status = response.status();
            (status, response.text().await.unwrap())
        }
    };
    assert_eq!(
        me(lasting.to_owned()).await,
        (reqwest::StatusCode::OK, r#"{"user":"alice"}"#.to_owned())
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        me(brief.to_owned()).await.0,
        reqwest::StatusCode::UNAUTHORIZED,
        "expired"
    );

    let lasting_id = rows[0][0];
    assert_eq!(
        ok(url, &["revoke-token", lasting_id]).await,
        format!("revoked token {lasting_id}\n")
    );
    assert_eq!(
        me(lasting.to_owned()).await.0,
        reqwest::StatusCode::UNAUTHORIZED,
        "revoked"
    );
    assert_eq!(
        fails(url, &["revoke-token", lasting_id]).await,
        format!("demo: there is no token {lasting_id}\n")
    );
    assert_eq!(
        me(root.to_owned()).await.0,
        reqwest::StatusCode::OK,
        "others' tokens stay"
    );

    // A new alice is a new account: the old alice's token does not work for her.
    let old = ok(url, &["token", "alice"]).await;
    ok(url, &["user", "remove", "alice"]).await;
    ok(
        url,
        &["user", "add", "alice", "--password", "looking-glass"],
    )
    .await;
    assert_eq!(
        me(old.trim().to_owned()).await.0,
        reqwest::StatusCode::UNAUTHORIZED
    );
    assert_eq!(ok(url, &["tokens", "alice"]).await, "");
}

/// The `name=value` of the `Set-Cookie` of `response` whose value starts with `prefix`.
fn set_cookie(response: &reqwest::Response, prefix: &str) -> String {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|cookie| cookie.starts_with(prefix))
        .and_then(|cookie| cookie.split(';').next())
        .unwrap_or_else(|| panic!("a {prefix} cookie"))
        .to_owned()
}

/// Starts the demo and reads what it prints until it listens: the running server (stopped
/// when dropped), its address, and what it printed.
async fn start_serving(
    command: &mut tokio::process::Command,
) -> (tokio::process::Child, String, String) {
    let mut child = command
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
    // Keep reading its output, so that it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, address, printed)
}

/// Starts the demo, reads what it prints until it listens, checks that it answers, stops it,
/// and returns what it showed.
async fn check_serving(mut command: tokio::process::Command) -> Served {
    let (mut child, address, printed) = start_serving(&mut command).await;
    let home = reqwest::get(&address).await.expect("the demo answers");
    assert_eq!(home.status(), reqwest::StatusCode::OK);
    let csrf_cookie = home
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|cookie| cookie.starts_with("demo_csrf=") || cookie.starts_with("__Host-demo_csrf="))
        .expect("the home page sets the CSRF cookie")
        .to_owned();
    let body = home.text().await.expect("the home page arrives");
    assert!(body.contains("<h1>The blog</h1>"), "{body}");
    child.kill().await.expect("the demo stops");
    Served {
        printed,
        csrf_cookie,
    }
}

/// `cargo run -p demo`: no command, no settings, in a fresh directory: it creates `demo.db`
/// there, prints the administrator's credentials, and serves.
#[tokio::test]
async fn without_a_command_the_demo_serves_a_fresh_sqlite_file() {
    let directory = std::env::temp_dir().join(databases::unique_name("authz_demo_default"));
    std::fs::create_dir_all(&directory).expect("a fresh directory");
    let mut child = command(&[("DEMO_ADDR", "127.0.0.1:0")]);
    child.current_dir(&directory);
    let served = check_serving(child).await;
    let _ = std::fs::remove_dir_all(&directory);
    assert!(
        served
            .printed
            .starts_with("first run: initializing sqlite://demo.db?mode=rwc\n"),
        "{served:?}"
    );
    assert!(
        served
            .printed
            .contains("created user \"root\" with password \""),
        "{served:?}"
    );
    assert!(
        served
            .printed
            .contains("created user \"editor\" with password \""),
        "{served:?}"
    );
    assert!(
        served
            .printed
            .contains("authz demo listening on http://127.0.0.1:"),
        "{served:?}"
    );
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

#[tokio::test]
async fn a_bad_setting_in_the_environment_is_reported_without_a_command() {
    let run = command(&[("DEMO_SECURE_COOKIES", "maybe")])
        .output()
        .await
        .expect("the demo runs");
    assert_eq!(run.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&run.stderr),
        "demo: invalid value 'maybe' for '--secure-cookies': value was not a boolean\n"
    );
}

#[tokio::test]
async fn a_malformed_mariadb_url_is_refused_clearly() {
    let run = demo(
        "mysql://root:secret@127.0.0.1:notaport/authz",
        &["user", "list"],
    )
    .await;
    assert_eq!(run.status, 1);
    assert_eq!(
        run.stderr,
        "demo: invalid database URL mysql://root:***@127.0.0.1:notaport/authz: invalid port \
         number\n"
    );
}

#[tokio::test]
async fn an_unreachable_mariadb_is_reported() {
    let run = demo("mysql://authz:secret@127.0.0.1:1/authz", &["user", "list"]).await;
    assert_eq!(run.status, 1);
    assert!(
        run.stderr.starts_with(
            "demo: cannot connect to the database at mysql://authz:***@127.0.0.1:1/authz: "
        ),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn a_bad_sqlite_path_is_reported() {
    let url = "sqlite:///nonexistent-authz-directory/sub/demo.db?mode=rwc";
    let run = demo(url, &["init-db"]).await;
    assert_eq!(run.status, 1);
    assert!(
        run.stderr
            .starts_with(&format!("demo: cannot connect to the database at {url}: ")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("unable to open database file"),
        "{}",
        run.stderr
    );
}

/// `demo policies`: every guarded handler of the demo with its rule, as a table and as JSON.
#[tokio::test]
async fn policies_lists_every_guarded_handler() {
    let expected = [
        (
            "demo::web::admin::home",
            "allow_only",
            r#"in_group("admin")"#,
            None,
        ),
        (
            "demo::web::admin::policies",
            "allow_only",
            r#"in_group("admin")"#,
            None,
        ),
        ("demo::web::api::me", "require", "not_anonymous()", None),
        ("demo::web::api::posts", "require", "not_anonymous()", None),
        (
            "demo::web::api::remove_post",
            "require",
            r#"any(is_user("root"), has_permission("manage"))"#,
            Some("Only administrators can remove blog posts"),
        ),
        (
            "demo::web::edit_form",
            "require",
            r#"any(is_author(), has_permission("manage"))"#,
            None,
        ),
        (
            "demo::web::edit_post",
            "require",
            r#"any(is_author(), has_permission("manage"))"#,
            None,
        ),
        (
            "demo::web::manage::change",
            "allow_only",
            r#"has_permission("manage_users")"#,
            None,
        ),
        (
            "demo::web::manage::page",
            "allow_only",
            r#"has_permission("manage_users")"#,
            None,
        ),
        (
            "demo::web::release",
            "require",
            r#"all(any(is_month(4), is_month(10)), has_permission("release"))"#,
            None,
        ),
        (
            "demo::web::remove_post",
            "require",
            r#"any(is_user("root"), has_permission("manage"))"#,
            Some("Only administrators can remove blog posts"),
        ),
    ];
    // No database is needed to list the rules: they were compiled into the program.
    let json = ok("sqlite::memory:", &["policies", "--json"]).await;
    let listed: Vec<serde_json::Value> = serde_json::from_str(&json).expect("JSON");
    let seen: Vec<(&str, &str, &str, Option<&str>)> = listed
        .iter()
        .map(|policy| {
            (
                policy["handler"].as_str().unwrap(),
                policy["attribute"].as_str().unwrap(),
                policy["rule"].as_str().unwrap(),
                policy["message"].as_str(),
            )
        })
        .collect();
    assert_eq!(seen, expected);
    for policy in &listed {
        let location = policy["location"].as_str().unwrap();
        assert!(location.starts_with("demo/src/web.rs:"), "{location}");
        assert_eq!(policy["tree"]["text"], policy["rule"]);
    }
    // The release rule's tree, as the macros compiled it.
    let release = &listed[9]["tree"];
    assert_eq!(release["kind"], "all");
    assert_eq!(release["children"][0]["kind"], "any");
    assert_eq!(release["children"][0]["children"][1]["kind"], "custom");
    assert_eq!(
        release["children"][0]["children"][1]["text"],
        "is_month(10)"
    );
    assert_eq!(
        release["children"][1]["message"],
        r#"The user must have the "release" permission"#
    );

    let table = ok("sqlite::memory:", &["policies"]).await;
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), expected.len() + 1, "{table}");
    assert!(lines[0].starts_with("HANDLER"), "{table}");
    for ((handler, attribute, rule, message), line) in expected.iter().zip(&lines[1..]) {
        let cells: Vec<&str> = line.split("  ").filter(|cell| !cell.is_empty()).collect();
        assert_eq!(cells[0].trim(), *handler, "{line}");
        assert_eq!(cells[1].trim(), *attribute, "{line}");
        assert_eq!(cells[2].trim(), *rule, "{line}");
        assert_eq!(cells[3].trim(), message.unwrap_or("-"), "{line}");
    }
}

/// A browser on a running demo: its cookies (the CSRF cookie, and the ticket once signed in),
/// kept by hand so that a test can copy them to another "browser".
#[derive(Clone)]
struct Browser {
    base: String,
    cookies: Vec<(String, String)>,
}

impl Browser {
    fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            cookies: Vec::new(),
        }
    }

    fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    fn keep(&mut self, response: &reqwest::Response) {
        for set_cookie in response.headers().get_all(reqwest::header::SET_COOKIE) {
            let pair = set_cookie.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(kept, _)| kept != name);
            if !value.is_empty() {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    fn cookie_header(&self) -> String {
        let pairs: Vec<String> = self
            .cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        pairs.join("; ")
    }

    /// `GET path` as a browser asks: its status and page.
    async fn get(&mut self, path: &str) -> (reqwest::StatusCode, String) {
        let response = Self::client()
            .get(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, self.cookie_header())
            .header(reqwest::header::ACCEPT, "text/html")
            .send()
            .await
            .unwrap();
        self.keep(&response);
        (response.status(), response.text().await.unwrap())
    }

    /// Posts a form from the page at `page` (for its CSRF token) to `action`.
    async fn submit(
        &mut self,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let (_, page) = self.get(page).await;
        let token = page
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the page carries a CSRF token")
            .to_owned();
        let mut body = form_urlencoded::Serializer::new(String::new());
        body.append_pair("csrf", &token);
        for (name, value) in fields {
            body.append_pair(name, value);
        }
        let response = Self::client()
            .post(format!("{}{action}", self.base))
            .header(reqwest::header::COOKIE, self.cookie_header())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body.finish())
            .send()
            .await
            .unwrap();
        self.keep(&response);
        response
    }

    /// Signs in through the login form.
    async fn sign_in(base: &str, user: &str, password: &str) -> Self {
        let mut browser = Self::new(base);
        let fields = [("came_from", "/"), ("user", user), ("password", password)];
        let signed_in = browser.submit("/login", "/login", &fields).await;
        assert_eq!(
            signed_in.status(),
            reqwest::StatusCode::SEE_OTHER,
            "{user} signs in"
        );
        browser
    }

    /// Who the site says is signed in.
    async fn user(&mut self) -> Option<String> {
        let (_, page) = self.get("/").await;
        let (_, rest) = page.split_once("Signed in as <strong>")?;
        Some(rest.split_once("</strong>")?.0.to_owned())
    }
}

/// Polls until `browser` is anonymous, for at most a second.
async fn signed_out_within_a_second(browser: &mut Browser, after: &str) {
    let changed = std::time::Instant::now();
    while let Some(user) = browser.user().await {
        assert!(
            changed.elapsed() < Duration::from_secs(1),
            "{user} still signed in a second after {after}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Signing out ends the user's every session: the browser's ticket, a copy of it, and the
/// user's other browsers. So do a new password and `demo user sign-out`, from the terminal
/// while the server runs (another process), within a second.
async fn sessions_end_at_sign_out_with_a_new_password_and_everywhere(database: &TestDatabase) {
    let url = &database.url;
    ok(url, &["init-db", "--admin-password", "s3cret"]).await;
    ok(url, &["user", "add", "alice", "--password", "wonderland"]).await;
    let mut command = command(&[]);
    command.args(["--database-url", url, "serve", "--addr", "127.0.0.1:0"]);
    let (_server, base, _) = start_serving(&mut command).await;

    let mut laptop = Browser::sign_in(&base, "alice", "wonderland").await;
    let mut phone = Browser::sign_in(&base, "alice", "wonderland").await;
    let mut copied = laptop.clone();
    assert_eq!(copied.user().await.as_deref(), Some("alice"));
    assert_eq!(phone.user().await.as_deref(), Some("alice"));
    let signed_out = laptop.submit("/", "/logout", &[]).await;
    assert_eq!(signed_out.status(), reqwest::StatusCode::SEE_OTHER);
    assert_eq!(laptop.user().await, None);
    assert_eq!(copied.user().await, None, "a copy of the ticket is refused");
    assert_eq!(phone.user().await, None, "signed out everywhere");
    let (status, _) = copied.get("/admin").await;
    assert_eq!(status, reqwest::StatusCode::SEE_OTHER, "told to sign in");

    let mut browser = Browser::sign_in(&base, "alice", "wonderland").await;
    assert_eq!(browser.user().await.as_deref(), Some("alice"));
    assert_eq!(
        ok(
            url,
            &["user", "password", "alice", "--password", "looking-glass"]
        )
        .await,
        "changed the password of \"alice\" and ended their sessions\n"
    );
    signed_out_within_a_second(&mut browser, "a new password").await;

    let mut browser = Browser::sign_in(&base, "alice", "looking-glass").await;
    assert_eq!(browser.user().await.as_deref(), Some("alice"));
    assert_eq!(
        ok(url, &["user", "sign-out", "alice"]).await,
        "ended every session of \"alice\"\n"
    );
    signed_out_within_a_second(&mut browser, "`demo user sign-out`").await;
    assert_eq!(
        fails(url, &["user", "sign-out", "nobody"]).await,
        "demo: there is no user named \"nobody\"\n"
    );
}

/// Identities are accounts, not names: delete `editor`, create a new `editor`, and the new
/// one has none of the old one's sessions, and did not write the old one's post.
async fn a_new_user_of_a_removed_name_starts_with_nothing(database: &TestDatabase) {
    let url = &database.url;
    ok(url, &["init-db", "--admin-password", "s3cret"]).await;
    ok(
        url,
        &["user", "password", "editor", "--password", "first-editor"],
    )
    .await;
    let mut command = command(&[]);
    command.args(["--database-url", url, "serve", "--addr", "127.0.0.1:0"]);
    let (_server, base, _) = start_serving(&mut command).await;

    // The editor's post is the second of init-db's two.
    let mut old = Browser::sign_in(&base, "editor", "first-editor").await;
    let (status, _) = old.get("/posts/2/edit").await;
    assert_eq!(status, reqwest::StatusCode::OK, "the author may edit");
    let (_, page) = old.get("/posts/2").await;
    assert!(page.contains("by editor"), "{page}");

    ok(url, &["user", "remove", "editor"]).await;
    ok(
        url,
        &["user", "add", "editor", "--password", "second-editor"],
    )
    .await;
    signed_out_within_a_second(&mut old, "the user was removed").await;
    let mut new = Browser::sign_in(&base, "editor", "second-editor").await;
    assert_eq!(new.user().await.as_deref(), Some("editor"));
    let (status, page) = new.get("/posts/2/edit").await;
    assert_eq!(status, reqwest::StatusCode::FORBIDDEN, "{page}");
    assert!(
        page.contains("Only the author of post 2 can edit it"),
        "{page}"
    );
    let (_, page) = new.get("/posts/2").await;
    assert!(page.contains("by a former user"), "{page}");
    assert!(!page.contains("/posts/2/edit"), "no edit link: {page}");
}

/// A database whose posts name their authors by name, as earlier versions wrote them, keeps
/// every post, each now by the account of that name.
async fn posts_of_an_earlier_version_keep_their_authors(database: &TestDatabase) {
    let url = &database.url;
    ok(url, &["init-db", "--admin-password", "s3cret"]).await;
    let demo = Demo::open(url).await.unwrap();
    let pool = demo.store.pool().as_any().unwrap().clone();
    let old_table = match url.split(':').next().unwrap() {
        "sqlite" => {
            "CREATE TABLE demo_post (id INTEGER PRIMARY KEY AUTOINCREMENT, \
                     author VARCHAR(255) NOT NULL, title VARCHAR(255) NOT NULL, body TEXT NOT NULL)"
        }
        "postgres" => {
            "CREATE TABLE demo_post (id BIGINT GENERATED BY DEFAULT AS IDENTITY \
                       PRIMARY KEY, author VARCHAR(255) NOT NULL, title VARCHAR(255) NOT NULL, \
                       body TEXT NOT NULL)"
        }
        _ => {
            "CREATE TABLE demo_post (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, \
              author VARCHAR(255) NOT NULL, title VARCHAR(255) NOT NULL, body TEXT NOT NULL) \
              ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
        }
    };
    for statement in [
        "DROP TABLE demo_post",
        old_table,
        "INSERT INTO demo_post (author, title, body) VALUES ('editor', 'Old', 'By the editor')",
        "INSERT INTO demo_post (author, title, body) VALUES ('gone', 'Older', 'By nobody now')",
    ] {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    drop(demo);
    // Any command brings the database up to date.
    ok(url, &["user", "list"]).await;
    let demo = Demo::open(url).await.unwrap();
    let posts = demo.posts().await.unwrap();
    let authors: Vec<(&str, Option<&str>)> = posts
        .iter()
        .map(|post| (post.title.as_str(), post.author.as_deref()))
        .collect();
    assert_eq!(authors, [("Older", None), ("Old", Some("editor"))]);
    // And again: nothing more to do.
    ok(url, &["user", "list"]).await;
    assert_eq!(demo.posts().await.unwrap().len(), 2);

    // Cut short after the key was added (MySQL commits each `ALTER` by itself): the next
    // command finishes the work.
    let pool = demo.store.pool().as_any().unwrap().clone();
    for statement in [
        "ALTER TABLE demo_post ADD COLUMN author VARCHAR(255) NULL",
        "UPDATE demo_post SET author = 'editor', author_id = NULL",
    ] {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    ok(url, &["user", "list"]).await;
    let authors: Vec<Option<String>> = demo
        .posts()
        .await
        .unwrap()
        .into_iter()
        .map(|post| post.author)
        .collect();
    assert_eq!(
        authors,
        [Some("editor".to_owned()), Some("editor".to_owned())]
    );
}
