use authz_runtime::require;

#[require(not_anonymous)]
async fn profile() {}

fn main() {}
