use authz_runtime::routing::get;
use axum::Router;

async fn forgotten() -> &'static str {
    "open to all, by accident"
}

fn main() {
    let _app: Router = Router::new().route("/", get(forgotten));
}
