//! `msg` on the attribute and on predicates, every placeholder, and `{{ }}` escapes.

use authz_runtime::require;
use axum::Router;
use axum::routing::get;

#[require(
    any(is_user("root"), has_permission("manage")),
    msg = "Only administrators can remove blog posts"
)]
async fn attribute_msg() {}

#[require(is_user("rms", msg = "Only {user_name} may read this"))]
async fn user_name() {}

#[require(in_group("admins", msg = "Only members of {group_name}"))]
async fn group_name() {}

#[require(has_permission("manage", msg = "The {permission_name} permission is needed"))]
async fn permission_name() {}

#[require(in_all_groups("admins", "editors", msg = "Members of all of: {group_list}"))]
async fn all_groups_list() {}

#[require(in_any_group("admins", "editors", msg = "Members of one of: {group_list}"))]
async fn any_group_list() {}

#[require(in_any_group("admins", "editors", msg = "Failed: {failed_predicates}"))]
async fn any_group_failed() {}

#[require(has_all_permissions("read", "write", msg = "All of: {permission_list}"))]
async fn all_permissions_list() {}

#[require(has_any_permission("read", "write", msg = "One of: {permission_list}"))]
async fn any_permission_list() {}

#[require(has_any_permission("read", "write", msg = "Failed: {failed_predicates}"))]
async fn any_permission_failed() {}

#[require(any(
    is_user("root"),
    in_group("admins"),
    msg = "Needed: {failed_predicates}."
))]
async fn any_failed() {}

#[require(is_user("rms"), msg = "Only {user_name}, not {{anyone}}")]
async fn attribute_msg_with_placeholder_and_escapes() {}

#[require(not_anonymous(msg = "{{sign in}} first"))]
async fn escapes_only() {}

#[require(in_group("admins", msg = "}}{{group_name}}{{ is {group_name}"))]
async fn escapes_around_placeholder() {}

fn main() {
    let _app: Router = Router::new()
        .route("/attribute-msg", get(attribute_msg))
        .route("/user-name", get(user_name))
        .route("/group-name", get(group_name))
        .route("/permission-name", get(permission_name))
        .route("/all-groups-list", get(all_groups_list))
        .route("/any-group-list", get(any_group_list))
        .route("/any-group-failed", get(any_group_failed))
        .route("/all-permissions-list", get(all_permissions_list))
        .route("/any-permission-list", get(any_permission_list))
        .route("/any-permission-failed", get(any_permission_failed))
        .route("/any-failed", get(any_failed))
        .route(
            "/attribute-msg-with-placeholder",
            get(attribute_msg_with_placeholder_and_escapes),
        )
        .route("/escapes-only", get(escapes_only))
        .route("/escapes-around", get(escapes_around_placeholder));
}
