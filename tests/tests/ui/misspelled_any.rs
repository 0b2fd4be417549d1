use authz_runtime::require;

#[require(anyy(is_user("root"), in_group("admins")))]
async fn remove_post() {}

fn main() {}
