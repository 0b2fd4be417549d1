//! The names the expansions share: the runtime's hidden module, and the `__authz_*` markers
//! by which a later expansion recognises what an earlier one wrote.

use proc_macro2::{Span, TokenStream};
use quote::quote;

/// The runtime's hidden module, the only way generated code names runtime items. Its name
/// carries this crate's version, which the runtime of the same version stamps on its alias:
/// a mismatched pair fails to compile.
pub(crate) fn private() -> TokenStream {
    let runtime = syn::Ident::new(RUNTIME, Span::call_site());
    let module = private_module();
    quote!(::#runtime::#module)
}

/// The crate users depend on, whose hidden module [`private`] names.
pub(crate) const RUNTIME: &str = "authz_runtime";

/// The name of the runtime's hidden module alone, `__private_<version>`.
pub(crate) fn private_module() -> syn::Ident {
    let version = env!("CARGO_PKG_VERSION").replace(['.', '-', '+'], "_");
    syn::Ident::new(&format!("__private_{version}"), Span::call_site())
}

/// The audit registry's `register_site!`, which each guard's site calls inside its own
/// constant.
pub(crate) fn register_site() -> TokenStream {
    let private = private();
    quote!(#private::register_site)
}

/// Prefix of the argument names of inserted guards, how later expansions find them.
pub(crate) const GUARD_ARG: &str = "__authz_guard_";

/// Prefix of the guards' type names, how a later `#[allow_only]` tells them from the user's.
pub(crate) const GUARD_TYPE: &str = "__authz_guard_";

/// Prefix of an `#[allow_only]` module's rule, a static inside the module; numbered, so that
/// several `#[allow_only]` on one module each have their own.
pub(crate) const MODULE_RULE: &str = "__authz_module_rule_";

/// Prefix of the function inside an `#[allow_only]` module that builds its rule's custom
/// predicates, numbered as the rule is.
pub(crate) const MODULE_CUSTOMS: &str = "__authz_module_customs_";

/// Argument of `#[require]` that a controller's `#[allow_only]` leaves in place of the
/// arguments once it has expanded the attribute itself (inside an `impl`, the guard's items
/// could not go).
pub(crate) const REQUIRE_SEEN: &str = "__authz_in_allow_only";

/// The runtime's guard of a rule of built-ins that is the handler's last argument.
pub(crate) const LAST_GUARD: &str = "LastGuard";

/// The argument after the guards of a handler that takes nothing else, when its last guard
/// calls custom predicates.
pub(crate) const END_ARG: &str = "__authz_end";

/// The argument that `#[public]` inserts into an open handler.
pub(crate) const OPEN_ARG: &str = "__authz_public";

/// Argument of `#[public]` that `#[allow_only]` adds when it has honoured the marker on a
/// trait's function or a trait impl's, whose signature takes no marker.
pub(crate) const PUBLIC_SEEN_AS_IS: &str = "__authz_in_allow_only_as_is";

/// Argument of `#[public]` that `#[allow_only]` adds when it has honoured the marker.
pub(crate) const PUBLIC_SEEN: &str = "__authz_in_allow_only";
