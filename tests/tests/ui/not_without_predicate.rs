use authz_runtime::require;

#[require(not())]
async fn comment() {}

fn main() {}
