use authz_runtime::require;

#[require(
    in_group("admins"),
    message = "Only administrators can remove blog posts"
)]
async fn remove_post() {}

fn main() {}
