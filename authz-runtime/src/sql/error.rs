//! What can go wrong with the SQL store, each case its own variant.

use std::fmt;

/// What an admin call or a connection attempt names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    /// A user (`tg_user`).
    User,
    /// A group (`tg_group`).
    Group,
    /// A permission (`tg_permission`).
    Permission,
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Entity::User => "user",
            Entity::Group => "group",
            Entity::Permission => "permission",
        })
    }
}

/// An error of the SQL store. Nothing is half-written when one is returned: every change runs
/// in a transaction.
#[derive(Debug)]
#[non_exhaustive]
pub enum SqlError {
    /// The URL names no database authz supports (`sqlite:`, `postgres:`, `mysql:`).
    UnsupportedUrl(String),
    /// The URL names a database whose cargo feature of `authz-runtime` is off.
    FeatureDisabled {
        /// The database.
        database: &'static str,
        /// The feature that enables it.
        feature: &'static str,
    },
    /// A setting, in the URL or the builder, has a value that cannot be used.
    InvalidSetting {
        /// The setting's name.
        setting: String,
        /// Why the value cannot be used.
        reason: String,
    },
    /// Creating or renaming would give two users, groups or permissions the same name.
    Duplicate {
        /// What kind of row.
        entity: Entity,
        /// The name taken already.
        name: String,
    },
    /// No user, group or permission has this name.
    NotFound {
        /// What kind of row.
        entity: Entity,
        /// The name looked for.
        name: String,
    },
    /// The name cannot be stored: empty, blank, padded with whitespace, longer than 255
    /// characters, or with control characters. Every admin call checks the names it is given,
    /// so such a name is refused before anything is read or written.
    InvalidName {
        /// What kind of row.
        entity: Entity,
        /// The name given.
        name: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// The database did not answer within the store's query timeout.
    Timeout,
    /// The database refused or failed.
    Database(sqlx::Error),
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SqlError::UnsupportedUrl(url) => write!(
                f,
                "unsupported database URL `{url}`: expected one starting with `sqlite:`, \
                 `postgres:` or `mysql:`"
            ),
            SqlError::FeatureDisabled { database, feature } => write!(
                f,
                "{database} support is off: enable the `{feature}` feature of authz-runtime"
            ),
            SqlError::InvalidSetting { setting, reason } => {
                write!(f, "invalid setting `{setting}`: {reason}")
            }
            SqlError::Duplicate { entity, name } => {
                write!(f, "a {entity} named {name:?} already exists")
            }
            SqlError::NotFound { entity, name } => write!(f, "there is no {entity} named {name:?}"),
            SqlError::InvalidName {
                entity,
                name,
                reason,
            } => write!(f, "invalid {entity} name {name:?}: {reason}"),
            SqlError::Timeout => f.write_str("the database did not answer in time"),
            SqlError::Database(error) => write!(f, "database error: {error}"),
        }
    }
}

impl std::error::Error for SqlError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SqlError::Database(error) => Some(error),
            _ => None,
        }
    }
}

impl From<sqlx::Error> for SqlError {
    fn from(error: sqlx::Error) -> Self {
        SqlError::Database(error)
    }
}

/// The longest name the schema stores (`VARCHAR(255)`).
pub(crate) const MAX_NAME_CHARS: usize = 255;

/// Checks a user, group or permission name before it is written.
pub(crate) fn check_name(entity: Entity, name: &str) -> Result<(), SqlError> {
    let reason = if name.is_empty() {
        Some("it is empty")
    } else if name.trim().is_empty() {
        Some("it is blank")
    } else if name.trim() != name {
        Some("it has leading or trailing whitespace")
    } else if name.chars().count() > MAX_NAME_CHARS {
        Some("it is longer than 255 characters")
    } else if name.chars().any(char::is_control) {
        Some("it contains control characters")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(SqlError::InvalidName {
            entity,
            name: name.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}
