use authz_runtime::allow_only;

#[allow_only(in_group("admins"))]
mod admin {
    // Any type implementing the trait could route `<T as Pages>::home`.
    #[allow(async_fn_in_trait)]
    pub trait Pages {
        async fn home() -> &'static str {
            "admin home"
        }
    }
}

fn main() {}
