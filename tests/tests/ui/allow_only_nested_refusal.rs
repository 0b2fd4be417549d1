use authz_runtime::allow_only;

mod handlers {
    pub async fn export() -> &'static str {
        "every user's data"
    }
}

// Reported once, by the inner attribute, though the outer one guards the inner module too.
#[allow_only(not_anonymous())]
mod admin {
    #[authz_runtime::allow_only(in_group("auditors"))]
    pub mod audit {
        pub use crate::handlers::export;
    }
}

fn main() {
    let _ = admin::audit::export;
}
