use authz_runtime::require;

struct Blog;

impl Blog {
    #[require(in_group("admins"))]
    pub async fn remove_post() {}
}

fn main() {}
