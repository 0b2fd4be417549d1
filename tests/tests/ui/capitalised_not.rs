use authz_runtime::require;

#[require(Not(in_group("trolls")))]
async fn comment() {}

fn main() {}
