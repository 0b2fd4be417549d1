use authz_runtime::{allow_only, public};

// One error, at the predicate: the module, its handlers and its `#[public]` stay as written.
#[allow_only(in_grup("admins"))]
mod admin {
    use super::public;

    #[public]
    pub async fn login() -> &'static str {
        "please sign in"
    }

    pub async fn home() -> &'static str {
        "admin home"
    }
}

fn main() {
    let _app: axum::Router = axum::Router::new()
        .route("/admin/login", axum::routing::get(admin::login))
        .route("/admin", axum::routing::get(admin::home));
}
