//! The authz demo: a blog whose rules come from the two systems authz descends from.
//!
//! - anyone reads the blog;
//! - removing a post needs `any(is_user("root"), has_permission("manage"))` (repoze.what);
//! - `/admin` is a module under `#[allow_only(in_group("admin"))]` (Pyramid's group-level
//!   authorization), with the demo's own 403 page;
//! - a release needs the `release` permission, in April or October only (the custom
//!   `is_month`);
//! - only a post's author, or a manager, may edit it (an object-level rule);
//! - `/api` answers JSON to bearer tokens;
//! - `/manage` changes users, groups and permissions through the store's admin API;
//! - `/admin/policies` and `demo policies` list every guarded handler with its rule;
//! - the pages link only to what the visitor may do, asked with `Authz::is_met` of the
//!   handlers' own rules.

pub mod auth;
mod calendar;
pub mod cli;
mod client;
pub mod csrf;
pub mod db;
mod pages;
pub mod policies;
pub mod server;
pub mod web;
