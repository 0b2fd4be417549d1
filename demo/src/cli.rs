//! The `demo` command: `serve` (the default), `init-db`, and the admin API from the terminal.

use std::process::ExitCode;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{Args, FromArgMatches, Parser, Subcommand};

use crate::auth::Clock;
use crate::db::{DEFAULT_DATABASE_URL, Demo, DemoError};
use crate::server::Limits;
use crate::web::Settings;

/// The authz demo blog.
#[derive(Debug, Parser)]
#[command(name = "demo", version, about)]
pub struct Cli {
    /// The database: SQLite (the default), PostgreSQL or MariaDB.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,

    /// What to do; `serve` when not given.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the demo (the default); initializes the database on first run.
    Serve(ServeArgs),
    /// Create the schema and bootstrap an administrator.
    InitDb {
        /// The administrator's user name.
        #[arg(long, env = "DEMO_ADMIN_USER", default_value = "root")]
        admin_user: String,
        /// The administrator's password (random and printed when not given).
        #[arg(long, env = "DEMO_ADMIN_PASSWORD")]
        admin_password: Option<String>,
    },
    /// Users.
    #[command(subcommand)]
    User(UserCommand),
    /// Groups and their members.
    #[command(subcommand)]
    Group(GroupCommand),
    /// Print every guarded handler with its rule, message and location.
    Policies {
        /// As JSON, with each rule's tree.
        #[arg(long)]
        json: bool,
    },
    /// Grant a permission to a group (creating the permission if needed).
    Grant {
        /// The permission.
        permission: String,
        /// The group.
        group: String,
    },
    /// Revoke a permission from a group.
    Revoke {
        /// The permission.
        permission: String,
        /// The group.
        group: String,
    },
    /// Create an API token for a user, for `Authorization: Bearer …` on `/api`.
    Token {
        /// The user.
        user: String,
        /// How long the token is valid: `30d`, `12h`, `90m`.
        #[arg(long, default_value = "30d", value_parser = duration)]
        expires_in: Duration,
    },
    /// List the API tokens (of one user, or everyone's): id, user, created, expires.
    Tokens {
        /// Only this user's.
        user: Option<String>,
    },
    /// Revoke an API token by the id `tokens` lists.
    RevokeToken {
        /// The token's id.
        id: i64,
    },
}

/// `demo serve …`, also read (from the environment) when no command is given.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Where to listen.
    #[arg(long, env = "DEMO_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: String,
    /// Mark the sign-in and CSRF cookies `Secure` (sent over HTTPS only): for a demo reached
    /// over HTTPS, e.g. behind a TLS-terminating proxy. `DEMO_SECURE_COOKIES=1` (or `true`,
    /// `yes`, `on`) does the same.
    #[arg(
        long,
        env = "DEMO_SECURE_COOKIES",
        value_parser = BoolishValueParser::new()
    )]
    pub secure_cookies: bool,
    /// How long a client has to send a request's headers (and how long an idle connection
    /// stays open) before its connection is closed: `10s`, `500ms`, `1m`.
    #[arg(
        long,
        env = "DEMO_HEADER_READ_TIMEOUT",
        default_value = "10s",
        value_parser = duration
    )]
    pub header_read_timeout: Duration,
    /// How long a request may take, once its headers are in, before the client gets
    /// `503 Service Unavailable`: `30s`, `2m`.
    #[arg(
        long,
        env = "DEMO_REQUEST_TIMEOUT",
        default_value = "30s",
        value_parser = duration
    )]
    pub request_timeout: Duration,
    /// How many password checks (Argon2, 19 MiB each while it runs) run at once; other
    /// sign-ins wait up to 2 s for a turn, then get `503` with `Retry-After`. The default is
    /// the number of cores.
    #[arg(long, env = "DEMO_PASSWORD_CHECKS")]
    pub password_checks: Option<usize>,
}

impl ServeArgs {
    /// The server's time limits.
    fn limits(&self) -> Limits {
        Limits {
            header_read_timeout: self.header_read_timeout,
        }
    }

    /// The settings of `demo` run without a command: the defaults, and the environment.
    fn from_environment() -> Result<Self, DemoError> {
        let command = Self::augment_args(clap::Command::new("serve"));
        command
            .try_get_matches_from(["serve"])
            .and_then(|matches| Self::from_arg_matches(&matches))
            .map_err(|error| {
                // clap's first line, without its own `error: ` (the demo adds `demo: `).
                let message = error.to_string();
                let first = message.lines().next().unwrap_or_default();
                DemoError::Other(first.trim_start_matches("error: ").to_owned())
            })
    }
}

/// A duration as the serve settings take it: a whole number of milliseconds (`500ms`),
/// seconds (`10s`) or minutes (`2m`), more than zero (a zero limit would refuse everything).
fn duration(text: &str) -> Result<Duration, String> {
    let expected = || {
        format!("expected a duration such as `10s`, `500ms`, `2m`, `12h` or `30d`, not `{text}`")
    };
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map_or((text, ""), |at| text.split_at(at));
    let number: u64 = number.parse().map_err(|_| expected())?;
    let duration = match unit {
        "ms" => Duration::from_millis(number),
        "s" => Duration::from_secs(number),
        "m" => Duration::from_secs(number.saturating_mul(60)),
        "h" => Duration::from_secs(number.saturating_mul(3600)),
        "d" => Duration::from_secs(number.saturating_mul(86_400)),
        _ => return Err(expected()),
    };
    if duration.is_zero() {
        return Err("a time limit must be more than zero".to_owned());
    }
    Ok(duration)
}

/// `demo user …`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user.
    Add {
        /// The user name.
        name: String,
        /// The password (random and printed when not given).
        #[arg(long)]
        password: Option<String>,
    },
    /// Delete a user.
    Remove {
        /// The user name.
        name: String,
    },
    /// List users with their groups.
    List,
    /// Set a user's password (which signs them out everywhere).
    Password {
        /// The user name.
        name: String,
        /// The new password.
        #[arg(long)]
        password: String,
    },
    /// Sign a user out everywhere: every session of theirs ends at once.
    SignOut {
        /// The user name.
        name: String,
    },
}

/// `demo group …`.
#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Create a group.
    Add {
        /// The group name.
        name: String,
    },
    /// Delete a group.
    Remove {
        /// The group name.
        name: String,
    },
    /// List groups with their members and permissions.
    List,
    /// Add a user to a group.
    AddMember {
        /// The group.
        group: String,
        /// The user.
        user: String,
    },
    /// Remove a user from a group.
    RemoveMember {
        /// The group.
        group: String,
        /// The user.
        user: String,
    },
}

/// Runs the command line; the exit code says how it went.
pub async fn run(cli: Cli) -> ExitCode {
    match execute(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("demo: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn open(url: &str) -> Result<Demo, DemoError> {
    Demo::open(url).await.map_err(|error| match error {
        DemoError::Store(authz_runtime::sql::SqlError::Database(sqlx::Error::Configuration(
            cause,
        ))) => DemoError::Other(format!("invalid database URL {}: {cause}", redact(url))),
        DemoError::Store(authz_runtime::sql::SqlError::Database(cause)) => DemoError::Other(
            format!("cannot connect to the database at {}: {cause}", redact(url)),
        ),
        other => other,
    })
}

/// The URL without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(start), Some(at)) if at > start => match url[start + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:***{}", &url[..start + 3], &url[at..]),
            None => url.to_owned(),
        },
        _ => url.to_owned(),
    }
}

async fn ready(url: &str) -> Result<Demo, DemoError> {
    let demo = open(url).await?;
    if !demo.is_initialized().await? {
        return Err(DemoError::Other(
            "the database is not initialized: run `demo init-db` first".to_owned(),
        ));
    }
    // A database initialized by an earlier version gets the newer migrations (the change
    // counter that the servers' caches follow, session generations, posts by account).
    demo.migrate().await?;
    Ok(demo)
}

fn print_accounts(bootstrap: &crate::db::Bootstrap) {
    for (user, password) in &bootstrap.accounts {
        println!("created user {user:?} with password {password:?}");
    }
}

async fn execute(cli: Cli) -> Result<(), DemoError> {
    let url = cli.database_url;
    let command = match cli.command {
        Some(command) => command,
        None => Command::Serve(ServeArgs::from_environment()?),
    };
    match command {
        Command::Serve(args) => {
            let demo = open(&url).await?;
            if !demo.is_initialized().await? {
                let admin = std::env::var("DEMO_ADMIN_USER").unwrap_or_else(|_| "root".to_owned());
                let password = std::env::var("DEMO_ADMIN_PASSWORD").ok();
                println!("first run: initializing {}", redact(&url));
                print_accounts(&demo.initialize(&admin, password.as_deref()).await?);
            } else {
                demo.migrate().await?;
            }
            serve(demo, &args).await
        }
        Command::Policies { json } => {
            let policies = crate::policies::inventory();
            if json {
                let json = serde_json::to_string_pretty(&policies)
                    .map_err(|error| DemoError::Other(error.to_string()))?;
                println!("{json}");
            } else {
                print!("{}", crate::policies::table(&policies));
            }
            Ok(())
        }
        Command::InitDb {
            admin_user,
            admin_password,
        } => {
            let demo = open(&url).await?;
            let bootstrap = demo
                .initialize(&admin_user, admin_password.as_deref())
                .await?;
            if bootstrap.accounts.is_empty() {
                println!("the database was initialized already; nothing created");
            }
            print_accounts(&bootstrap);
            Ok(())
        }
        Command::User(command) => {
            let demo = ready(&url).await?;
            match command {
                UserCommand::Add { name, password } => {
                    let generated = password.is_none();
                    let password = match password {
                        Some(password) => password,
                        None => crate::db::random_token(12)?,
                    };
                    demo.add_user(&name, &password).await?;
                    if generated {
                        println!("created user {name:?} with password {password:?}");
                    } else {
                        println!("created user {name:?}");
                    }
                }
                UserCommand::Remove { name } => {
                    demo.store.delete_user(&name).await?;
                    println!("deleted user {name:?}");
                }
                UserCommand::List => {
                    for name in demo.store.users().await? {
                        let groups = demo.store.user_groups(&name).await?;
                        println!("{name}\t{}", groups.join(", "));
                    }
                }
                UserCommand::Password { name, password } => {
                    demo.set_password(&name, &password).await?;
                    println!("changed the password of {name:?} and ended their sessions");
                }
                UserCommand::SignOut { name } => {
                    demo.store.end_sessions(&name).await?;
                    println!("ended every session of {name:?}");
                }
            }
            Ok(())
        }
        Command::Group(command) => {
            let demo = ready(&url).await?;
            match command {
                GroupCommand::Add { name } => {
                    demo.store.create_group(&name).await?;
                    println!("created group {name:?}");
                }
                GroupCommand::Remove { name } => {
                    demo.store.delete_group(&name).await?;
                    println!("deleted group {name:?}");
                }
                GroupCommand::List => {
                    for name in demo.store.groups().await? {
                        let members = demo.store.group_members(&name).await?;
                        let permissions = demo.store.group_permissions(&name).await?;
                        println!("{name}\t{}\t{}", members.join(", "), permissions.join(", "));
                    }
                }
                GroupCommand::AddMember { group, user } => {
                    demo.store.add_user_to_group(&user, &group).await?;
                    println!("added {user:?} to {group:?}");
                }
                GroupCommand::RemoveMember { group, user } => {
                    demo.remove_member(&user, &group).await?;
                    println!("removed {user:?} from {group:?}");
                }
            }
            Ok(())
        }
        Command::Grant { permission, group } => {
            let demo = ready(&url).await?;
            demo.grant(&permission, &group).await?;
            println!("granted {permission:?} to {group:?}");
            Ok(())
        }
        Command::Revoke { permission, group } => {
            let demo = ready(&url).await?;
            demo.revoke(&permission, &group).await?;
            println!("revoked {permission:?} from {group:?}");
            Ok(())
        }
        Command::Token { user, expires_in } => {
            let demo = ready(&url).await?;
            let token = demo.create_token(&user, expires_in).await?;
            println!("{token}");
            Ok(())
        }
        Command::Tokens { user } => {
            let demo = ready(&url).await?;
            for token in demo.tokens(user.as_deref()).await? {
                println!(
                    "{}\t{}\t{}\t{}",
                    token.id,
                    token.user,
                    crate::db::utc(token.created_at),
                    crate::db::utc(token.expires_at)
                );
            }
            Ok(())
        }
        Command::RevokeToken { id } => {
            let demo = ready(&url).await?;
            if demo.revoke_token(id).await? {
                println!("revoked token {id}");
                Ok(())
            } else {
                Err(DemoError::Other(format!("there is no token {id}")))
            }
        }
    }
}

async fn serve(demo: Demo, args: &ServeArgs) -> Result<(), DemoError> {
    let mut settings = Settings::new(Clock::system())
        .with_secure_cookies(args.secure_cookies)
        .with_request_timeout(args.request_timeout);
    if let Some(limit) = args.password_checks {
        let checks = settings.password_checks.clone().with_limit(limit);
        settings = settings.with_password_checks(checks);
    }
    let app = crate::web::app(demo, settings).await?;
    let addr = &args.addr;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|error| DemoError::Other(format!("cannot listen on {addr}: {error}")))?;
    let address = listener
        .local_addr()
        .map_err(|error| DemoError::Other(error.to_string()))?;
    if args.secure_cookies {
        println!("cookies are marked Secure: browsers send them over HTTPS only");
    }
    println!("authz demo listening on http://{address}");
    crate::server::serve(listener, app, args.limits(), async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use std::time::Duration;

    use super::{Cli, Command, duration, redact};

    fn serve_args(args: &[&str]) -> super::ServeArgs {
        match Cli::try_parse_from(args).unwrap().command {
            Some(Command::Serve(args)) => args,
            other => panic!("not serve: {other:?}"),
        }
    }

    #[test]
    fn secure_cookies_is_a_flag_of_serve() {
        // The environment may set it: compare with it unset only when it is.
        if std::env::var_os("DEMO_SECURE_COOKIES").is_none() {
            assert!(!serve_args(&["demo", "serve"]).secure_cookies);
        }
        assert!(serve_args(&["demo", "serve", "--secure-cookies"]).secure_cookies);
        // A flag: values come from `DEMO_SECURE_COOKIES` only (see the command tests).
        assert!(Cli::try_parse_from(["demo", "serve", "--secure-cookies=yes"]).is_err());
    }

    #[test]
    fn time_limits_are_settings_of_serve() {
        if std::env::var_os("DEMO_HEADER_READ_TIMEOUT").is_none()
            && std::env::var_os("DEMO_REQUEST_TIMEOUT").is_none()
        {
            let defaults = serve_args(&["demo", "serve"]);
            assert_eq!(defaults.header_read_timeout, Duration::from_secs(10));
            assert_eq!(defaults.request_timeout, Duration::from_secs(30));
        }
        let set = serve_args(&[
            "demo",
            "serve",
            "--header-read-timeout",
            "500ms",
            "--request-timeout",
            "2m",
        ]);
        assert_eq!(set.header_read_timeout, Duration::from_millis(500));
        assert_eq!(set.request_timeout, Duration::from_secs(120));
    }

    #[test]
    fn durations_need_a_unit_and_more_than_zero() {
        assert_eq!(duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(duration("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(duration("12h"), Ok(Duration::from_secs(12 * 3600)));
        assert_eq!(duration("30d"), Ok(Duration::from_secs(30 * 86_400)));
        for wrong in ["", "10", "s", "1.5s", "-1s", "10 s", "10w"] {
            assert_eq!(
                duration(wrong),
                Err(format!(
                    "expected a duration such as `10s`, `500ms`, `2m`, `12h` or `30d`, not `{wrong}`"
                )),
            );
        }
        assert_eq!(
            duration("0s"),
            Err("a time limit must be more than zero".to_owned())
        );
    }

    #[test]
    fn passwords_are_left_out_of_urls() {
        assert_eq!(
            redact("mysql://root:hunter2@db:3306/blog"),
            "mysql://root:***@db:3306/blog"
        );
        assert_eq!(redact("mysql://root@db/blog"), "mysql://root@db/blog");
        assert_eq!(
            redact("sqlite://demo.db?mode=rwc"),
            "sqlite://demo.db?mode=rwc"
        );
    }
}
