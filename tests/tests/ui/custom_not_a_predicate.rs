use authz_runtime::require;

fn is_month(month: u32) -> bool {
    month == 7
}

#[require(any(in_group("travellers"), is_month(7)))]
async fn travel() {}

fn main() {}
