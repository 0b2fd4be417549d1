//! The tables and columns the store reads and writes: TurboGears' quickstart model by default,
//! renamed at will (repoze.what's "translations"). Every name is checked against a strict
//! whitelist before it reaches SQL; values never do, they are always bound.

use std::fmt;

/// Which SQL the database speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite 3.
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    MySql,
}

impl Dialect {
    /// The dialect of a database URL (`sqlite:`, `postgres:` / `postgresql:`, `mysql:` /
    /// `mariadb:`).
    pub fn of_url(url: &str) -> Option<Self> {
        let scheme = url.split(':').next()?.to_ascii_lowercase();
        match scheme.as_str() {
            "sqlite" => Some(Dialect::Sqlite),
            "postgres" | "postgresql" => Some(Dialect::Postgres),
            "mysql" | "mariadb" => Some(Dialect::MySql),
            _ => None,
        }
    }

    /// The `n`th (from 1) bind parameter.
    pub(crate) fn param(self, n: usize) -> String {
        match self {
            Dialect::Sqlite | Dialect::Postgres => format!("${n}"),
            Dialect::MySql => "?".to_owned(),
        }
    }

    /// A whitelisted identifier, quoted as well, so that reserved words (`user`, `group`) work.
    pub(crate) fn quote(self, identifier: &Identifier) -> String {
        match self {
            Dialect::Sqlite | Dialect::Postgres => format!("\"{}\"", identifier.0),
            Dialect::MySql => format!("`{}`", identifier.0),
        }
    }
}

/// A table or column name that passed the whitelist: an ASCII letter or `_`, then up to 62
/// ASCII letters, digits or `_`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identifier(String);

impl Identifier {
    /// Checks `name` against the whitelist.
    ///
    /// ```
    /// use authz_runtime::sql::Identifier;
    ///
    /// assert!(Identifier::new("tg_user").is_ok());
    /// let error = Identifier::new("tg_user; DROP TABLE x").unwrap_err();
    /// assert_eq!(
    ///     error.to_string(),
    ///     "`tg_user; DROP TABLE x` is not a valid SQL identifier: use 1 to 63 ASCII letters, \
    ///      digits or `_`, not starting with a digit"
    /// );
    /// ```
    pub fn new(name: &str) -> Result<Self, InvalidIdentifier> {
        let mut chars = name.chars();
        let valid_start = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        let valid_rest = chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if valid_start && valid_rest && name.len() <= 63 {
            Ok(Self(name.to_owned()))
        } else {
            Err(InvalidIdentifier(name.to_owned()))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A table or column name that is not a plain SQL identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidIdentifier(String);

impl fmt::Display for InvalidIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a valid SQL identifier: use 1 to 63 ASCII letters, digits or `_`, not \
             starting with a digit",
            self.0
        )
    }
}

impl std::error::Error for InvalidIdentifier {}

/// The names of the five tables and their columns. [`Schema::default`] is TurboGears'
/// quickstart model: `tg_user`, `tg_group`, `tg_permission`, `tg_user_group`,
/// `tg_group_permission`.
///
/// ```
/// use authz_runtime::sql::Schema;
///
/// // An existing application whose users live in `people`, named by `login`.
/// let schema = Schema::default()
///     .with_user_table("people")?
///     .with_user_name("login")?;
/// # Ok::<(), authz_runtime::sql::InvalidIdentifier>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    pub(crate) user_table: Identifier,
    pub(crate) user_id: Identifier,
    pub(crate) user_name: Identifier,
    pub(crate) user_password: Identifier,
    pub(crate) user_generation: Identifier,
    pub(crate) group_table: Identifier,
    pub(crate) group_id: Identifier,
    pub(crate) group_name: Identifier,
    pub(crate) permission_table: Identifier,
    pub(crate) permission_id: Identifier,
    pub(crate) permission_name: Identifier,
    pub(crate) user_group_table: Identifier,
    pub(crate) group_permission_table: Identifier,
}

impl Default for Schema {
    fn default() -> Self {
        let name = |name: &str| Identifier(name.to_owned());
        Self {
            user_table: name("tg_user"),
            user_id: name("user_id"),
            user_name: name("user_name"),
            user_password: name("password"),
            user_generation: name("session_generation"),
            group_table: name("tg_group"),
            group_id: name("group_id"),
            group_name: name("group_name"),
            permission_table: name("tg_permission"),
            permission_id: name("permission_id"),
            permission_name: name("permission_name"),
            user_group_table: name("tg_user_group"),
            group_permission_table: name("tg_group_permission"),
        }
    }
}

macro_rules! renames {
    ($($(#[$doc:meta])* $method:ident => $field:ident,)*) => {
        impl Schema {
            $(
                $(#[$doc])*
                pub fn $method(mut self, name: &str) -> Result<Self, InvalidIdentifier> {
                    self.$field = Identifier::new(name)?;
                    Ok(self)
                }
            )*
        }
    };
}

renames! {
    /// The users table (`tg_user`).
    with_user_table => user_table,
    /// The users' key column (`user_id`), also the column name in the link table.
    with_user_id => user_id,
    /// The users' name column (`user_name`).
    with_user_name => user_name,
    /// The users' password hash column (`password`).
    with_user_password => user_password,
    /// The users' session generation column (`session_generation`, an integer that migration 3
    /// adds): ending a user's sessions moves it on, which ends every ticket made before.
    with_user_session_generation => user_generation,
    /// The groups table (`tg_group`).
    with_group_table => group_table,
    /// The groups' key column (`group_id`), also the column name in the link tables.
    with_group_id => group_id,
    /// The groups' name column (`group_name`).
    with_group_name => group_name,
    /// The permissions table (`tg_permission`).
    with_permission_table => permission_table,
    /// The permissions' key column (`permission_id`), also the column name in the link table.
    with_permission_id => permission_id,
    /// The permissions' name column (`permission_name`).
    with_permission_name => permission_name,
    /// The users–groups link table (`tg_user_group`).
    with_user_group_table => user_group_table,
    /// The groups–permissions link table (`tg_group_permission`).
    with_group_permission_table => group_permission_table,
}
