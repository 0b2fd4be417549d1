use authz_runtime::require;

#[require(any())]
async fn remove_post() {}

fn main() {}
