use authz_runtime::require;

#[require(in_group(admins))]
async fn remove_post() {}

fn main() {}
