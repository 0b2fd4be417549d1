use authz_runtime::require;

#[require(in_group("admins"))]
fn remove_post() {}

fn main() {}
