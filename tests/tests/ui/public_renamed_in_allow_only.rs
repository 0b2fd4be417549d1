use authz_runtime::allow_only;
use authz_runtime::public as open;

#[allow_only(in_group("admins"))]
mod admin {
    use super::open;

    #[open]
    pub async fn login() -> &'static str {
        "please sign in"
    }
}

fn main() {}
