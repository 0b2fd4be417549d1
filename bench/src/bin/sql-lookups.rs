//! Lookup latency of the SQL store at scale: 100,000 users, 10,000 groups, 20 groups per
//! user, 1,000 permissions granted 5 per group. Cold lookups (cache off: one query each) and
//! warm ones (answered from the cache), on SQLite or PostgreSQL: 5,000 users spread over the
//! table, looked up once each cold and by awaiting `load` warm, and 20 times each by
//! `load_now` (100,000 samples, since one takes a few hundred nanoseconds).
//!
//! ```text
//! cargo run --release -p authz-bench --bin sql-lookups -- sqlite
//! AUTHZ_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo run --release -p authz-bench --bin sql-lookups -- postgres
//! ```
//!
//! The data set is built once per database (`authz_bench.db` in the temporary directory, or
//! the `authz_bench` PostgreSQL database) and reused by later runs.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use authz_runtime::CredentialsStore;
use authz_runtime::sql::{SqlStore, SqlStoreBuilder};
use sqlx::{AssertSqlSafe, Connection, Executor};

const USERS: u32 = 100_000;
const GROUPS: u32 = 10_000;
const GROUPS_PER_USER: u32 = 20;
const PERMISSIONS: u32 = 1_000;
const PERMISSIONS_PER_GROUP: u32 = 5;
/// Users looked up, each once per round.
const SAMPLES: usize = 5_000;
/// Rounds of warm `load_now` lookups over the `SAMPLES` users.
const WARM_ROUNDS: usize = 20;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let database = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "sqlite".to_owned());
    let url = match database.as_str() {
        "sqlite" => {
            let path = std::env::temp_dir().join("authz_bench.db");
            format!("sqlite://{}?mode=rwc", path.display())
        }
        "postgres" => {
            let server = std::env::var("AUTHZ_BENCH_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
            let mut admin = sqlx::PgConnection::connect(&server).await?;
            let exists: Option<i32> =
                sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = 'authz_bench'")
                    .fetch_optional(&mut admin)
                    .await?;
            if exists.is_none() {
                admin.execute("CREATE DATABASE authz_bench").await?;
            }
            let base = server
                .rsplit_once('/')
                .map_or(server.as_str(), |(base, _)| base);
            format!("{base}/authz_bench")
        }
        other => return Err(format!("unknown database {other:?}: sqlite or postgres").into()),
    };

    let cold = connect(SqlStore::builder(&url).without_cache()).await?;
    seed(&cold, &database).await?;
    let warm = connect(SqlStore::builder(&url)).await?;

    let users = sample_users();
    let grants = CredentialsStore::load(&cold, &users[0])
        .await?
        .expect("seeded user");
    println!(
        "{database}: {USERS} users, {GROUPS} groups, {GROUPS_PER_USER} groups per user; \
         a user holds {} groups and {} permissions",
        grants.groups().count(),
        grants.permissions().count()
    );

    // Cold: every lookup is one query.
    for user in users.iter().take(200) {
        CredentialsStore::load(&cold, user).await?;
    }
    let mut cold_times = Vec::with_capacity(SAMPLES);
    for user in &users {
        let started = Instant::now();
        let grants = CredentialsStore::load(&cold, user).await?;
        cold_times.push(started.elapsed());
        assert!(grants.is_some());
    }
    report("cold lookup (1 query)", &mut cold_times);

    // Warm: the cache answers without a future, as the runtime asks it first.
    for user in &users {
        CredentialsStore::load(&warm, user).await?;
    }
    let mut warm_times = Vec::with_capacity(SAMPLES * WARM_ROUNDS);
    for _ in 0..WARM_ROUNDS {
        for user in &users {
            let started = Instant::now();
            let grants = warm.load_now(user).expect("cached").expect("no error");
            warm_times.push(started.elapsed());
            let _ = std::hint::black_box(grants);
        }
    }
    report("warm lookup (cache, load_now)", &mut warm_times);

    let mut awaited = Vec::with_capacity(SAMPLES);
    for user in &users {
        let started = Instant::now();
        let grants = poll_now(CredentialsStore::load(&warm, user));
        awaited.push(started.elapsed());
        let _ = std::hint::black_box(grants);
    }
    report("warm lookup (cache, load future)", &mut awaited);
    Ok(())
}

async fn connect(builder: SqlStoreBuilder) -> Result<SqlStore, Box<dyn std::error::Error>> {
    let store = builder.connect().await?;
    store.migrate().await?;
    Ok(store)
}

/// Polls a future that must be ready at once (a cache hit).
fn poll_now<F: Future>(future: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(future).poll(&mut cx) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a cache hit must not wait"),
    }
}

/// `SAMPLES` users spread over the whole table, the same on every run.
fn sample_users() -> Vec<String> {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    (0..SAMPLES)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            format!("user{}", state % u64::from(USERS) + 1)
        })
        .collect()
}

fn report(what: &str, times: &mut [Duration]) {
    times.sort();
    let at = |quantile: f64| times[((times.len() - 1) as f64 * quantile) as usize];
    println!(
        "  {what:<34} median {:>10.3?}  p99 {:>10.3?}  max {:>10.3?}  ({} samples)",
        at(0.5),
        at(0.99),
        times[times.len() - 1],
        times.len()
    );
}

/// Builds the data set once, with set-based SQL (the admin API would take hours at this size).
async fn seed(store: &SqlStore, database: &str) -> Result<(), Box<dyn std::error::Error>> {
    let pool = store
        .pool()
        .as_any()
        .ok_or("the store has its own AnyPool")?;
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tg_user")
        .fetch_one(pool)
        .await?;
    if users == i64::from(USERS) {
        return Ok(());
    }
    let started = Instant::now();
    println!("seeding {database} (once)...");
    let series = |n: u32, column: &str| match database {
        "postgres" => format!("SELECT {column} FROM generate_series(1, {n}) AS s({column})"),
        _ => format!(
            "SELECT {column} FROM (WITH RECURSIVE s({column}) AS (SELECT 1 UNION ALL \
             SELECT {column} + 1 FROM s WHERE {column} < {n}) SELECT {column} FROM s)"
        ),
    };
    let statements = [
        format!(
            "INSERT INTO tg_user (user_name) SELECT 'user' || i FROM ({}) AS users",
            series(USERS, "i")
        ),
        format!(
            "INSERT INTO tg_group (group_name) SELECT 'group' || i FROM ({}) AS groups",
            series(GROUPS, "i")
        ),
        format!(
            "INSERT INTO tg_permission (permission_name) SELECT 'perm' || i FROM ({}) AS perms",
            series(PERMISSIONS, "i")
        ),
        format!(
            "INSERT INTO tg_user_group (user_id, group_id) \
             SELECT u.user_id, ((u.user_id * 7 + (k.j - 1) * 499) % {GROUPS}) + 1 \
             FROM tg_user u, ({}) AS k",
            series(GROUPS_PER_USER, "j")
        ),
        format!(
            "INSERT INTO tg_group_permission (group_id, permission_id) \
             SELECT g.group_id, ((g.group_id * 13 + (k.j - 1) * 197) % {PERMISSIONS}) + 1 \
             FROM tg_group g, ({}) AS k",
            series(PERMISSIONS_PER_GROUP, "j")
        ),
    ];
    let mut transaction = pool.begin().await?;
    for statement in statements {
        // The statements are this program's own, with no outside input.
        transaction.execute(AssertSqlSafe(statement)).await?;
    }
    transaction.commit().await?;
    if database == "postgres" {
        pool.execute("ANALYZE").await?;
    }
    println!("seeded in {:.1?}", started.elapsed());
    Ok(())
}
