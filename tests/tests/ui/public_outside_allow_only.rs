use authz_runtime::public;

#[public]
async fn login() {}

fn main() {}
