//! The authz demo: a blog whose rules come from the two systems authz descends from.
//!
//! - anyone reads the blog;
//! - removing a post needs `any(is_user("root"), has_permission("manage"))` (repoze.what);
//! - `/admin` is a module under `#[allow_only(in_group("admin"))]` (Pyramid's group-level
//!   authorization);
//! - a release needs the `release` permission, in April or October only (the custom `is_month`);
//! - only a post's author, or a manager, may edit it (an object-level rule).

pub mod auth;
mod routes;

pub use routes::app;
