use authz_runtime::allow_only;

fn is_weekday() -> bool {
    true
}

#[allow_only(all(not_anonymous(), is_weekday()))]
mod office {
    pub async fn desk() {}
}

fn main() {}
