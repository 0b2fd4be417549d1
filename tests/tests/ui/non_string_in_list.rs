use authz_runtime::require;

#[require(in_any_group("admins", 5))]
async fn remove_post() {}

fn main() {}
