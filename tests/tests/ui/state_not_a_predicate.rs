use authz_runtime::require;

#[derive(Clone)]
struct Db;

fn is_author() -> u32 {
    7
}

#[require(is_author(), state = Db)]
async fn edit() -> &'static str {
    "editing"
}

fn main() {}
