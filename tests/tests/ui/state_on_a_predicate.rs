use authz_runtime::require;

#[require(any(in_group("admins", state = Db), has_permission("manage")))]
async fn edit() -> &'static str {
    "editing"
}

fn main() {}
