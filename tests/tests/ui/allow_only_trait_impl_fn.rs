use authz_runtime::allow_only;

pub trait Page {
    async fn show() -> String;
}

#[allow_only(in_group("admins"))]
mod admin {
    pub struct Dashboard;

    // Routable as `get(<admin::Dashboard as Page>::show)`.
    impl super::Page for Dashboard {
        async fn show() -> String {
            "dashboard".to_owned()
        }
    }
}

fn main() {}
