use authz_runtime::require;

#[require("admins")]
async fn remove_post() {}

fn main() {}
