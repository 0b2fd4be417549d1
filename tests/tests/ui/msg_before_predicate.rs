use authz_runtime::require;

#[require(msg = "Only administrators can remove blog posts", in_group("admins"))]
async fn remove_post() {}

fn main() {}
