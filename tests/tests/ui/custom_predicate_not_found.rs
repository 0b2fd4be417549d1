use authz_runtime::require;

#[require(all(in_group("travellers"), is_month(7)))]
async fn travel() {}

fn main() {}
