use authz_runtime::require;

#[require]
async fn remove_post() {}

fn main() {}
