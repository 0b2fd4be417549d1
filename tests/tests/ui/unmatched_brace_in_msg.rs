use authz_runtime::require;

#[require(in_group("admins", msg = "Members of {group_name only"))]
async fn remove_post() {}

fn main() {}
