//! The SQL store on SQLite, PostgreSQL and MariaDB: repoze.what's adapter fixture, the admin
//! API and its typed errors, migrations and translations, lookups per request and the cache.

mod databases;
mod support;

use std::collections::BTreeSet;

use authz_runtime::sql::{
    CacheSettings, Entity, Schema, SqlError, SqlStore, SqlStoreBuilder, UnknownUsers,
};
use authz_runtime::testing::TestAuthenticator;
use authz_runtime::{AuthzLayer, CredentialsStore, require};
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use databases::log::{record, statements_mentioning};
use databases::{TestDatabase, unique_name};
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
    translated_schema_with_reserved_words,
    identity_only_predicates_run_no_query,
    group_predicates_run_one_query_cold_and_none_warm,
    a_write_invalidates_the_cache,
    a_deleted_user_is_anonymous_by_default,
    names_match_exactly,
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

async fn adapter_fixture_listings(database: &TestDatabase) {
    let store = connect(database).await;
    fixture(&store).await;
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
    assert!(matches!(
        store.group_members("no-such-group").await,
        Err(SqlError::NotFound { entity: Entity::Group, name }) if name == "no-such-group"
    ));
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
        (too_long.as_str(), "it is longer than 255 characters"),
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
