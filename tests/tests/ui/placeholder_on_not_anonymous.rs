use authz_runtime::require;

#[require(not_anonymous(msg = "Sign in, {user_name}"))]
async fn profile() {}

fn main() {}
