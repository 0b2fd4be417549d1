//! The SQL store on SQLite, PostgreSQL and MariaDB: repoze.what's adapter fixture, the admin
//! API and its typed errors, migrations and translations, lookups per request and the cache.

mod databases;
mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use authz_runtime::signin::TicketAuthenticator;
use authz_runtime::sql::{
    CacheSettings, Entity, Schema, SqlError, SqlPool, SqlStore, SqlStoreBuilder, UnknownUsers,
};
use authz_runtime::testing::TestAuthenticator;
use authz_runtime::{Account, AuthzLayer, CredentialsStore, require};
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use databases::log::{record, statements_mentioning};
use databases::{Backend, TestDatabase, unique_name};
use sqlx::AssertSqlSafe;
use support::get as get_;

sql_suite!(
    adapter_fixture_grants,
    adapter_fixture_listings,
    removing_members_empties_a_group,
    create_rename_delete_round_trip,
    duplicates_and_missing_rows_are_typed_errors,
    bad_names_are_refused_and_nothing_is_written,
    deletes_cascade,
    migrate_twice_keeps_the_data,
    a_store_on_the_applications_pool,
    a_store_on_the_applications_typed_pool,
    translated_schema_with_reserved_words,
    identity_only_predicates_run_no_query,
    group_predicates_run_one_query_cold_and_none_warm,
    a_write_invalidates_the_cache,
    another_processs_writes_reach_the_cache_within_a_second,
    a_deleted_user_is_anonymous_by_default,
    names_match_exactly,
    padded_names_never_act_on_the_unpadded_row,
    unknown_names_in_listings_follow_repoze_what,
    each_set_of_tables_is_migrated,
    concurrent_migrations_all_succeed,
    long_link_table_names_get_an_index_each,
    the_time_to_live_bounds_what_the_cache_serves,
    the_cache_keeps_at_most_max_users,
    accounts_keep_their_key_and_move_their_generation,
    ended_sessions_are_refused_on_every_store_within_a_second,
);

async fn connect(database: &TestDatabase) -> SqlStore {
    migrated(SqlStore::builder(&database.url)).await
}

async fn migrated(builder: SqlStoreBuilder) -> SqlStore {
    let store = builder
        .connect()
        .await
        .expect("the test database accepts connections");
    store.migrate().await.expect("migrations apply");
    store
}

/// repoze.what's SQL adapter fixture.
async fn fixture(store: &SqlStore) {
    for user in ["rms", "linus", "sballmer", "guido", "rasmus"] {
        store.create_user(user).await.unwrap();
    }
    for (group, members) in [
        ("admins", &["rms"][..]),
        ("developers", &["rms", "linus"]),
        ("trolls", &["sballmer"]),
        ("python", &[]),
        ("php", &[]),
    ] {
        store.create_group(group).await.unwrap();
        for member in members {
            store.add_user_to_group(member, group).await.unwrap();
        }
    }
    for (permission, groups) in [
        ("see-site", &["trolls"][..]),
        ("edit-site", &["admins", "developers"]),
        ("commit", &["developers"]),
    ] {
        store.create_permission(permission).await.unwrap();
        for group in groups {
            store.grant_permission(permission, group).await.unwrap();
        }
    }
}

fn set<'a>(items: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    items.into_iter().map(str::to_owned).collect()
}

async fn grants_of(store: &SqlStore, user: &str) -> Option<(BTreeSet<String>, BTreeSet<String>)> {
    let grants = CredentialsStore::load(store, user)
        .await
        .expect("the lookup succeeds")?;
    Some((set(grants.groups()), set(grants.permissions())))
}

async fn adapter_fixture_grants(database: &TestDatabase) {
    let store = connect(database).await;
    fixture(&store).await;
    assert_eq!(
        grants_of(&store, "rms").await,
        Some((set(["admins", "developers"]), set(["commit", "edit-site"])))
    );
    assert_eq!(
        grants_of(&store, "linus").await,
        Some((set(["developers"]), set(["commit", "edit-site"])))
    );
    assert_eq!(
        grants_of(&store, "sballmer").await,
        Some((set(["trolls"]), set(["see-site"])))
    );
    assert_eq!(grants_of(&store, "guido").await, Some((set([]), set([]))));
    assert_eq!(grants_of(&store, "rasmus").await, Some((set([]), set([]))));
    // An unknown user has no row, hence no groups and no permissions.
    assert_eq!(grants_of(&store, "nobody").await, None);
    let rms = CredentialsStore::load(&store, "rms")
        .await
        .unwrap()
        .unwrap();
    assert!(!rms.in_group("no-such-group") && !rms.has_permission("no-such-permission"));
}

/// The fixture's users, groups and permissions, listed in order.
async fn assert_fixture_names(store: &SqlStore) {
    assert_eq!(
        store.users().await.unwrap(),
        ["guido", "linus", "rasmus", "rms", "sballmer"]
    );
    assert_eq!(
        store.groups().await.unwrap(),
        ["admins", "developers", "php", "python", "trolls"]
    );
    assert_eq!(
        store.permissions().await.unwrap(),
        ["commit", "edit-site", "see-site"]
    );
}

async fn adapter_fixture_listings(database: &TestDatabase) {
    let store = connect(database).await;
    fixture(&store).await;
    assert_fixture_names(&store).await;
    assert_eq!(
        store.group_members("developers").await.unwrap(),
        ["linus", "rms"]
    );
    assert!(store.group_members("python").await.unwrap().is_empty());
    assert_eq!(
        store.user_groups("rms").await.unwrap(),
        ["admins", "developers"]
    );
    assert!(store.user_groups("guido").await.unwrap().is_empty());
    assert_eq!(
        store.permission_groups("edit-site").await.unwrap(),
        ["admins", "developers"]
    );
    assert_eq!(
        store.group_permissions("developers").await.unwrap(),
        ["commit", "edit-site"]
    );
}

async fn removing_members_empties_a_group(database: &TestDatabase) {
    let store = connect(database).await;
    fixture(&store).await;
    store
        .remove_user_from_group("rms", "developers")
        .await
        .unwrap();
    store
        .remove_user_from_group("linus", "developers")
        .await
        .unwrap();
    assert!(store.group_members("developers").await.unwrap().is_empty());
    assert_eq!(grants_of(&store, "linus").await, Some((set([]), set([]))));
    assert_eq!(
        grants_of(&store, "rms").await,
        Some((set(["admins"]), set(["edit-site"])))
    );
    // Removing a non-member, or adding a member again, changes nothing.
    store
        .remove_user_from_group("linus", "developers")
        .await
        .unwrap();
    store.add_user_to_group("rms", "admins").await.unwrap();
    assert_eq!(store.group_members("admins").await.unwrap(), ["rms"]);
}

async fn create_rename_delete_round_trip(database: &TestDatabase) {
    let store = connect(database).await;
    fixture(&store).await;
    store.rename_user("rms", "richard").await.unwrap();
    store.rename_group("developers", "hackers").await.unwrap();
    store.rename_permission("commit", "push").await.unwrap();
    assert_eq!(
        grants_of(&store, "richard").await,
        Some((set(["admins", "hackers"]), set(["edit-site", "push"])))
    );
    assert_eq!(grants_of(&store, "rms").await, None);
    // Renaming to the same name is allowed.
    store.rename_group("hackers", "hackers").await.unwrap();

    store.delete_permission("push").await.unwrap();
    store.delete_group("hackers").await.unwrap();
    store.delete_user("richard").await.unwrap();
    assert_eq!(
        store.users().await.unwrap(),
        ["guido", "linus", "rasmus", "sballmer"]
    );
    assert_eq!(
        store.groups().await.unwrap(),
        ["admins", "php", "python", "trolls"]
    );
    assert_eq!(
        store.permissions().await.unwrap(),
        ["edit-site", "see-site"]
    );

    store.create_user("rms").await.unwrap();
    assert_eq!(grants_of(&store, "rms").await, Some((set([]), set([]))));
}

async fn duplicates_and_missing_rows_are_typed_errors(database: &TestDatabase) {
    let store = connect(database).await;
    fixture(&store).await;
    let duplicate = |result: Result<(), SqlError>, entity: Entity, name: &str| match result {
        Err(SqlError::Duplicate { entity: e, name: n }) => {
            assert_eq!((e, n.as_str()), (entity, name))
        }
        other => panic!("expected a duplicate {entity} {name:?}, got {other:?}"),
    };
    duplicate(store.create_user("rms").await, Entity::User, "rms");
    duplicate(store.create_group("admins").await, Entity::Group, "admins");
    duplicate(
        store.create_permission("commit").await,
        Entity::Permission,
        "commit",
    );
    duplicate(store.rename_user("guido", "rms").await, Entity::User, "rms");
    duplicate(
        store.rename_group("php", "python").await,
        Entity::Group,
        "python",
    );
    duplicate(
        store.rename_permission("commit", "see-site").await,
        Entity::Permission,
        "see-site",
    );

    let missing = |result: Result<(), SqlError>, entity: Entity, name: &str| match result {
        Err(SqlError::NotFound { entity: e, name: n }) => {
            assert_eq!((e, n.as_str()), (entity, name))
        }
        other => panic!("expected a missing {entity} {name:?}, got {other:?}"),
    };
    missing(store.delete_user("nobody").await, Entity::User, "nobody");
    missing(
        store.delete_group("nogroup").await,
        Entity::Group,
        "nogroup",
    );
    missing(
        store.delete_permission("noperm").await,
        Entity::Permission,
        "noperm",
    );
    missing(
        store.rename_user("nobody", "x").await,
        Entity::User,
        "nobody",
    );
    missing(
        store.add_user_to_group("nobody", "admins").await,
        Entity::User,
        "nobody",
    );
    missing(
        store.add_user_to_group("rms", "nogroup").await,
        Entity::Group,
        "nogroup",
    );
    missing(
        store.grant_permission("noperm", "admins").await,
        Entity::Permission,
        "noperm",
    );
    missing(
        store.revoke_permission("commit", "nogroup").await,
        Entity::Group,
        "nogroup",
    );

    let message = store.create_user("rms").await.unwrap_err().to_string();
    assert_eq!(message, "a user named \"rms\" already exists");
    let message = store.delete_group("nogroup").await.unwrap_err().to_string();
    assert_eq!(message, "there is no group named \"nogroup\"");
}

async fn bad_names_are_refused_and_nothing_is_written(database: &TestDatabase) {
    let store = connect(database).await;
    fixture(&store).await;
    let too_long = "x".repeat(256);
    for (name, reason) in [
        ("", "it is empty"),
        ("   ", "it is blank"),
        (" rms", "it has leading or trailing whitespace"),
        ("rms\n", "it has leading or trailing whitespace"),
        (too_long.as_str(), "it is longer than 255 characters"),
        ("r\u{7}ms", "it contains control characters"),
    ] {
        match store.create_group(name).await {
            Err(SqlError::InvalidName {
                entity: Entity::Group,
                reason: r,
                ..
            }) => assert_eq!(r, reason),
            other => panic!("expected an invalid name for {name:?}, got {other:?}"),
        }
        assert!(matches!(
            store.rename_user("rms", name).await,
            Err(SqlError::InvalidName {
                entity: Entity::User,
                ..
            })
        ));
    }
    // 255 characters fit.
    store.create_permission(&"p".repeat(255)).await.unwrap();
    assert_eq!(
        store.groups().await.unwrap(),
        ["admins", "developers", "php", "python", "trolls"]
    );
    assert!(store.user_exists("rms").await.unwrap());
}

async fn deletes_cascade(database: &TestDatabase) {
    let store = connect(database).await;
    fixture(&store).await;
    store.delete_group("developers").await.unwrap();
    assert_eq!(
        grants_of(&store, "rms").await,
        Some((set(["admins"]), set(["edit-site"])))
    );
    assert_eq!(
        store.permission_groups("commit").await.unwrap(),
        Vec::<String>::new()
    );
    store.delete_user("sballmer").await.unwrap();
    assert!(store.group_members("trolls").await.unwrap().is_empty());
    store.delete_permission("edit-site").await.unwrap();
    assert_eq!(
        grants_of(&store, "rms").await,
        Some((set(["admins"]), set([])))
    );
}

async fn migrate_twice_keeps_the_data(database: &TestDatabase) {
    let store = connect(database).await;
    fixture(&store).await;
    store.migrate().await.unwrap();
    let again = connect(database).await;
    assert_eq!(
        again.group_members("developers").await.unwrap(),
        ["linus", "rms"]
    );
}

/// The store shares a pool the application made: its tables and its rows are on the
/// application's connections, next to the application's own.
async fn a_store_on_the_applications_pool(database: &TestDatabase) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(2)
        .connect(&database.url)
        .await
        .unwrap();
    sqlx::query("CREATE TABLE app_notes (body VARCHAR(50))")
        .execute(&pool)
        .await
        .unwrap();
    let store = SqlStore::builder_on(pool.clone()).connect().await.unwrap();
    store.migrate().await.unwrap();
    fixture(&store).await;
    let grants = store.load("rms").await.unwrap().expect("rms exists");
    assert!(grants.in_group("admins") && grants.has_permission("commit"));
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tg_user")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(users >= 2, "{users}");
    sqlx::query("INSERT INTO app_notes (body) VALUES ('still ours')")
        .execute(store.pool().as_any().unwrap())
        .await
        .unwrap();
    let notes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM app_notes")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(notes, 1);
}

/// The store on the pool type of the application's database (`SqlitePool`, `PgPool`,
/// `MySqlPool`): the same schema and grants, the application's queries beside the store's, and
/// on PostgreSQL the cache's change listener on the pool's database: a write by a second
/// instance empties the first one's cache.
async fn a_store_on_the_applications_typed_pool(database: &TestDatabase) {
    let pool = match database.backend {
        Backend::Sqlite => SqlPool::from(sqlx::SqlitePool::connect(&database.url).await.unwrap()),
        Backend::Postgres => SqlPool::from(sqlx::PgPool::connect(&database.url).await.unwrap()),
        Backend::MySql => SqlPool::from(sqlx::MySqlPool::connect(&database.url).await.unwrap()),
    };
    let store = SqlStore::builder_on(pool.clone()).connect().await.unwrap();
    store.migrate().await.unwrap();
    fixture(&store).await;
    assert_eq!(
        store.dialect(),
        SqlStore::connect(&database.url).await.unwrap().dialect()
    );
    assert_eq!(
        store.users().await.unwrap(),
        ["guido", "linus", "rasmus", "rms", "sballmer"]
    );
    assert_eq!(store.group_members("admins").await.unwrap(), ["rms"]);
    let grants = store.load("rms").await.unwrap().expect("rms exists");
    assert!(grants.in_group("admins") && grants.has_permission("commit"));
    store
        .set_password_hash("rms", "$argon2id$stored")
        .await
        .unwrap();
    assert_eq!(
        store.password_hash("rms").await.unwrap().as_deref(),
        Some("$argon2id$stored")
    );
    let count = "SELECT COUNT(*) FROM tg_user";
    let users: i64 = match &pool {
        SqlPool::Sqlite(pool) => sqlx::query_scalar(count).fetch_one(pool).await.unwrap(),
        SqlPool::Postgres(pool) => sqlx::query_scalar(count).fetch_one(pool).await.unwrap(),
        SqlPool::MySql(pool) => sqlx::query_scalar(count).fetch_one(pool).await.unwrap(),
        _ => unreachable!("a typed pool was given"),
    };
    assert_eq!(users, 5, "the application's pool sees the store's rows");

    // A second instance, on its own pool: its write reaches this store's cache.
    let other = SqlStore::connect(&database.url).await.unwrap();
    assert!(
        store.load("rms").await.unwrap().unwrap().in_group("admins"),
        "cached"
    );
    other.remove_user_from_group("rms", "admins").await.unwrap();
    if database.backend == Backend::Postgres {
        let written = Instant::now();
        while store.load("rms").await.unwrap().unwrap().in_group("admins") {
            assert!(
                written.elapsed() < Duration::from_secs(1),
                "the listener on the PgPool's database did not empty the cache within a second"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // This store's own writes empty its cache on every database.
    store.add_user_to_group("rms", "admins").await.unwrap();
    store.remove_user_from_group("rms", "admins").await.unwrap();
    assert!(!store.load("rms").await.unwrap().unwrap().in_group("admins"));
}

async fn translated_schema_with_reserved_words(database: &TestDatabase) {
    let schema = Schema::default()
        .with_user_table("user")
        .and_then(|s| s.with_user_name("login"))
        .and_then(|s| s.with_user_id("id"))
        .and_then(|s| s.with_group_table("group"))
        .and_then(|s| s.with_group_name("name"))
        .and_then(|s| s.with_permission_table("permission"))
        .and_then(|s| s.with_permission_name("name"))
        .and_then(|s| s.with_user_group_table("user_group"))
        .and_then(|s| s.with_group_permission_table("group_permission"))
        .expect("valid identifiers");
    let store = migrated(SqlStore::builder(&database.url).schema(schema)).await;
    fixture(&store).await;
    assert_eq!(
        grants_of(&store, "rms").await,
        Some((set(["admins", "developers"]), set(["commit", "edit-site"])))
    );
}

#[test]
fn hostile_translations_are_rejected() {
    for hostile in [
        "tg_user; DROP TABLE x",
        "tg_user\"",
        "tg'user",
        "tg user",
        "tg_user`",
        "",
        "1users",
        "users--",
        "ユーザー",
    ] {
        let error = Schema::default()
            .with_user_table(hostile)
            .expect_err("a hostile table name is refused");
        assert_eq!(
            error.to_string(),
            format!(
                "`{hostile}` is not a valid SQL identifier: use 1 to 63 ASCII letters, digits \
                 or `_`, not starting with a digit"
            )
        );
        assert!(Schema::default().with_group_name(hostile).is_err());
    }
    assert!(Schema::default().with_user_table(&"u".repeat(64)).is_err());
}

#[require(is_user("rms"))]
async fn identity_only() -> &'static str {
    "ok"
}

#[require(not_anonymous())]
async fn signed_in() -> &'static str {
    "ok"
}

#[require(all(
    in_group("admins"),
    has_permission("edit-site"),
    not(in_group("trolls"))
))]
#[require(has_any_permission("commit", "edit-site"))]
async fn grants_heavy() -> &'static str {
    "ok"
}

fn app(store: SqlStore) -> Router {
    Router::new()
        .route("/identity", get(identity_only))
        .route("/grants", get(grants_heavy))
        .layer(AuthzLayer::new(TestAuthenticator::default(), store))
}

/// A schema whose users table has a name unique to the test, so that its statements can be
/// told apart in the global log.
fn marked_schema() -> (Schema, String) {
    let table = unique_name("u").replace('-', "_");
    let schema = Schema::default()
        .with_user_table(&table)
        .expect("a valid identifier");
    (schema, table)
}

async fn identity_only_predicates_run_no_query(database: &TestDatabase) {
    record();
    let (schema, table) = marked_schema();
    let store = migrated(
        SqlStore::builder(&database.url)
            .schema(schema)
            .unknown_users(UnknownUsers::Authenticated),
    )
    .await;
    fixture(&store).await;
    let app = app(store);
    let before = statements_mentioning(&table);
    for user in ["rms", "guido", "nobody"] {
        get_("/identity").user(user).send(&app).await;
    }
    assert_eq!(
        get_("/identity").user("rms").send(&app).await.status,
        StatusCode::OK
    );
    assert_eq!(statements_mentioning(&table) - before, 0);
}

async fn group_predicates_run_one_query_cold_and_none_warm(database: &TestDatabase) {
    record();
    let (schema, table) = marked_schema();
    let store = migrated(SqlStore::builder(&database.url).schema(schema.clone())).await;
    fixture(&store).await;
    let app = app(store);

    let before = statements_mentioning(&table);
    assert_eq!(
        get_("/grants").user("rms").send(&app).await.status,
        StatusCode::OK
    );
    assert_eq!(statements_mentioning(&table) - before, 1, "cold: one query");
    let before = statements_mentioning(&table);
    assert_eq!(
        get_("/grants").user("rms").send(&app).await.status,
        StatusCode::OK
    );
    assert_eq!(
        get_("/identity").user("rms").send(&app).await.status,
        StatusCode::OK
    );
    assert_eq!(statements_mentioning(&table) - before, 0, "warm: no query");

    // Without the cache, every request costs exactly one query however many predicates ask.
    let uncached = migrated(
        SqlStore::builder(&database.url)
            .schema(schema)
            .without_cache(),
    )
    .await;
    let app = self::app(uncached);
    let before = statements_mentioning(&table);
    for _ in 0..3 {
        assert_eq!(
            get_("/grants").user("linus").send(&app).await.status,
            StatusCode::FORBIDDEN
        );
    }
    assert_eq!(statements_mentioning(&table) - before, 3);
}

async fn a_write_invalidates_the_cache(database: &TestDatabase) {
    record();
    let (schema, table) = marked_schema();
    let store = migrated(SqlStore::builder(&database.url).schema(schema)).await;
    fixture(&store).await;
    let app = app(store.clone());
    assert_eq!(
        get_("/grants").user("linus").send(&app).await.status,
        StatusCode::FORBIDDEN
    );
    store.add_user_to_group("linus", "admins").await.unwrap();
    let before = statements_mentioning(&table);
    assert_eq!(
        get_("/grants").user("linus").send(&app).await.status,
        StatusCode::OK
    );
    assert_eq!(statements_mentioning(&table) - before, 1);
    store
        .revoke_permission("edit-site", "admins")
        .await
        .unwrap();
    store
        .revoke_permission("edit-site", "developers")
        .await
        .unwrap();
    let seen = get_("/grants").user("linus").send(&app).await;
    assert_eq!(seen.status, StatusCode::FORBIDDEN);
    assert_eq!(seen.body, "The user must have the \"edit-site\" permission");
}

/// A second store on the same database (another process: the command line, another
/// instance) grants and revokes; this store's cache, warm, follows within a second on every
/// database: by the change counter on SQLite and MariaDB, by `NOTIFY` on PostgreSQL. Its hits
/// in between run no query on the store's tables.
async fn another_processs_writes_reach_the_cache_within_a_second(database: &TestDatabase) {
    record();
    let (schema, table) = marked_schema();
    let store = migrated(SqlStore::builder(&database.url).schema(schema.clone())).await;
    fixture(&store).await;
    let other = migrated(SqlStore::builder(&database.url).schema(schema)).await;
    let app = app(store.clone());
    let status = || async { get_("/grants").user("linus").send(&app).await.status };
    assert_eq!(status().await, StatusCode::FORBIDDEN);
    let warm = statements_mentioning(&table);
    assert_eq!(status().await, StatusCode::FORBIDDEN);
    assert_eq!(statements_mentioning(&table), warm, "a hit runs no query");

    for (change, expected) in [("grant", StatusCode::OK), ("revoke", StatusCode::FORBIDDEN)] {
        match change {
            "grant" => other.add_user_to_group("linus", "admins").await.unwrap(),
            _ => other
                .remove_user_from_group("linus", "admins")
                .await
                .unwrap(),
        }
        let written = Instant::now();
        while status().await != expected {
            assert!(
                written.elapsed() < Duration::from_secs(1),
                "another process's {change} not seen after a second"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn a_deleted_user_is_anonymous_by_default(database: &TestDatabase) {
    let store = connect(database).await;
    fixture(&store).await;
    let app = app(store.clone());
    assert_eq!(
        get_("/identity").user("rms").send(&app).await.status,
        StatusCode::OK
    );
    store.delete_user("rms").await.unwrap();
    // The session still names rms, but rms is gone: anonymous, told to sign in.
    assert_eq!(
        get_("/identity").user("rms").send(&app).await.status,
        StatusCode::UNAUTHORIZED
    );

    let lenient = migrated(
        SqlStore::builder(&database.url)
            .unknown_users(UnknownUsers::Authenticated)
            .cache(CacheSettings::default()),
    )
    .await;
    let app = self::app(lenient);
    assert_eq!(
        get_("/identity").user("rms").send(&app).await.status,
        StatusCode::OK
    );
    assert_eq!(
        get_("/grants").user("rms").send(&app).await.status,
        StatusCode::FORBIDDEN
    );
}

async fn names_match_exactly(database: &TestDatabase) {
    let store = connect(database).await;
    fixture(&store).await;
    store
        .set_password_hash("rms", "$argon2id$stand-in")
        .await
        .unwrap();
    for lookalike in ["RMS", "Rms", "rms ", "rms\u{a0}", "rmś"] {
        assert_eq!(grants_of(&store, lookalike).await, None, "{lookalike:?}");
        assert_eq!(
            store.password_hash(lookalike).await.unwrap(),
            None,
            "{lookalike:?}"
        );
    }
    assert_eq!(
        store.password_hash("rms").await.unwrap().as_deref(),
        Some("$argon2id$stand-in")
    );
    // A name that differs by case is another user.
    store.create_user("RMS").await.unwrap();
    assert_eq!(grants_of(&store, "RMS").await, Some((set([]), set([]))));
    assert_eq!(
        grants_of(&store, "rms").await,
        Some((set(["admins", "developers"]), set(["commit", "edit-site"])))
    );
}

/// MariaDB's collations ignore trailing spaces: without the name checks, `"rms "` would be rms.
async fn padded_names_never_act_on_the_unpadded_row(database: &TestDatabase) {
    let store = connect(database).await;
    fixture(&store).await;
    store
        .set_password_hash("rms", "$argon2id$rms")
        .await
        .unwrap();
    let refused = |result: Result<(), SqlError>, entity: Entity, name: &str| match result {
        Err(SqlError::InvalidName {
            entity: e, name: n, ..
        }) => assert_eq!((e, n.as_str()), (entity, name)),
        other => panic!("expected {name:?} to be an invalid {entity} name, got {other:?}"),
    };
    let refused_listing = |result: Result<Vec<String>, SqlError>, entity: Entity, name: &str| {
        refused(result.map(drop), entity, name)
    };
    for pad in [" ", "  ", "\t", "\u{a0}"] {
        let user = format!("rms{pad}");
        let group = format!("admins{pad}");
        let permission = format!("commit{pad}");
        let (user, group, permission) = (user.as_str(), group.as_str(), permission.as_str());

        refused(store.user_exists(user).await.map(drop), Entity::User, user);
        refused(store.delete_user(user).await, Entity::User, user);
        refused(store.rename_user(user, "richard").await, Entity::User, user);
        refused(
            store.add_user_to_group(user, "php").await,
            Entity::User,
            user,
        );
        refused(
            store.remove_user_from_group(user, "admins").await,
            Entity::User,
            user,
        );
        refused(
            store.set_password_hash(user, "$argon2id$x").await,
            Entity::User,
            user,
        );
        refused_listing(store.user_groups(user).await, Entity::User, user);
        // Signing in with a padded name finds no password.
        assert_eq!(store.password_hash(user).await.unwrap(), None);

        refused(store.delete_group(group).await, Entity::Group, group);
        refused(
            store.rename_group(group, "root").await,
            Entity::Group,
            group,
        );
        refused(
            store.add_user_to_group("guido", group).await,
            Entity::Group,
            group,
        );
        refused(
            store.remove_user_from_group("rms", group).await,
            Entity::Group,
            group,
        );
        refused(
            store.grant_permission("see-site", group).await,
            Entity::Group,
            group,
        );
        refused(
            store.revoke_permission("edit-site", group).await,
            Entity::Group,
            group,
        );
        refused_listing(store.group_members(group).await, Entity::Group, group);
        refused_listing(store.group_permissions(group).await, Entity::Group, group);

        let p = Entity::Permission;
        refused(store.delete_permission(permission).await, p, permission);
        refused(
            store.rename_permission(permission, "push").await,
            p,
            permission,
        );
        refused(
            store.grant_permission(permission, "php").await,
            p,
            permission,
        );
        refused(
            store.revoke_permission(permission, "developers").await,
            p,
            permission,
        );
        refused_listing(store.permission_groups(permission).await, p, permission);
    }

    // Nothing was touched.
    assert_fixture_names(&store).await;
    assert_eq!(
        grants_of(&store, "rms").await,
        Some((set(["admins", "developers"]), set(["commit", "edit-site"])))
    );
    assert_eq!(
        store.group_members("php").await.unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        store.permission_groups("see-site").await.unwrap(),
        ["trolls"]
    );
    assert_eq!(
        store.password_hash("rms").await.unwrap().as_deref(),
        Some("$argon2id$rms")
    );
}

/// repoze.what's source adapters: `find_sections(item)` gives an unknown item no sections (a
/// user's groups, a group's permissions), while `get_section_items(section)` raises
/// `NonExistingSectionError` for an unknown section (a group's members, a permission's groups).
async fn unknown_names_in_listings_follow_repoze_what(database: &TestDatabase) {
    let store = connect(database).await;
    fixture(&store).await;
    assert_eq!(
        store.user_groups("nobody").await.unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        store.group_permissions("nogroup").await.unwrap(),
        Vec::<String>::new()
    );
    assert!(matches!(
        store.group_members("nogroup").await,
        Err(SqlError::NotFound { entity: Entity::Group, name }) if name == "nogroup"
    ));
    assert!(matches!(
        store.permission_groups("noperm").await,
        Err(SqlError::NotFound { entity: Entity::Permission, name }) if name == "noperm"
    ));
    // Known but empty is empty, not missing.
    assert!(store.group_members("python").await.unwrap().is_empty());
    assert!(store.group_permissions("python").await.unwrap().is_empty());
    assert!(store.user_groups("guido").await.unwrap().is_empty());
}

/// Runs a query of the test's own that returns a count.
async fn count(store: &SqlStore, query: &str, binds: &[&str]) -> i64 {
    let mut query = sqlx::query_scalar::<_, i64>(AssertSqlSafe(query.to_owned()));
    for bind in binds {
        query = query.bind(*bind);
    }
    query
        .fetch_one(store.pool().as_any().unwrap())
        .await
        .expect("the count runs")
}

/// A second store with other tables, on a database migrated already: it gets its tables.
async fn each_set_of_tables_is_migrated(database: &TestDatabase) {
    let first = connect(database).await;
    fixture(&first).await;
    let tables = Schema::default()
        .with_user_table("people")
        .and_then(|s| s.with_group_table("teams"))
        .and_then(|s| s.with_permission_table("rights"))
        .and_then(|s| s.with_user_group_table("people_teams"))
        .and_then(|s| s.with_group_permission_table("team_rights"))
        .expect("valid identifiers");
    let second = migrated(SqlStore::builder(&database.url).schema(tables)).await;
    fixture(&second).await;
    second.delete_user("linus").await.unwrap();
    assert_eq!(
        grants_of(&second, "rms").await,
        Some((set(["admins", "developers"]), set(["commit", "edit-site"])))
    );
    assert_eq!(
        second.users().await.unwrap(),
        ["guido", "rasmus", "rms", "sballmer"]
    );
    assert_eq!(
        first.users().await.unwrap(),
        ["guido", "linus", "rasmus", "rms", "sballmer"]
    );
    // Each of the three migrations once for each set of tables; migrating again records
    // nothing new.
    first.migrate().await.unwrap();
    second.migrate().await.unwrap();
    assert_eq!(
        count(&first, "SELECT COUNT(*) FROM authz_migrations", &[]).await,
        6
    );
}

/// Four instances starting at once on a fresh database.
async fn concurrent_migrations_all_succeed(database: &TestDatabase) {
    let mut stores = Vec::new();
    for _ in 0..4 {
        stores.push(
            SqlStore::builder(&database.url)
                .connect()
                .await
                .expect("the test database accepts connections"),
        );
    }
    let mut migrations = tokio::task::JoinSet::new();
    for store in stores.clone() {
        migrations.spawn(async move { store.migrate().await });
    }
    while let Some(migrated) = migrations.join_next().await {
        migrated
            .expect("the migration task ran")
            .expect("every concurrent migration succeeds");
    }
    fixture(&stores[0]).await;
    assert_eq!(
        grants_of(&stores[3], "rms").await,
        Some((set(["admins", "developers"]), set(["commit", "edit-site"])))
    );
    // Each of the three migrations once.
    assert_eq!(
        count(&stores[1], "SELECT COUNT(*) FROM authz_migrations", &[]).await,
        3
    );
}

/// Index names longer than an identifier fall back to a cut name with a hash; two link tables
/// must not share one, or the second `CREATE INDEX IF NOT EXISTS` does nothing.
async fn long_link_table_names_get_an_index_each(database: &TestDatabase) {
    // 63 characters, the longest identifier.
    let long = |name: &str| format!("{name}_{}", "x".repeat(62 - name.len()));
    let (members, grants) = (long("members"), long("grants"));
    let schema = Schema::default()
        .with_user_group_table(&members)
        .and_then(|s| s.with_group_permission_table(&grants))
        .expect("valid identifiers");
    let store = migrated(SqlStore::builder(&database.url).schema(schema)).await;
    fixture(&store).await;
    assert_eq!(
        store.group_members("developers").await.unwrap(),
        ["linus", "rms"]
    );
    assert_eq!(
        store.permission_groups("edit-site").await.unwrap(),
        ["admins", "developers"]
    );

    // An index that leads with the column each lookup from the right side uses (MySQL's are
    // the foreign keys' own).
    let indexes_leading_with = match database.backend {
        Backend::Sqlite => {
            "SELECT COUNT(*) FROM sqlite_master m, pragma_index_info(m.name) i \
             WHERE m.type = 'index' AND m.tbl_name = $1 AND i.seqno = 0 AND i.name = $2"
        }
        Backend::Postgres => {
            "SELECT COUNT(*) FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid \
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0] \
             WHERE t.relname = $1 AND a.attname = $2"
        }
        Backend::MySql => {
            "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() \
             AND TABLE_NAME = ? AND COLUMN_NAME = ? AND SEQ_IN_INDEX = 1"
        }
    };
    for (table, column) in [(&members, "group_id"), (&grants, "permission_id")] {
        assert!(
            count(&store, indexes_leading_with, &[table, column]).await >= 1,
            "{table} has an index on {column}"
        );
    }
}

/// A write made straight in SQL, not through the admin API, shows once the time to live has
/// run out, and not before.
async fn the_time_to_live_bounds_what_the_cache_serves(database: &TestDatabase) {
    let time_to_live = Duration::from_secs(2);
    let store = migrated(
        SqlStore::builder(&database.url)
            .cache(CacheSettings::default().with_time_to_live(time_to_live)),
    )
    .await;
    fixture(&store).await;
    let app = app(store.clone());
    let cached = Instant::now();
    assert_eq!(
        get_("/grants").user("rms").send(&app).await.status,
        StatusCode::OK
    );

    sqlx::query("DELETE FROM tg_user_group")
        .execute(store.pool().as_any().unwrap())
        .await
        .unwrap();
    assert_eq!(
        store.user_groups("rms").await.unwrap(),
        Vec::<String>::new()
    );
    let seen = get_("/grants").user("rms").send(&app).await.status;
    assert!(
        cached.elapsed() < time_to_live,
        "the check ran within the time to live"
    );
    assert_eq!(
        seen,
        StatusCode::OK,
        "served from the cache within the time to live"
    );

    tokio::time::sleep(time_to_live + Duration::from_millis(200)).await;
    let seen = get_("/grants").user("rms").send(&app).await;
    assert_eq!(seen.status, StatusCode::FORBIDDEN, "after the time to live");
    assert_eq!(
        seen.body,
        "The current user must belong to the group \"admins\""
    );
}

/// With room for 10 users, 200 users looked up twice cost about 400 queries; with room for
/// all, 200.
async fn the_cache_keeps_at_most_max_users(database: &TestDatabase) {
    record();
    let (schema, table) = marked_schema();
    let bounded = migrated(
        SqlStore::builder(&database.url)
            .schema(schema.clone())
            .cache(CacheSettings::default().with_max_users(10)),
    )
    .await;
    let users: Vec<String> = (0..200).map(|n| format!("user{n}")).collect();
    for user in &users {
        bounded.create_user(user).await.unwrap();
    }
    let roomy = migrated(SqlStore::builder(&database.url).schema(schema)).await;

    for (store, at_least, at_most) in [
        // moka evicts in batches, after 64 writes or 300 ms, so up to 64 users beyond the
        // bound may linger for a while.
        (&bounded, users.len() - 10 - 64, users.len()),
        (&roomy, 0, 0),
    ] {
        for user in &users {
            CredentialsStore::load(store, user).await.unwrap();
        }
        // Past moka's eviction, and past the store's first read of the change counter (half a
        // second after it connected), which empties the cache once: what was cached before
        // it may be stale.
        tokio::time::sleep(Duration::from_millis(700)).await;
        let before = statements_mentioning(&table);
        for user in &users {
            assert!(CredentialsStore::load(store, user).await.unwrap().is_some());
        }
        let queries = statements_mentioning(&table) - before;
        assert!(
            (at_least..=at_most).contains(&queries),
            "{queries} queries for the second round, expected {at_least} to {at_most}"
        );
    }
}

/// The account the store has under `user` now.
async fn account_of(store: &SqlStore, user: &str) -> Option<Account> {
    let grants = store.load(user).await.expect("the store answers");
    grants.map(|grants| grants.account().expect("the SQL store knows accounts"))
}

/// Ending sessions and changing the password move the generation on; the key stays. A user
/// deleted and created again under the same name is another account.
async fn accounts_keep_their_key_and_move_their_generation(database: &TestDatabase) {
    let store = migrated(SqlStore::builder(&database.url).without_cache()).await;
    let user = unique_name("acct");
    store.create_user(&user).await.unwrap();
    let first = account_of(&store, &user).await.unwrap();
    assert_eq!(first.generation, 0);
    store.end_sessions(&user).await.unwrap();
    assert_eq!(
        account_of(&store, &user).await,
        Some(Account::new(first.id, 1))
    );
    store
        .set_password_hash(&user, "$argon2id$...")
        .await
        .unwrap();
    assert_eq!(
        account_of(&store, &user).await,
        Some(Account::new(first.id, 2))
    );
    store.delete_user(&user).await.unwrap();
    assert_eq!(account_of(&store, &user).await, None);
    store.create_user(&user).await.unwrap();
    let second = account_of(&store, &user).await.unwrap();
    assert_ne!(second.id, first.id, "a new account under the old name");
    let missing = store
        .end_sessions(&unique_name("nobody"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            missing,
            SqlError::NotFound {
                entity: Entity::User,
                ..
            }
        ),
        "{missing:?}"
    );
}

/// A ticket signed in through one store is refused, over HTTP, within a second of another
/// store on the database (the command line, another instance) ending the user's sessions,
/// changing their password, or deleting them and creating a new user of the same name.
async fn ended_sessions_are_refused_on_every_store_within_a_second(database: &TestDatabase) {
    let store = connect(database).await;
    let other = connect(database).await;
    let user = unique_name("sess");
    store.create_user(&user).await.unwrap();
    let tickets = TicketAuthenticator::new(&[42; 32])
        .unwrap()
        .with_sessions(store.clone());
    let app = Router::new()
        .route("/signed-in", get(signed_in))
        .layer(AuthzLayer::new(tickets.clone(), store.clone()));
    let sign_in = || async {
        let set_cookie = tickets
            .sign_in(&user)
            .await
            .unwrap()
            .expect("the user exists");
        set_cookie
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    };
    let status = |cookie: String| {
        let app = app.clone();
        async move {
            get_("/signed-in")
                .header("cookie", &cookie)
                .send(&app)
                .await
                .status
        }
    };
    let refused_within_a_second = |cookie: String, change: &'static str| async move {
        let changed = Instant::now();
        while status(cookie.clone()).await != StatusCode::UNAUTHORIZED {
            assert!(
                changed.elapsed() < Duration::from_secs(1),
                "a ticket still works a second after {change}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };

    for change in [
        "sign out everywhere",
        "a new password",
        "a new user of the name",
    ] {
        let cookie = sign_in().await;
        assert_eq!(status(cookie.clone()).await, StatusCode::OK, "{change}");
        // Warm: the ticket is checked against the cached lookup.
        assert_eq!(status(cookie.clone()).await, StatusCode::OK, "{change}");
        match change {
            "sign out everywhere" => other.end_sessions(&user).await.unwrap(),
            "a new password" => other
                .set_password_hash(&user, "$argon2id$...")
                .await
                .unwrap(),
            _ => {
                other.delete_user(&user).await.unwrap();
                other.create_user(&user).await.unwrap();
            }
        }
        refused_within_a_second(cookie, change).await;
    }
    // A ticket made now is for the account as it is now.
    let cookie = sign_in().await;
    assert_eq!(status(cookie).await, StatusCode::OK);
}
