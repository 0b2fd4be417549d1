use authz_runtime::allow_only;

#[allow_only(in_group("admins"))]
mod admin {
    pub struct Pages;

    impl Pages {
        // Routable as `get(admin::Pages::home)`, and out of the attribute's reach.
        pub async fn home() -> &'static str {
            "admin home"
        }

        // A method is no handler: left alone.
        pub async fn title(&self) -> &'static str {
            "Admin"
        }
    }
}

fn main() {}
