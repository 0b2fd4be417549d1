//! The audit registry: every guard that `#[require]` and `#[allow_only]` generate is recorded
//! while the crate compiles, and the running program can list them.

use crate::GuardSite;

inventory::collect!(GuardSite);

/// Every guarded handler of the program: one entry per guard, sorted by handler and then in
/// the order the guards run (module guards outermost first, then each `#[require]`). An
/// audit of who may call what, e.g. for an admin page or a startup log.
///
/// ```
/// use authz_runtime::{guarded_handlers, require};
///
/// #[require(has_permission("manage"), msg = "Only managers can see this")]
/// async fn audited_settings() {}
///
/// let site = guarded_handlers()
///     .into_iter()
///     .find(|site| site.handler.ends_with("::audited_settings"))
///     .unwrap();
/// assert_eq!(site.rule.text(), r#"has_permission("manage")"#);
/// assert_eq!(site.message, Some("Only managers can see this"));
/// assert_eq!(site.attribute, "require");
/// ```
pub fn guarded_handlers() -> Vec<&'static GuardSite> {
    let mut sites: Vec<&'static GuardSite> = inventory::iter::<GuardSite>.into_iter().collect();
    sites.sort_by_key(|site| (site.handler, site.position));
    sites
}
