use authz_runtime::require;

#[require(not(in_group("trolls"), is_anonymous()))]
async fn comment() {}

fn main() {}
