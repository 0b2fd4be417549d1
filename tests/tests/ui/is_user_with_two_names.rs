use authz_runtime::require;

#[require(is_user("rms", "linus"))]
async fn profile() {}

fn main() {}
