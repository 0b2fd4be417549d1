//! `any`, `all` and `not`, nested, with and without `msg`.

use authz_runtime::require;
use axum::Router;
use axum::routing::get;

#[require(any(is_user("root"), has_permission("manage")))]
async fn remove_post() {}

#[require(all(not_anonymous(), in_group("editors")))]
async fn edit_page() {}

#[require(not(in_group("trolls")))]
async fn comment() {}

#[require(all(
    not_anonymous(),
    any(
        in_group("admins"),
        all(in_group("editors"), has_permission("publish"))
    ),
    not(any(is_user("spammer"), in_group("banned")))
))]
async fn publish() {}

#[require(not(not(is_anonymous())))]
async fn double_negation() {}

#[require(any(is_user("root"), in_group("admins"), msg = "Only administrators"))]
async fn any_msg() {}

#[require(all(not_anonymous(), in_group("editors"), msg = "Only signed-in editors"))]
async fn all_msg() {}

#[require(not(in_group("trolls"), msg = "Trolls cannot comment"))]
async fn not_msg() {}

#[require(any(
    all(
        in_group("editors", msg = "Editors"),
        has_permission("publish", msg = "Publishers")
    ),
    not(is_anonymous(), msg = "Anonymous users cannot do this"),
    msg = "Either: {failed_predicates}"
))]
async fn msg_at_every_level() {}

fn main() {
    let _app: Router = Router::new()
        .route("/remove-post", get(remove_post))
        .route("/edit-page", get(edit_page))
        .route("/comment", get(comment))
        .route("/publish", get(publish))
        .route("/double-negation", get(double_negation))
        .route("/any-msg", get(any_msg))
        .route("/all-msg", get(all_msg))
        .route("/not-msg", get(not_msg))
        .route("/msg-at-every-level", get(msg_at_every_level));
}
