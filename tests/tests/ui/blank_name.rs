use authz_runtime::require;

#[require(has_permission("   "))]
async fn remove_post() {}

fn main() {}
