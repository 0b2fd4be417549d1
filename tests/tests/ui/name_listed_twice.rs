use authz_runtime::require;

#[require(in_any_group("admins", "editors", "admins"))]
async fn remove_post() {}

fn main() {}
