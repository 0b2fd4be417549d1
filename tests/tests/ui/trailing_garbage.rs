use authz_runtime::require;

#[require(is_user("rms") is_user("linus"))]
async fn profile() {}

fn main() {}
