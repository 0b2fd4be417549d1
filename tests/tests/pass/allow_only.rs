//! `#[allow_only]` on inline modules: every visible async fn is guarded; private helpers and
//! non-async fns stay as written; nested modules; `#[public]`; `#[require]` inside.

use authz_runtime::{Context, Error, Predicate, Verdict, allow_only};
use axum::Router;
use axum::routing::get;

struct IsWeekday;

fn is_weekday() -> IsWeekday {
    IsWeekday
}

impl Predicate for IsWeekday {
    async fn evaluate(&self, _ctx: &mut Context<'_>) -> Result<Verdict, Error> {
        Ok(Verdict::met_if(true, "Only on weekdays"))
    }
}

#[allow_only(in_group("admins"))]
mod admin {
    use authz_runtime::{public, require};
    use axum::Router;
    use axum::extract::Path;
    use axum::routing::get;

    pub async fn home() -> String {
        greeting("admin")
    }

    pub(crate) async fn users(Path(id): Path<u64>) -> String {
        format!("user {id}")
    }

    pub(super) async fn settings() -> &'static str {
        "settings"
    }

    /// A private helper: not a handler, not guarded, called with its own arguments.
    fn greeting(name: &str) -> String {
        format!("Welcome to the {name} side")
    }

    /// A private async helper: not guarded either.
    async fn load(id: u64) -> u64 {
        id
    }

    pub async fn uses_helper(Path(id): Path<u64>) -> String {
        format!("loaded {}", load(id).await)
    }

    /// Not async: not a handler, left alone even though it is visible.
    pub fn routes() -> Router {
        Router::new().route("/reports", get(reports::quarterly))
    }

    #[public]
    pub async fn login() -> &'static str {
        "please sign in"
    }

    #[authz_runtime::public]
    pub async fn logout() -> &'static str {
        "bye"
    }

    #[require(is_user("root"))]
    pub async fn danger_zone() -> &'static str {
        "careful"
    }

    pub mod reports {
        pub(in crate::admin) async fn quarterly() -> &'static str {
            "figures"
        }

        pub async fn yearly() -> &'static str {
            "more figures"
        }
    }

    #[authz_runtime::allow_only(has_permission("audit"), msg = "Auditors only")]
    pub mod audit {
        use authz_runtime::public;

        pub async fn log() -> &'static str {
            "log"
        }

        #[public]
        pub async fn about() -> &'static str {
            "what auditors do"
        }

        pub mod deeper {
            pub async fn trail() -> &'static str {
                "trail"
            }
        }
    }
}

#[allow_only(all(not_anonymous(), is_weekday()), msg = "Staff on weekdays only")]
pub(crate) mod office {
    pub async fn desk() -> &'static str {
        "desk"
    }
}

#[allow_only(not_anonymous())]
#[allow_only(in_group("staff"))]
mod twice {
    pub async fn both() {}
}

#[allow_only(is_anonymous())]
mod empty {}

fn main() {
    let _app: Router = Router::new()
        .route("/admin", get(admin::home))
        .route("/admin/users/{id}", get(admin::users))
        .route("/admin/settings", get(admin::settings))
        .route("/admin/load/{id}", get(admin::uses_helper))
        .route("/admin/login", get(admin::login))
        .route("/admin/logout", get(admin::logout))
        .route("/admin/danger", get(admin::danger_zone))
        .route("/admin/yearly", get(admin::reports::yearly))
        .route("/admin/audit", get(admin::audit::log))
        .route("/admin/audit/about", get(admin::audit::about))
        .route("/admin/audit/trail", get(admin::audit::deeper::trail))
        .route("/office", get(office::desk))
        .route("/twice", get(twice::both))
        .merge(admin::routes());
}
