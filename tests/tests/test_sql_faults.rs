//! The SQL store under faults, on the shared PostgreSQL and MariaDB servers without disturbing
//! other tests: connections closed by the server, an outage and a restart staged by a proxy,
//! and two app instances keeping their caches in step.

mod databases;
mod support;

use std::time::{Duration, Instant};

use authz_runtime::sql::{PoolSettings, SqlStore, SqlStoreBuilder};
use authz_runtime::testing::TestAuthenticator;
use authz_runtime::{AuthzLayer, CredentialsStore, require};
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use databases::log::{events, record};
use databases::proxy::{Proxy, through};
use databases::{Backend, TestDatabase};
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

async fn seeded(builder: SqlStoreBuilder) -> SqlStore {
    let store = builder
        .connect()
        .await
        .expect("the test database accepts connections");
    store.migrate().await.unwrap();
    if !store.user_exists("rms").await.unwrap() {
        store.create_user("rms").await.unwrap();
        store.create_group("admins").await.unwrap();
        store.add_user_to_group("rms", "admins").await.unwrap();
    }
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_closing_idle_connections_fails_no_request() {
    let Some(database) = TestDatabase::create(Backend::MySql).await else {
        return;
    };
    seeded(SqlStore::builder(&database.url)).await;
    // This pool's connections are closed by the server after 2 idle seconds.
    let store = seeded(
        SqlStore::builder(&database.url)
            .pool(PoolSettings::default().with_session_statement("SET SESSION wait_timeout = 2"))
            .without_cache(),
    )
    .await;
    let app = app(store.clone());
    assert_eq!(
        get_("/admin").user("rms").send(&app).await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        get_("/admin").user("rms").send(&app).await.status,
        StatusCode::OK
    );
    assert_eq!(
        get_("/admin").user("rms").send(&app).await.status,
        StatusCode::OK
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

async fn outage(backend: Backend) {
    record();
    let Some(database) = TestDatabase::create(backend).await else {
        return;
    };
    seeded(SqlStore::builder(&database.url)).await;
    let upstream = databases::proxy::authority(&database.url);
    let proxy = Proxy::start(upstream).await;
    let store = seeded(
        SqlStore::builder(&through(&database.url, proxy.port))
            .pool(PoolSettings::default().with_acquire_timeout(Duration::from_secs(1)))
            .query_timeout(Duration::from_secs(2))
            .without_cache(),
    )
    .await;
    let app = app(store);
    assert_eq!(
        get_("/admin").user("rms").send(&app).await.status,
        StatusCode::OK
    );

    proxy.outage().await;
    let started = Instant::now();
    let mut refused = 0;
    while started.elapsed() < Duration::from_secs(3) {
        let seen = get_("/admin").user("rms").send(&app).await;
        assert_eq!(
            seen.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "during the outage"
        );
        assert_eq!(
            seen.body,
            "Access could not be checked; please try again later"
        );
        refused += 1;
    }
    assert!(refused >= 2, "requests kept coming during the outage");
    assert!(
        !events("authz::sql", tracing::Level::WARN, "loading grants failed").is_empty(),
        "the cause is logged"
    );

    proxy.restore();
    let seen = get_("/admin").user("rms").send(&app).await;
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
