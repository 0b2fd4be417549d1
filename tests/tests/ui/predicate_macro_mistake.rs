use authz_runtime::{RequireLayer, predicate};

fn main() {
    let _layer = RequireLayer::new(predicate!(has_any_permision("see-reports", "manage")));
}
