use authz_runtime::require;

#[require(is_user(1))]
async fn profile() {}

fn main() {}
