//! Declarative access control for [axum]: say *who may enter* as a predicate on a handler or a
//! whole module; the macros check the predicate while your crate compiles and turn it into a
//! guard that runs before every other extractor; this runtime decides each request from the
//! user's identity and the groups and permissions a store grants them.
//!
//! The model is repoze.what as TurboGears 2 uses it, with its predicates, their semantics and
//! their messages, byte for byte.
//!
//! This page is the overview; the [`guide`] holds the reference, a chapter per module: the
//! predicate language, what a request gets, controllers in files, checks inside handlers, the
//! guarded routing, signing in, the SQL store, rules as data and every compile error. Runnable
//! apps, one per capability, are in the crate's `examples/`.
//!
//! ```
//! use authz_runtime::{AuthzLayer, Context, Error, MemoryStore, Predicate, Verdict};
//! use authz_runtime::{allow_only, require};
//! use authz_runtime::testing::TestAuthenticator;
//! use axum::{Router, extract::Path, routing::{delete, get}};
//!
//! #[require(
//!     any(is_user("root"), has_permission("manage")),
//!     msg = "Only administrators can remove blog posts"
//! )]
//! async fn remove_post(Path(id): Path<i64>) -> String {
//!     format!("post {id} removed")
//! }
//!
//! #[allow_only(in_group("admin"))]
//! mod admin {
//!     pub async fn home() -> &'static str {
//!         "Welcome to the admin side"
//!     }
//! }
//!
//! /// A custom predicate: the seed's `is_month`.
//! struct IsMonth(u32);
//! fn is_month(month: u32) -> IsMonth { IsMonth(month) }
//!
//! impl Predicate for IsMonth {
//!     async fn evaluate(&self, _ctx: &mut Context<'_>) -> Result<Verdict, Error> {
//!         let now = 4; // read a clock here
//!         Ok(Verdict::met_if(now == self.0, format!("The current month must be {}", self.0)))
//!     }
//! }
//!
//! #[require(all(any(is_month(4), is_month(10)), has_permission("release")))]
//! async fn release() -> &'static str {
//!     "released"
//! }
//!
//! let store = MemoryStore::builder()
//!     .group("admin", ["rms"])
//!     .permission("manage", ["admin"])
//!     .permission("release", ["admin"])
//!     .build();
//! let app: Router = Router::new()
//!     .route("/posts/{id}", delete(remove_post))
//!     .route("/admin", get(admin::home))
//!     .route("/release", get(release))
//!     .layer(AuthzLayer::new(TestAuthenticator::default(), store));
//! ```
//!
//! # The predicate language
//!
//! | predicate | met when | default message |
//! |---|---|---|
//! | `not_anonymous()` | a user is authenticated | `The current user must have been authenticated` |
//! | `is_anonymous()` | no user is authenticated | `The current user must be anonymous` |
//! | `is_user("u")` | the user is `u` | `The current user must be "u"` |
//! | `in_group("g")` | `g` is among the user's groups | `The current user must belong to the group "g"` |
//! | `in_all_groups("g", …)` | every group is | the first missing group's message |
//! | `in_any_group("g", …)` | some group is | `The member must belong to at least one of the following groups: g, …` |
//! | `has_permission("p")` | a group grants `p` | `The user must have the "p" permission` |
//! | `has_all_permissions("p", …)` | every permission is granted | the first missing permission's message |
//! | `has_any_permission("p", …)` | some permission is granted | `The user must have at least one of the following permissions: p, …` |
//! | `all(a, …)` | every child is met, in order, stopping at the first unmet | that child's message |
//! | `any(a, …)` | some child is met, stopping at the first met | `At least one of the following predicates must be met: ` and the children's messages |
//! | `not(a)` | the child is unmet | `The condition must not be met` |
//! | `your_fn(args)` | your [`Predicate`] says so | your message |
//!
//! Every predicate, and the attribute itself, takes `msg = "…"`, which replaces the message.
//! A message may name the predicate's own fields: `{user_name}`, `{group_name}`,
//! `{permission_name}`, `{group_list}`, `{permission_list}`, and `{failed_predicates}` (the
//! unmet children of an `any`); `{{` and `}}` are literal braces. Unlike repoze.what, a `msg` on
//! `all`, `in_all_groups` or `has_all_permissions` is honoured.
//!
//! # Denials and failures
//!
//! An unmet predicate answers **401** when nobody is signed in and **403** when the user is
//! signed in but lacks the right, with the message as the body: an HTML page for browsers,
//! plain text, or `{"status": 403, "detail": "…"}` for clients that accept JSON. With
//! [`AuthzLayer::with_login_url`], an anonymous browser is sent to sign in instead (`303 See
//! Other` to `login?came_from=…`), and [`AuthzLayer::with_denial_response`] lets the application
//! answer denials itself. If the authenticator, the
//! store or a custom predicate fails, the request gets **503** and the cause is logged with
//! `tracing` (target `authz`): an error never grants access. Each denial is logged at `info`
//! with the handler, the rule, and the sub-predicate that decided.
//!
//! # Checks inside handlers
//!
//! A handler that takes [`Authz`] can ask "may this user …?" without refusing, to show only the
//! actions the visitor may take ([`Authz::is_met`]), and refuse exactly as a guard would once it
//! has loaded the object a rule is about ([`Authz::require`], whose [`Refused`] is the guard's
//! response). Any number of checks cost the request's one authentication and one store lookup,
//! shared with its guards:
//!
//! ```
//! use authz_runtime::{Authz, Refused, predicate};
//!
//! async fn home(mut authz: Authz) -> Result<String, Refused> {
//!     let mut page = String::from("<h1>Blog</h1>");
//!     if authz.is_met(&predicate!(has_permission("write"))).await? {
//!         page.push_str(r#"<a href="/posts/new">Write a post</a>"#);
//!     }
//!     Ok(page)
//! }
//! ```
//!
//! # Rules as data
//!
//! The macros compile each predicate into a static [`Rule`]: its tree of [`rule::Node`]s, with
//! each node's kind, text and resolved message, and the program that decides it, laid out from
//! the tree while the crate compiles: one [`rule::Step`] per leaf check, each naming the step
//! that follows when it is met and when it is not, so that the tree's short-circuits are
//! decided before any request comes and deciding a rule is a loop. One evaluator decides every rule, guards,
//! `#[allow_only]` modules, [`predicate!`] values and [`RequireLayer`]s alike; only a custom
//! predicate's call is generated code: a guarded handler's argument is the runtime's guard of a
//! unit struct that names the handler's site, so the expansion writes no impl of axum's traits
//! for a rule of built-ins. [`guarded_handlers`] lists every guard with its rule as a
//! tree, and a [`Denial`] (or, in your own denial response, a [`Denied`]) names the node that
//! decided: the unmet child of an `all`, the missing member of an `in_all_groups`, the `any` or
//! `not` whose condition failed, the custom predicate's call.
//!
//! [axum]: https://docs.rs/axum

extern crate self as authz_runtime;

mod authenticator;
mod authz_layer;
mod checks;
mod compiled;
mod context;
mod credentials;
mod denial;
mod denied;
mod error;
mod evaluator;
mod future;
mod grants;
mod guard;
mod identity;
mod predicate;
mod refused;
mod registry;
mod require_layer;
pub mod routing;
pub mod rule;
mod settings;
mod store;

#[cfg(feature = "testing")]
pub mod testing;

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub mod sql;

#[cfg(feature = "sign-in")]
pub mod signin;

#[doc(hidden)]
pub mod __private;
include!(concat!(env!("OUT_DIR"), "/private.rs"));

pub use authenticator::Authenticator;
pub use authz_layer::{AuthzLayer, AuthzService};
pub use checks::Authz;
pub use compiled::Compiled;
pub use context::Context;
pub use denial::default_response;
pub use denied::{Denied, Wants};
pub use error::{Error, ErrorKind};
pub use grants::{Account, Grants};
pub use guard::GuardSite;
pub use identity::Identity;
pub use predicate::{Denial, Predicate, Verdict};
pub use refused::Refused;
pub use registry::guarded_handlers;
pub use require_layer::{RequireFuture, RequireLayer, RequireService};
pub use rule::Rule;
pub use store::{CredentialsStore, MemoryStore, MemoryStoreBuilder};

#[doc(inline)]
pub use authz_macros::{allow_only, predicate, public, require};

/// The guide: the reference, a chapter per module, every example a doc test. The README is the
/// way in; this is what it leaves out.
pub mod guide {
    #[doc = include_str!("../docs/predicates.md")]
    pub mod predicates {}

    #[doc = include_str!("../docs/requests.md")]
    pub mod requests {}

    #[doc = include_str!("../docs/controllers.md")]
    pub mod controllers {}

    #[doc = include_str!("../docs/checks.md")]
    pub mod checks {}

    #[doc = include_str!("../docs/routing.md")]
    pub mod routing {}

    #[doc = include_str!("../docs/signing_in.md")]
    pub mod signing_in {}

    #[doc = include_str!("../docs/sql.md")]
    pub mod sql {}

    #[doc = include_str!("../docs/rules_as_data.md")]
    pub mod rules_as_data {}

    #[doc = include_str!("../docs/compile_errors.md")]
    pub mod compile_errors {}
}

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeExamples;
