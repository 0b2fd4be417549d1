use authz_runtime::require;

#[require(!in_group("trolls"))]
async fn post_comment() {}

fn main() {}
