use authz_runtime::require;

#[require(is_user())]
async fn profile() {}

fn main() {}
