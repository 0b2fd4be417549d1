//! The audit registry: every guard that `#[require]` and `#[allow_only]` generate is recorded
//! while the crate compiles, and the running program can list them.
//!
//! Each guard's site is recorded by [`register_site!`](crate::__private::register_site), which
//! its expansion calls once. Where `linkme` supports the platform's linker (Linux, Android,
//! macOS, iOS, Windows, FreeBSD, OpenBSD, illumos, Fuchsia: see `build.rs`), that is one
//! `static` in a linker section, which the linker gathers from every crate into one array:
//! a guard costs its crate no code. Elsewhere it is submitted to `inventory`, whose start-up
//! constructor is a function per guard.

use crate::GuardSite;

/// Every site, gathered by the linker.
///
/// Declared with `linkme`, whose slice macro (`GUARD_SITES!`, a hidden part of its
/// declaration) [`register_site!`](crate::__private::register_site) calls directly: `linkme`'s
/// element attribute would add a type-checking function per element, the very cost a section
/// saves, and the macro writes the element's type itself. Hence the exact version of `linkme`
/// in `Cargo.toml`.
#[cfg(authz_linked_registry)]
#[linkme::distributed_slice]
#[doc(hidden)]
pub static GUARD_SITES: [&'static GuardSite];

/// Records the site of `$site` (a type implementing `Site`): what the expansions call.
#[cfg(authz_linked_registry)]
#[doc(hidden)]
#[macro_export]
macro_rules! __authz_register_site {
    ($site:ty) => {
        $crate::__private::GUARD_SITES! {
            #![linkme_macro = $crate::__private::GUARD_SITES]
            static __AUTHZ_SITE: &'static $crate::__private::GuardSite =
                <$site as $crate::__private::Site>::SITE;
        }
    };
}

#[cfg(not(authz_linked_registry))]
inventory::collect!(GuardSite);

/// Records the site of `$site` (a type implementing `Site`): what the expansions call.
#[cfg(not(authz_linked_registry))]
#[doc(hidden)]
#[macro_export]
macro_rules! __authz_register_site {
    ($site:ty) => {
        $crate::__private::inventory::submit! { *<$site as $crate::__private::Site>::SITE }
    };
}

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
    let mut sites = recorded();
    sites.sort_by_key(|site| (site.handler, site.position));
    sites
}

#[cfg(authz_linked_registry)]
fn recorded() -> Vec<&'static GuardSite> {
    GUARD_SITES.to_vec()
}

#[cfg(not(authz_linked_registry))]
fn recorded() -> Vec<&'static GuardSite> {
    inventory::iter::<GuardSite>.into_iter().collect()
}
