//! The admin side, in a file of its own: a controller whose handlers are routed as
//! `Admin::home`, `Admin::login`, `Admin::users`.

use authz_runtime::{allow_only, public, require};

pub(crate) struct Admin;

#[allow_only(in_group("admin"))]
impl Admin {
    pub(crate) async fn home() -> &'static str {
        "the admin side"
    }

    /// Open: behind the guard, a visitor sent here to sign in would be sent again.
    #[public]
    pub(crate) async fn login() -> &'static str {
        "sign in to the admin side"
    }

    /// The controller's rule first, then this one.
    #[require(
        has_permission("manage_users"),
        msg = "Only user managers can see the users"
    )]
    pub(crate) async fn users() -> &'static str {
        "the users"
    }
}
