use authz_runtime::allow_only;

mod handlers {
    pub async fn export() -> &'static str {
        "every user's data"
    }
}

#[allow_only(in_group("admins"))]
mod admin {
    // Would expose `handlers::export` as `admin::export`, unguarded.
    pub use crate::handlers::export;

    pub async fn home() -> &'static str {
        "admin home"
    }
}

fn main() {
    let _ = admin::export;
}
