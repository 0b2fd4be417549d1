use authz_runtime::require;

#[require(in_group("admins", msg = "Only administrators"), msg = "Admins only")]
async fn remove_post() {}

fn main() {}
