//! Every built-in predicate, with and without its `msg`.

use authz_runtime::require;
use axum::Router;
use axum::routing::get;

#[require(not_anonymous())]
async fn signed_in() {}

#[require(is_anonymous())]
async fn sign_up() {}

#[require(is_user("rms"))]
async fn rms_only() {}

#[require(in_group("admins"))]
async fn admins() {}

#[require(in_all_groups("admins", "developers"))]
async fn admin_developers() {}

#[require(in_any_group("admins", "developers", "editors"))]
async fn staff() {}

#[require(has_permission("manage"))]
async fn manage() {}

#[require(has_all_permissions("read", "write"))]
async fn read_write() {}

#[require(has_any_permission("read", "write"))]
async fn read_or_write() {}

#[require(in_any_group("admins"))]
async fn one_group_list() {}

#[require(not_anonymous(msg = "Sign in first"))]
async fn signed_in_msg() {}

#[require(is_anonymous(msg = "Sign out first"))]
async fn sign_up_msg() {}

#[require(is_user("rms", msg = "Only rms may read this"))]
async fn rms_only_msg() {}

#[require(in_group("admins", msg = "Only administrators can remove blog posts"))]
async fn admins_msg() {}

#[require(in_all_groups("admins", "developers", msg = "Admin developers only"))]
async fn admin_developers_msg() {}

#[require(in_any_group("admins", "editors", msg = "Staff only"))]
async fn staff_msg() {}

#[require(has_permission("manage", msg = "Managers only"))]
async fn manage_msg() {}

#[require(has_all_permissions("read", "write", msg = "Read and write access needed"))]
async fn read_write_msg() {}

#[require(has_any_permission("read", "write", msg = "Some access needed"))]
async fn read_or_write_msg() {}

fn main() {
    let _app: Router = Router::new()
        .route("/signed-in", get(signed_in))
        .route("/sign-up", get(sign_up))
        .route("/rms", get(rms_only))
        .route("/admins", get(admins))
        .route("/admin-developers", get(admin_developers))
        .route("/staff", get(staff))
        .route("/manage", get(manage))
        .route("/read-write", get(read_write))
        .route("/read-or-write", get(read_or_write))
        .route("/one-group-list", get(one_group_list))
        .route("/signed-in-msg", get(signed_in_msg))
        .route("/sign-up-msg", get(sign_up_msg))
        .route("/rms-msg", get(rms_only_msg))
        .route("/admins-msg", get(admins_msg))
        .route("/admin-developers-msg", get(admin_developers_msg))
        .route("/staff-msg", get(staff_msg))
        .route("/manage-msg", get(manage_msg))
        .route("/read-write-msg", get(read_write_msg))
        .route("/read-or-write-msg", get(read_or_write_msg));
}
