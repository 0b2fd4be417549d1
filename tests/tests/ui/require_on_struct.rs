use authz_runtime::require;

#[require(in_group("admins"))]
struct Post;

fn main() {}
