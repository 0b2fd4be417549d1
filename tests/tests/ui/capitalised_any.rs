use authz_runtime::require;

#[require(Any(is_user("root"), in_group("admins")))]
async fn remove_post() {}

fn main() {}
