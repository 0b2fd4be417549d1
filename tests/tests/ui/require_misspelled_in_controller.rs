use authz_runtime::{allow_only, require};

pub struct Admin;

#[allow_only(in_group("admin"))]
impl Admin {
    #[require(has_permision("manage"))]
    pub async fn users() -> &'static str {
        "users"
    }
}

fn main() {}
