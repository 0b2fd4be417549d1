use authz_runtime::require;
use axum::extract::Path;

struct Post(u64);

impl Post {
    #[require(in_group("editors"))]
    pub async fn edit(Path(id): Path<u64>) -> Self {
        Post(id)
    }
}

fn main() {}
