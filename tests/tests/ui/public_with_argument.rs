use authz_runtime::{allow_only, public};

#[allow_only(in_group("admins"))]
mod admin {
    use super::public;

    #[public(always)]
    pub async fn login() {}
}

fn main() {}
