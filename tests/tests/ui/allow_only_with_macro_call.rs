use authz_runtime::allow_only;

macro_rules! handler {
    ($name:ident) => {
        pub async fn $name() -> &'static str {
            "hidden from #[allow_only]"
        }
    };
}

#[allow_only(in_group("admin"))]
mod admin {
    handler!(users);

    pub async fn home() -> &'static str {
        "guarded"
    }
}

fn main() {}
