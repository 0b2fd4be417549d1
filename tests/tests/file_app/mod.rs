//! A small app laid out the usual way: route modules in files of their own, each guarded as a
//! whole by `#[allow_only]` on its controller's `impl`.

pub(crate) mod admin;
pub(crate) mod blog;
pub(crate) mod reports;

use authz_runtime::routing::get;
use authz_runtime::testing::TestAuthenticator;
use authz_runtime::{AuthzLayer, MemoryStore};
use axum::Router;

use admin::Admin;
use blog::drafts::Drafts;
use reports::Reports;

pub(crate) fn app() -> Router {
    let store = MemoryStore::builder()
        .group("admin", ["root"])
        .group("writers", ["rms", "linus"])
        .permission("manage_users", ["admin"])
        .permission("publish", ["writers"])
        .user("linus")
        .build();
    Router::new()
        .route("/admin", get(Admin::home))
        .route("/admin/login", get(Admin::login))
        .route("/admin/users", get(Admin::users))
        .route("/admin/audit/{id}", get(Admin::audit))
        .route("/drafts", get(Drafts::list))
        .route("/drafts/publish", get(Drafts::publish))
        .route("/reports", get(Reports::list))
        .layer(AuthzLayer::new(TestAuthenticator::default(), store))
}
