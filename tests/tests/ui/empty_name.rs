use authz_runtime::require;

#[require(in_group(""))]
async fn remove_post() {}

fn main() {}
