use authz_runtime::require;

#[require(not_anonymous("rms"))]
async fn profile() {}

fn main() {}
