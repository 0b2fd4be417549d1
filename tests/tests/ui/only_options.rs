use authz_runtime::require;

#[require(msg = "Only administrators can remove blog posts")]
async fn remove_post() {}

fn main() {}
