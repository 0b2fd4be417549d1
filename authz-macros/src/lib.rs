//! Procedural macros of `authz`. Depend on `authz-runtime` and use them from there:
//! the expansions name runtime items under `::authz_runtime::__private`.
//!
//! Each macro is a thin shim over a module of its own: `require`, `allow_only`, `public` and
//! `predicate`. They share one front and one back: `parse` turns the attribute into the
//! predicate IR of `ast`, `valid` applies the rules that span several nodes, and `lower`
//! turns a valid predicate into data, the static rule that the runtime's evaluator decides;
//! `guard` writes the guard of one handler. `names` holds the names the expansions share. On
//! any error the user's item is emitted unchanged next to the errors (`fallback`), so that one
//! mistake gives one error and not a cascade.

mod allow_only;
mod ast;
mod controller;
mod fallback;
mod guard;
mod lower;
mod message;
mod names;
mod parse;
mod predicate;
mod public;
mod require;
mod suggest;
mod valid;

use proc_macro::TokenStream;

/// Guards an `async fn` axum handler with a predicate: who may call it.
///
/// ```
/// use authz_runtime::{AuthzLayer, MemoryStore, require};
/// use authz_runtime::testing::TestAuthenticator;
/// use axum::{Router, extract::Path, routing::delete};
///
/// #[require(
///     any(is_user("root"), has_permission("manage")),
///     msg = "Only administrators can remove blog posts"
/// )]
/// async fn remove_post(Path(id): Path<u64>) -> String {
///     format!("post {id} removed")
/// }
///
/// let store = MemoryStore::builder()
///     .group("admins", ["rms"])
///     .permission("manage", ["admins"])
///     .build();
/// let app: Router = Router::new()
///     .route("/posts/{id}", delete(remove_post))
///     .layer(AuthzLayer::new(TestAuthenticator::default(), store));
/// ```
///
/// The function stays as written, with one more argument in front: a guard extractor of its
/// own, which decides the request before any other extractor runs. An anonymous POST with a
/// malformed JSON body is answered 401, not 400 or 422, and no body is read for a request that
/// is refused. An unmet predicate answers 401 when nobody is signed in and 403 otherwise, with
/// the predicate's message; an error of the store, the authenticator or a custom predicate
/// answers 503 and never grants. The routes need an `AuthzLayer` around them, which says who
/// the user is.
///
/// # Grammar
///
/// ```text
/// attribute  := predicate ("," option)*            option := "msg" "=" string-literal
/// predicate  := builtin | combinator | custom
/// combinator := "any" "(" args ")" | "all" "(" args ")" | "not" "(" predicate ["," option] ")"
/// args       := predicate ("," predicate)* ["," option]
/// builtin    := "not_anonymous" "(" [option] ")" | "is_anonymous" "(" [option] ")"
///             | "is_user" "(" str ["," option] ")"
///             | "in_group" "(" str ["," option] ")" | "has_permission" "(" str ["," option] ")"
///             | "in_all_groups" "(" str ("," str)* ["," option] ")"
///             | "in_any_group" "(" str ("," str)* ["," option] ")"
///             | "has_all_permissions" "(" str ("," str)* ["," option] ")"
///             | "has_any_permission" "(" str ("," str)* ["," option] ")"
/// custom     := path "(" (rust-expression ",")* ["," option] ")"
/// ```
///
/// Options come last. `msg = "…"` replaces a predicate's message, on any predicate or on the
/// whole attribute (not both); it may name the predicate's fields, `{user_name}`,
/// `{group_name}`, `{permission_name}`, `{group_list}`, `{permission_list}` or
/// `{failed_predicates}` (an `any`'s unmet children), and `{{` `}}` are literal braces.
///
/// A call that is not a built-in or a combinator is your own predicate: a function call whose
/// value implements `authz_runtime::Predicate`, with any Rust expressions as arguments. Its
/// path is resolved where the attribute is written. A name one typo away from a built-in
/// (`in_groups`) is taken for a misspelling; call such a predicate by its path
/// (`self::in_groups(…)`).
///
/// # Order of checks
///
/// - Several `#[require]` on one function are all checked, top to bottom, each stopping the
///   request at its first unmet predicate.
/// - In an `#[allow_only]` module, the modules' predicates come first, outermost first, then
///   the function's own `#[require]`: an anonymous user is asked to sign in before being told
///   which group is missing.
/// - Inside a predicate, `all(…)` and `in_all_groups(…)` / `has_all_permissions(…)` check in
///   order and stop at the first unmet, whose message is the denial's; `any(…)` stops at the
///   first met. Groups and permissions are loaded at most once per request, and `is_user` and
///   `not_anonymous` never load them.
///
/// # Compile errors
///
/// Every mistake is reported at the tokens that make it, all of an attribute's mistakes in one
/// build, and the function is still emitted, so that no second error follows: a misspelled
/// built-in or combinator (with "did you mean"), a wrong number of arguments, a name that is
/// not a string literal or is empty, blank or listed twice, an empty list, `&&`, `||` or `!`
/// instead of `all`, `any` or `not`, an option other than `msg`, an option before an argument,
/// an unknown placeholder. rustc reports a custom predicate that does not exist, takes other
/// arguments or is not a predicate, at the call.
///
/// `#[require]` goes on a free `async fn`. It refuses a function that is not async and a method
/// that takes `self`. An associated function without `self` cannot be guarded either: the
/// guard is an item beside the function, and an `impl` block cannot hold it; when the signature
/// names `Self` the macro says so, otherwise rustc reports the guard's items as "not supported
/// in `trait`s or `impl`s". Write a free handler that calls the associated function.
#[proc_macro_attribute]
pub fn require(attr: TokenStream, item: TokenStream) -> TokenStream {
    require::expand(attr.into(), item.into()).into()
}

/// Guards every handler of an inline module with a predicate, as if each had its own
/// `#[require]`.
///
/// ```
/// use authz_runtime::{AuthzLayer, Context, Error, MemoryStore, Predicate, Verdict, allow_only};
/// use authz_runtime::testing::TestAuthenticator;
/// use axum::{Router, routing::get};
///
/// #[allow_only(in_group("admins"), msg = "Only administrators may enter")]
/// mod admin {
///     use authz_runtime::{public, require};
///
///     pub async fn home() -> &'static str {
///         audit("home").await;
///         "Welcome to the admin side"
///     }
///
///     /// Guarded by the module, then by its own `#[require]`.
///     #[require(is_user("root"))]
///     pub(crate) async fn danger_zone() -> &'static str {
///         "careful"
///     }
///
///     /// Open on purpose: a sign-in page behind the guard would send visitors round in circles.
///     #[public]
///     pub async fn login() -> &'static str {
///         "please sign in"
///     }
///
///     /// Private: a helper, not a handler; left as written.
///     async fn audit(line: &str) {
///         let _ = line;
///     }
///
///     /// Nested inline modules are guarded too.
///     pub mod reports {
///         pub async fn quarterly() -> &'static str {
///             "figures"
///         }
///     }
/// }
///
/// /// A custom predicate, named from where the attribute is written, as for `#[require]`.
/// struct OfficeHours;
///
/// fn office_hours() -> OfficeHours {
///     OfficeHours
/// }
///
/// impl Predicate for OfficeHours {
///     async fn evaluate(&self, _ctx: &mut Context<'_>) -> Result<Verdict, Error> {
///         let hour = 10; // a real one reads a clock
///         Ok(Verdict::met_if((9..17).contains(&hour), "The office must be open"))
///     }
/// }
///
/// #[allow_only(all(not_anonymous(), self::office_hours()))]
/// mod office {
///     pub async fn desk() -> &'static str {
///         "desk"
///     }
/// }
///
/// fn main() {
///     let store = MemoryStore::builder().group("admins", ["rms"]).build();
///     let app: Router = Router::new()
///         .route("/admin", get(admin::home))
///         .route("/admin/danger", get(admin::danger_zone))
///         .route("/admin/login", get(admin::login))
///         .route("/admin/reports", get(admin::reports::quarterly))
///         .route("/office", get(office::desk))
///         .layer(AuthzLayer::new(TestAuthenticator::default(), store));
/// }
/// ```
///
/// The attribute takes what `#[require]` takes (see there for the grammar). It guards every
/// `async fn` of the module visible outside it (`pub`, `pub(crate)`, `pub(super)`,
/// `pub(in …)`), in nested inline modules too. Private functions, functions that are not
/// async, and methods taking `self` are left as written. `#[public]` exempts a handler.
///
/// # Order of checks
///
/// Outermost module first, then each nested `#[allow_only]` module, then the handler's own
/// `#[require]`, top to bottom; several `#[allow_only]` on one module, top to bottom. Every
/// guard runs before the handler's other extractors.
///
/// # Names
///
/// The paths in the attribute are resolved in the module's parent, where the attribute is
/// written: `self::x()` is the parent's `x`, `super::x()` the grandparent's, and an `x` of the
/// module itself does not shadow the `x` the attribute means. For this, a predicate with custom
/// calls is expanded in a hidden function beside the module; such a module must therefore sit
/// at the level of a module, not in a function body, whose items no path from inside the
/// module reaches. A predicate of built-ins only may sit anywhere.
///
/// # What it refuses
///
/// Some items of the module could be routed as handlers, yet the attribute cannot guard them.
/// Rather than leave them open, it reports each one, at its tokens:
///
/// - an associated function of an `impl` or a trait that is async, takes no `self` and no
///   argument by reference, and is visible (always, in a trait impl): it could be routed as
///   `get(admin::Pages::home)`. Make it a free `async fn` of the module, or mark it `#[public]`.
///   Extractors' `from_request_parts`, which take references, are no handlers and pass.
/// - a visible `use` (`pub use crate::handlers::export;`): it would publish a handler from
///   elsewhere under the module's path, unguarded. Make it private, or mark it `#[public]`.
/// - a macro call, which could define handlers the attribute cannot see. `macro_rules!`
///   definitions pass.
///
/// The module's items must be inline: on `mod admin;` the attribute reports that, after rustc's
/// own error for file modules in macro input (E0658, an unstable feature that no macro can
/// avoid on stable Rust). For a route module in a file of its own, guard a controller instead.
///
/// # Controllers: route modules in files
///
/// On an inherent `impl` block, the attribute guards the block's associated functions that
/// could be handlers (async, no `self`, no argument by reference), routed as `Admin::home`: a
/// controller, as TurboGears' controllers are classes. The block can sit in a file module
/// (`mod admin;` and `src/admin.rs`), where a module attribute cannot. Its functions take
/// `#[public]` and `#[require]` as a module's do, in the same order (the controller's rule
/// first, then each `#[require]` top to bottom), and each is an entry of
/// `guarded_handlers()` (`admin::Admin::home`). A controller inside an `#[allow_only]` module
/// is guarded by the module's rule first. Trait impls and generic blocks are refused.
///
/// ```
/// use authz_runtime::routing::get;
/// use authz_runtime::testing::TestAuthenticator;
/// use authz_runtime::{AuthzLayer, MemoryStore, allow_only, public, require};
/// use axum::Router;
///
/// // In `src/admin.rs`, declared by `mod admin;`:
/// pub struct Admin;
///
/// #[allow_only(in_group("admin"))]
/// impl Admin {
///     pub async fn home() -> &'static str {
///         "the admin side"
///     }
///
///     #[public]
///     pub async fn login() -> &'static str {
///         "sign in"
///     }
///
///     #[require(has_permission("manage_users"))]
///     pub async fn users() -> &'static str {
///         "the users"
///     }
/// }
///
/// let app: Router = Router::new()
///     .route("/admin", get(Admin::home))
///     .route("/admin/login", get(Admin::login))
///     .route("/admin/users", get(Admin::users))
///     .layer(AuthzLayer::new(TestAuthenticator::default(), MemoryStore::default()));
/// ```
#[proc_macro_attribute]
pub fn allow_only(attr: TokenStream, item: TokenStream) -> TokenStream {
    allow_only::expand(attr.into(), item.into()).into()
}

/// Exempts an item of an `#[allow_only]` module from the module's predicate, on purpose.
///
/// ```
/// use authz_runtime::{AuthzLayer, MemoryStore, allow_only};
/// use authz_runtime::testing::TestAuthenticator;
/// use axum::{Router, routing::get};
///
/// mod pages {
///     pub async fn about() -> &'static str {
///         "about us"
///     }
/// }
///
/// #[allow_only(in_group("admins"))]
/// mod admin {
///     use authz_runtime::public;
///
///     /// The sign-in page of the admin side: behind its own guard, anonymous visitors
///     /// redirected to it would be redirected again.
///     #[public]
///     pub async fn login() -> &'static str {
///         "please sign in"
///     }
///
///     /// A re-export, published under `admin::about` without a guard.
///     #[public]
///     pub use crate::pages::about;
///
///     pub struct Help;
///
///     impl Help {
///         /// An associated function, routed as `admin::Help::page`.
///         #[public]
///         pub async fn page() -> &'static str {
///             "how to sign in"
///         }
///     }
/// }
///
/// fn main() {
///     let app: Router = Router::new()
///         .route("/admin/login", get(admin::login))
///         .route("/admin/about", get(admin::about))
///         .route("/admin/help", get(admin::Help::page))
///         .layer(AuthzLayer::new(TestAuthenticator::default(), MemoryStore::default()));
/// }
/// ```
///
/// It goes on a handler (`async fn`), an associated function or a `pub use` inside an
/// `#[allow_only]` module, nested modules included, written `#[public]` or
/// `#[authz_runtime::public]`; the module's guard then leaves that item alone, and its own
/// `#[require]` still applies. On a handler outside any `#[allow_only]` module it marks the
/// handler open on purpose, which is what [`authz_runtime::routing`]'s `get`, `post`, … accept
/// in place of a guard (the marker is an argument the handler gains, the runtime's `Open`,
/// which extracts nothing). It takes no arguments. On a handler that is guarded after all (by
/// a `#[require]`, or by an `#[allow_only]` module that did not recognise it under another
/// name, `use authz_runtime::public as open;`), and on anything but a handler, an associated
/// function or a `pub use`, it is a compile error, so that an exemption is never silently lost.
///
/// [`authz_runtime::routing`]: https://docs.rs/authz-runtime/latest/authz_runtime/routing/
#[proc_macro_attribute]
pub fn public(attr: TokenStream, item: TokenStream) -> TokenStream {
    public::expand(attr.into(), item.into()).into()
}

/// Builds a compiled predicate as a value, for a `RequireLayer` that guards every route of a
/// `Router`.
///
/// ```
/// use authz_runtime::{AuthzLayer, MemoryStore, RequireLayer, predicate};
/// use authz_runtime::testing::TestAuthenticator;
/// use axum::{Router, routing::get};
///
/// let reports: Router = Router::new()
///     .route("/reports", get(|| async { "quarterly figures" }))
///     .route("/reports/yearly", get(|| async { "yearly figures" }))
///     .route_layer(RequireLayer::new(predicate!(
///         has_any_permission("see-reports", "manage"),
///         msg = "Only accountants and managers can read reports"
///     )));
///
/// let app: Router = Router::new()
///     .merge(reports)
///     .layer(AuthzLayer::new(TestAuthenticator::default(), MemoryStore::default()));
/// ```
///
/// The input is an attribute's (see `#[require]` for the grammar), checked the same way, with
/// the same compile errors; the value implements `authz_runtime::Predicate`. Custom calls are
/// evaluated where the macro is written. Use `route_layer`, so that paths that match no route
/// still answer 404, and put the `AuthzLayer` outside.
#[proc_macro]
pub fn predicate(input: TokenStream) -> TokenStream {
    predicate::expand(input.into()).into()
}
