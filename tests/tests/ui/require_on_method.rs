use authz_runtime::require;

struct Blog;

impl Blog {
    #[require(in_group("admins"))]
    async fn remove_post(&self) {}
}

fn main() {}
