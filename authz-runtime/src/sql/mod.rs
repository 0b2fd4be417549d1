//! The SQL credentials store: TurboGears' users, groups and permissions tables through sqlx,
//! on SQLite, PostgreSQL or MySQL/MariaDB.
//!
//! ```
//! use authz_runtime::sql::{CacheSettings, PoolSettings, Schema, SqlStore};
//! use std::time::Duration;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let store = SqlStore::builder("sqlite::memory:")
//!     .schema(Schema::default())
//!     .pool(PoolSettings::default().with_max_lifetime(Some(Duration::from_secs(3600))))
//!     .cache(CacheSettings::default().with_time_to_live(Duration::from_secs(30)))
//!     .connect()
//!     .await?;
//! store.migrate().await?;
//! # Ok::<(), authz_runtime::sql::SqlError>(())
//! # }).unwrap();
//! ```
//!
//! See [`SqlStore`] for loading and caching, and its admin methods (`create_user`,
//! `add_user_to_group`, `grant_permission`, …) for changing what is stored.

mod admin;
mod cache;
mod changes;
mod error;
mod migrate;
mod pool;
mod quickstart;
mod schema;
mod settings;
mod statements;
mod store;

pub use error::{Entity, SqlError};
pub use pool::SqlPool;
pub use schema::{Dialect, Identifier, InvalidIdentifier, Schema};
pub use settings::{CacheSettings, PoolSettings, UnknownUsers};
pub use store::{SqlStore, SqlStoreBuilder};
