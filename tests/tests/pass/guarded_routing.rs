//! The guarded routing takes every kind of guarded handler, and `#[public]` ones anywhere.

use authz_runtime::routing::{delete, get, post};
use authz_runtime::testing::TestAuthenticator;
use authz_runtime::{AuthzLayer, Context, Error, MemoryStore, Predicate, Verdict, public, require};
use axum::Router;
use axum::extract::Path;

#[public]
async fn home() -> &'static str {
    "home"
}

#[require(has_permission("write"))]
async fn write(Path(id): Path<u32>, body: String) -> String {
    format!("{id}: {body}")
}

#[require(not_anonymous())]
#[require(in_group("editors"))]
async fn edit() -> &'static str {
    "edited"
}

struct Always;

impl Predicate for Always {
    async fn evaluate(&self, _: &mut Context<'_>) -> Result<Verdict, Error> {
        Ok(Verdict::Met)
    }
}

fn always() -> Always {
    Always
}

#[require(all(always(), not_anonymous()))]
async fn custom() -> &'static str {
    "custom"
}

#[authz_runtime::allow_only(in_group("admin"))]
mod admin {
    use authz_runtime::public;

    pub(crate) async fn home() -> &'static str {
        "admin"
    }

    #[public]
    pub(crate) async fn login() -> &'static str {
        "sign in"
    }
}

fn main() {
    let _app: Router = Router::new()
        .route("/", get(home))
        .route("/posts/{id}", post(write).merge(delete(edit)))
        .route("/edit", get(edit))
        .route("/custom", get(custom))
        .route("/admin", get(admin::home))
        .route("/admin/login", get(admin::login))
        .layer(AuthzLayer::new(TestAuthenticator::default(), MemoryStore::default()));
}
