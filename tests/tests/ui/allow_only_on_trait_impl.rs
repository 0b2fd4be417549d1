use authz_runtime::allow_only;

pub struct Admin;

pub trait Home {
    async fn home() -> &'static str;
}

#[allow_only(in_group("admin"))]
impl Home for Admin {
    async fn home() -> &'static str {
        "admin"
    }
}

fn main() {}
