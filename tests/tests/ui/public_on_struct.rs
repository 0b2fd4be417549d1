use authz_runtime::public;

#[public]
struct Login;

fn main() {}
