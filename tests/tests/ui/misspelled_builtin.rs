use authz_runtime::require;

#[require(has_permision("manage"))]
async fn remove_post() {}

fn main() {}
