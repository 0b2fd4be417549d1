use authz_runtime::allow_only;

#[allow_only(in_group("admins"))]
struct Admin;

fn main() {}
