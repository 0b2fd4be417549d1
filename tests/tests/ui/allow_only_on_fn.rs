use authz_runtime::allow_only;

#[allow_only(in_group("admins"))]
async fn remove_post() {}

fn main() {}
