use authz_runtime::require;

#[require(is_user("rms", msg = "Only {user} may read this"))]
async fn profile() {}

fn main() {}
