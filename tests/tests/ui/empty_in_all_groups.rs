use authz_runtime::require;

#[require(in_all_groups())]
async fn remove_post() {}

fn main() {}
