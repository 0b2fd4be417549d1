use authz_runtime::require;

#[require(alll(not_anonymous(), in_group("admins")))]
async fn remove_post() {}

fn main() {}
