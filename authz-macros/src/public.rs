//! The `#[public]` marker: an exemption that `#[allow_only]` reads, and a macro of its own that
//! reports the marker wherever no `#[allow_only]` has honoured it.
//!
//! `#[allow_only]` does not remove the marker (that would leave the user's
//! `use authz_runtime::public;` unused): it rewrites it to `#[public(__authz_in_allow_only)]`,
//! which the marker's macro then accepts silently.

use proc_macro2::{Span, TokenStream};
use syn::{Attribute, Ident, ItemFn, Meta, Path};

use crate::fallback::{first_token_span, with_error};
use crate::names::PUBLIC_SEEN;
use crate::parse::Errors;

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    if attr.to_string() == PUBLIC_SEEN {
        // `#[allow_only]` only marks the items where it honours the marker.
        return item;
    }
    let mut errors = Errors::default();
    if syn::parse2::<ItemFn>(item.clone()).is_err() {
        // Said first, and alone: where the marker goes also answers where it has a meaning.
        errors.at(
            first_token_span(&item),
            "`#[public]` goes on a handler, an associated function or a `pub use` inside an \
             `#[allow_only]` module",
        );
    } else if attr.is_empty() {
        errors.at(
            Span::call_site(),
            "`#[public]` only has a meaning on a handler inside an `#[allow_only]` module",
        );
    } else {
        errors.spanned(attr, "`#[public]` takes no arguments");
    }
    match errors.finish(()) {
        Ok(()) => item,
        Err(error) => with_error(item, error),
    }
}

/// Whether `attrs` hold the marker: `#[public]`, `#[authz_runtime::public]` or
/// `#[::authz_runtime::public]`, and no other crate's `public`.
pub(crate) fn is_marked(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| is_marker(attr.path()))
}

fn is_marker(path: &Path) -> bool {
    names_runtime_macro(path, "public")
}

/// Whether `path` names the runtime's macro `name` as users write it: `name`,
/// `authz_runtime::name` or `::authz_runtime::name`.
pub(crate) fn names_runtime_macro(path: &Path, name: &str) -> bool {
    if path
        .segments
        .iter()
        .any(|segment| !segment.arguments.is_none())
    {
        return false;
    }
    let names: Vec<String> = path
        .segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect();
    match names.as_slice() {
        [last] => path.leading_colon.is_none() && last == name,
        [krate, last] => krate == "authz_runtime" && last == name,
        _ => false,
    }
}

/// Rewrites `#[public]` to `#[public(__authz_in_allow_only)]`, telling the marker's own macro
/// that an enclosing `#[allow_only]` has honoured it. A marker with arguments is left for the
/// macro to report.
pub(crate) fn mark(attrs: &mut [Attribute]) {
    for attr in attrs.iter_mut().filter(|attr| is_marker(attr.path())) {
        if matches!(attr.meta, Meta::Path(_)) {
            let path = attr.path().clone();
            let seen = Ident::new(PUBLIC_SEEN, Span::call_site());
            *attr = syn::parse_quote!(#[#path(#seen)]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(attr: syn::Attribute) -> bool {
        is_marked(&[attr])
    }

    #[test]
    fn knows_only_its_own_marker() {
        assert!(marked(syn::parse_quote!(#[public])));
        assert!(marked(syn::parse_quote!(#[authz_runtime::public])));
        assert!(marked(syn::parse_quote!(#[::authz_runtime::public])));
        assert!(marked(syn::parse_quote!(#[public(__authz_in_allow_only)])));
        assert!(!marked(syn::parse_quote!(#[other::public])));
        assert!(!marked(syn::parse_quote!(#[::public])));
        assert!(!marked(syn::parse_quote!(#[authz_runtime::nested::public])));
        assert!(!marked(syn::parse_quote!(#[public_api])));
    }
}
