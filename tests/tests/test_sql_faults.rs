//! The SQL store under faults, on the shared PostgreSQL and MariaDB servers without disturbing
//! other tests: connections closed by the server, an outage and a restart staged by a proxy, a
//! server that stops answering, a commit whose answer is lost, and two app instances keeping
//! their caches in step.

mod databases;
mod support;

use std::time::{Duration, Instant};

use authz_runtime::sql::{CacheSettings, PoolSettings, SqlError, SqlStore, SqlStoreBuilder};
use authz_runtime::testing::TestAuthenticator;
use authz_runtime::{AuthzLayer, CredentialsStore, require};
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use databases::log::{events, record};
use databases::proxy::{Proxy, authority, through};
use databases::{Backend, TestDatabase, unique_name};
use sqlx::{AssertSqlSafe, Connection, Executor};
use support::get as get_;

#[require(in_group("admins"))]
async fn admin() -> &'static str {
    "ok"
}

fn app(store: SqlStore) -> Router {
    Router::new()
        .route("/admin", get(admin))
        .layer(AuthzLayer::new(TestAuthenticator::default(), store))
}

/// A migrated store where `user` is an admin.
async fn seeded_with(builder: SqlStoreBuilder, user: &str) -> SqlStore {
    let store = builder
        .connect()
        .await
        .expect("the test database accepts connections");
    store.migrate().await.unwrap();
    if !store.groups().await.unwrap().iter().any(|g| g == "admins") {
        store.create_group("admins").await.unwrap();
    }
    if !store.user_exists(user).await.unwrap() {
        store.create_user(user).await.unwrap();
        store.add_user_to_group(user, "admins").await.unwrap();
    }
    store
}

/// A migrated store where rms is an admin.
async fn seeded(builder: SqlStoreBuilder) -> SqlStore {
    seeded_with(builder, "rms").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_closing_idle_connections_fails_no_request() {
    let Some(database) = TestDatabase::create(Backend::MySql).await else {
        return;
    };
    seeded(SqlStore::builder(&database.url)).await;
    // This pool's one connection is closed by the server after 2 idle seconds.
    let store = seeded(
        SqlStore::builder(&database.url)
            .pool(
                PoolSettings::default()
                    .with_max_connections(1)
                    .with_session_statement("SET SESSION wait_timeout = 2"),
            )
            .without_cache(),
    )
    .await;
    let app = app(store.clone());
    let connection_id = || async {
        sqlx::query_scalar::<_, i64>("SELECT CAST(CONNECTION_ID() AS SIGNED)")
            .fetch_one(store.pool().as_any().unwrap())
            .await
            .expect("the pool answers")
    };
    let idle = connection_id().await;
    assert_eq!(
        get_("/admin").user("rms").send(&app).await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    // The server really closed it: it is gone from the server's list of connections.
    let mut admin = sqlx::MySqlConnection::connect(&database.url).await.unwrap();
    let still_there: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?")
            .bind(idle)
            .fetch_one(&mut admin)
            .await
            .unwrap();
    assert_eq!(still_there, 0, "the server closed connection {idle}");

    assert_eq!(
        get_("/admin").user("rms").send(&app).await.status,
        StatusCode::OK
    );
    assert_eq!(
        get_("/admin").user("rms").send(&app).await.status,
        StatusCode::OK
    );
    assert_ne!(
        connection_id().await,
        idle,
        "the pool replaced the closed connection"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backends_killed_between_requests_fail_no_request() {
    let Some(database) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let store = seeded(SqlStore::builder(&database.url).without_cache()).await;
    let app = app(store.clone());
    assert_eq!(
        get_("/admin").user("rms").send(&app).await.status,
        StatusCode::OK
    );

    let mut admin = sqlx::PgConnection::connect(&database.server_url)
        .await
        .unwrap();
    let killed = admin
        .execute(AssertSqlSafe(format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{}' AND pid <> pg_backend_pid()",
            database.name
        )))
        .await
        .unwrap();
    assert!(
        killed.rows_affected() >= 1,
        "the store had a connection to kill"
    );

    for _ in 0..3 {
        assert_eq!(
            get_("/admin").user("rms").send(&app).await.status,
            StatusCode::OK
        );
    }
}

/// What this test's own store logged about `user`'s failed lookups.
/// Sends `user`'s request to `/admin` until `deadline`, asserting that every one is refused
/// with 503 and the generic body, never let through; how many were sent.
async fn refused_until(app: &Router, user: &str, deadline: Instant, during: &str) -> usize {
    let mut refused = 0;
    while Instant::now() < deadline {
        let seen = get_("/admin").user(user).send(app).await;
        assert_eq!(
            (seen.status, seen.body.as_str()),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Access could not be checked; please try again later"
            ),
            "during the {during}"
        );
        refused += 1;
    }
    refused
}

fn failed_lookups_of(user: &str) -> Vec<String> {
    events("authz::sql", tracing::Level::WARN, "loading grants failed")
        .into_iter()
        .filter(|event| event.text.contains(&format!(" user={user} ")))
        .map(|event| event.text)
        .collect()
}

async fn outage(backend: Backend) {
    record();
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    // A name no parallel test uses, to find this test's log lines.
    let user = unique_name("outage");
    seeded_with(SqlStore::builder(&database.url), &user).await;
    let proxy = Proxy::start(authority(&database.url)).await;
    let store = seeded_with(
        SqlStore::builder(&through(&database.url, proxy.port))
            .pool(PoolSettings::default().with_acquire_timeout(Duration::from_secs(1)))
            .query_timeout(Duration::from_secs(2))
            .without_cache(),
        &user,
    )
    .await;
    let app = app(store);
    assert_eq!(
        get_("/admin").user(&user).send(&app).await.status,
        StatusCode::OK
    );

    proxy.outage().await;
    let refused = refused_until(
        &app,
        &user,
        Instant::now() + Duration::from_secs(3),
        "outage",
    )
    .await;
    assert!(refused >= 2, "requests kept coming during the outage");
    // Each refusal logged its cause: the connection could not be used or made.
    let logged = failed_lookups_of(&user);
    assert!(
        logged.len() >= refused,
        "{refused} refusals, logged: {logged:#?}"
    );
    for line in &logged {
        assert!(
            [
                "pool timed out",
                "error communicating with database",
                "did not answer in time"
            ]
            .iter()
            .any(|cause| line.contains(cause)),
            "an outage's cause: {line}"
        );
    }

    proxy.restore();
    let seen = get_("/admin").user(&user).send(&app).await;
    assert_eq!(
        seen.status,
        StatusCode::OK,
        "the first request after the outage"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_refuses_then_recovers() {
    outage(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_outage_refuses_then_recovers() {
    outage(Backend::MySql).await;
}

/// The server stops answering (a hung server, a network that drops everything): every lookup
/// passes the query timeout, and is refused with 503; once the server answers again, so does
/// the store.
async fn stall(backend: Backend) {
    record();
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let user = unique_name("stall");
    seeded_with(SqlStore::builder(&database.url), &user).await;
    let proxy = Proxy::start(authority(&database.url)).await;
    let store = seeded_with(
        SqlStore::builder(&through(&database.url, proxy.port))
            .query_timeout(Duration::from_secs(1))
            .without_cache(),
        &user,
    )
    .await;
    let app = app(store.clone());
    assert_eq!(
        get_("/admin").user(&user).send(&app).await.status,
        StatusCode::OK
    );

    proxy.stall();
    let started = Instant::now();
    let error = CredentialsStore::load(&store, &user)
        .await
        .expect_err("a lookup the server never answers fails");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "it fails at the query timeout"
    );
    let cause = std::error::Error::source(&error).and_then(|cause| cause.downcast_ref());
    assert!(
        matches!(cause, Some(SqlError::Timeout)),
        "the store's cause: {error:?}"
    );
    let refused = refused_until(&app, &user, started + Duration::from_secs(3), "stall").await;
    assert!(refused >= 1, "requests came during the stall");
    let logged = failed_lookups_of(&user);
    assert!(
        logged.len() > refused,
        "{refused} refusals, logged: {logged:#?}"
    );
    for line in &logged {
        assert!(
            line.contains("error=the database did not answer in time"),
            "a stall's cause: {line}"
        );
    }

    proxy.resume();
    let seen = get_("/admin").user(&user).send(&app).await;
    assert_eq!(
        seen.status,
        StatusCode::OK,
        "the first request after the stall"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stall_times_out_then_recovers() {
    stall(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_stall_times_out_then_recovers() {
    stall(Backend::MySql).await;
}

/// A revocation whose `COMMIT` reaches the server, which applies it, but whose answer never
/// comes back: the store reports an error, and must not keep serving the revoked grant from
/// its cache.
async fn lost_commit_answer(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    let direct = seeded(SqlStore::builder(&database.url)).await;
    let proxy = Proxy::start(authority(&database.url)).await;
    let store = seeded(
        SqlStore::builder(&through(&database.url, proxy.port))
            .query_timeout(Duration::from_secs(2)),
    )
    .await;
    let app = app(store.clone());
    for _ in 0..2 {
        assert_eq!(
            get_("/admin").user("rms").send(&app).await.status,
            StatusCode::OK
        );
    }

    proxy.lose_the_answer_to("COMMIT");
    let revoked = store.remove_user_from_group("rms", "admins").await;
    assert!(
        revoked.is_err(),
        "the store cannot know how the commit ended: {revoked:?}"
    );
    // The server did carry it out.
    let sent = Instant::now();
    while !direct.user_groups("rms").await.unwrap().is_empty() {
        assert!(
            sent.elapsed() < Duration::from_secs(5),
            "the server never applied the commit"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let seen = get_("/admin").user("rms").send(&app).await;
    assert_eq!(
        seen.status,
        StatusCode::FORBIDDEN,
        "the writing instance still served the revoked grant"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_lost_commit_answer_still_empties_the_cache() {
    lost_commit_answer(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_lost_commit_answer_still_empties_the_cache() {
    lost_commit_answer(Backend::MySql).await;
}

/// With the cache on, SQLite and MySQL keep serving a user whose grants were cached while the
/// database is unreachable, until the time to live runs out (they were read within it);
/// PostgreSQL bypasses the cache while its change listener is down, and refuses. Returns what a
/// cached user gets during the outage, within the time to live.
async fn outage_with_a_warm_cache(backend: Backend) -> Option<StatusCode> {
    let database = TestDatabase::create(backend).await?;
    seeded(SqlStore::builder(&database.url)).await;
    let proxy = Proxy::start(authority(&database.url)).await;
    let time_to_live = Duration::from_secs(3);
    let store = seeded(
        SqlStore::builder(&through(&database.url, proxy.port))
            .pool(PoolSettings::default().with_acquire_timeout(Duration::from_secs(1)))
            .query_timeout(Duration::from_secs(1))
            .cache(CacheSettings::default().with_time_to_live(time_to_live)),
    )
    .await;
    let app = app(store);
    let cached = Instant::now();
    for _ in 0..2 {
        assert_eq!(
            get_("/admin").user("rms").send(&app).await.status,
            StatusCode::OK
        );
    }
    proxy.outage().await;
    // Time for the PostgreSQL listener to notice.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let during = get_("/admin").user("rms").send(&app).await.status;
    assert!(
        cached.elapsed() < time_to_live,
        "checked within the time to live"
    );
    assert_ne!(
        get_("/admin").user("linus").send(&app).await.status,
        StatusCode::OK,
        "a user never cached is refused"
    );
    tokio::time::sleep(time_to_live.saturating_sub(cached.elapsed()) + Duration::from_millis(200))
        .await;
    assert_eq!(
        get_("/admin").user("rms").send(&app).await.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "past the time to live, the cached user is refused too"
    );
    Some(during)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_outage_serves_cached_users_within_the_time_to_live() {
    if let Some(during) = outage_with_a_warm_cache(Backend::MySql).await {
        assert_eq!(during, StatusCode::OK);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_bypasses_the_cache() {
    if let Some(during) = outage_with_a_warm_cache(Backend::Postgres).await {
        assert_eq!(during, StatusCode::SERVICE_UNAVAILABLE);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_grant_changes_within_a_second() {
    let Some(database) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let first = seeded(SqlStore::builder(&database.url)).await;
    let second = seeded(SqlStore::builder(&database.url)).await;
    let second_app = app(second.clone());
    // Give the second instance's listener its connection, then warm its cache.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        get_("/admin").user("rms").send(&second_app).await.status,
        StatusCode::OK
    );
    assert_eq!(
        get_("/admin").user("rms").send(&second_app).await.status,
        StatusCode::OK
    );

    first.remove_user_from_group("rms", "admins").await.unwrap();
    let changed = Instant::now();
    loop {
        let seen = get_("/admin").user("rms").send(&second_app).await;
        if seen.status == StatusCode::FORBIDDEN {
            break;
        }
        assert!(
            changed.elapsed() < Duration::from_secs(1),
            "the other instance still grants after a second"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // And back: a grant made through the second shows on the first.
    let first_app = app(first.clone());
    assert_eq!(
        get_("/admin").user("rms").send(&first_app).await.status,
        StatusCode::FORBIDDEN
    );
    second.add_user_to_group("rms", "admins").await.unwrap();
    let changed = Instant::now();
    while CredentialsStore::load(&first, "rms")
        .await
        .unwrap()
        .is_none_or(|g| !g.in_group("admins"))
    {
        assert!(
            changed.elapsed() < Duration::from_secs(1),
            "the grant did not arrive in a second"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_cut_off_from_notifications_drops_its_cache() {
    let Some(database) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let first = seeded(SqlStore::builder(&database.url)).await;
    // The second instance reaches the server, listener included, through a proxy.
    let proxy = Proxy::start(databases::proxy::authority(&database.url)).await;
    let second = seeded(
        SqlStore::builder(&through(&database.url, proxy.port))
            .pool(PoolSettings::default().with_acquire_timeout(Duration::from_secs(1))),
    )
    .await;
    let second_app = app(second.clone());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        get_("/admin").user("rms").send(&second_app).await.status,
        StatusCode::OK
    );
    assert_eq!(
        get_("/admin").user("rms").send(&second_app).await.status,
        StatusCode::OK
    );

    // Cut off: the revocation's NOTIFY never reaches the second instance.
    proxy.outage().await;
    first.remove_user_from_group("rms", "admins").await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Meanwhile it cannot check anything, and says so rather than trust its cache.
    assert_eq!(
        get_("/admin").user("rms").send(&second_app).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );

    proxy.restore();
    let restored = Instant::now();
    loop {
        let status = get_("/admin").user("rms").send(&second_app).await.status;
        assert_ne!(
            status,
            StatusCode::OK,
            "a stale grant was served after reconnecting"
        );
        if status == StatusCode::FORBIDDEN {
            break;
        }
        assert!(
            restored.elapsed() < Duration::from_secs(5),
            "never recovered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
