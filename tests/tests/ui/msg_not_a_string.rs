use authz_runtime::require;

#[require(in_group("admins"), msg = Only_administrators)]
async fn remove_post() {}

fn main() {}
