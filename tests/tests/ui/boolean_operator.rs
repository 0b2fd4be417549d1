use authz_runtime::require;

#[require(not_anonymous() && in_group("editors"))]
async fn edit_page() {}

fn main() {}
