use authz_runtime::require;

#[require(is_user(" rms"))]
async fn profile() {}

fn main() {}
