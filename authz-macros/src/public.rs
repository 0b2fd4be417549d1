//! The `#[public]` marker: an exemption that `#[allow_only]` reads, and a macro of its own that
//! marks the handler open on purpose (its first argument, the runtime's `Open`, is what the
//! guarded routing accepts in place of a guard) and refuses the marker where it has no meaning.
//!
//! `#[allow_only]` does not remove the marker (that would leave the user's
//! `use authz_runtime::public;` unused): it rewrites it to `#[public(__authz_in_allow_only)]`,
//! which the marker's macro then accepts silently.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::{Attribute, FnArg, Ident, ItemFn, Meta, Pat, Path};

use crate::fallback::{first_token_span, with_error};
use crate::names::{GUARD_ARG, OPEN_ARG, PUBLIC_SEEN, PUBLIC_SEEN_AS_IS, private};
use crate::parse::Errors;

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let attr_text = attr.to_string();
    if attr_text == PUBLIC_SEEN_AS_IS {
        // A trait's function: its signature is the trait's, and takes no marker.
        return item;
    }
    let honoured = attr_text == PUBLIC_SEEN;
    let mut errors = Errors::default();
    match syn::parse2::<ItemFn>(item.clone()) {
        // Open on purpose, inside an `#[allow_only]` module or not: the handler's first
        // argument says so to the guarded routing.
        Ok(function) if honoured => return mark_open(function),
        Ok(function) if attr.is_empty() && !is_guarded(&function) => return mark_open(function),
        Ok(_) if attr.is_empty() => errors.at(
            Span::call_site(),
            "this handler is guarded, so `#[public]` leaves nothing open: inside an \
             `#[allow_only]` module the marker is honoured as `#[public]` or \
             `#[authz_runtime::public]`, not under another name; elsewhere remove it or the guard",
        ),
        Ok(_) => errors.spanned(attr, "`#[public]` takes no arguments"),
        // A `pub use` that `#[allow_only]` honoured: the re-exported handler is marked, or
        // not, where it is defined.
        Err(_) if honoured => return item,
        Err(_) => errors.at(
            first_token_span(&item),
            "`#[public]` goes on a handler, an associated function or a `pub use` inside an \
             `#[allow_only]` module",
        ),
    }
    match errors.finish(()) {
        Ok(()) => item,
        Err(error) => with_error(item, error),
    }
}

/// Whether an `#[allow_only]` or a `#[require]` around the marker has guarded `function`.
fn is_guarded(function: &ItemFn) -> bool {
    function.sig.inputs.iter().any(|input| match input {
        FnArg::Typed(typed) => {
            matches!(&*typed.pat, Pat::Ident(ident) if ident.ident.to_string().starts_with(GUARD_ARG))
        }
        FnArg::Receiver(_) => false,
    })
}

/// `function` with the marker of an open handler as its first argument, once. Only a
/// function that could be a handler (async, no `self`) takes it.
fn mark_open(mut function: ItemFn) -> TokenStream {
    let handler = function.sig.asyncness.is_some() && function.sig.receiver().is_none();
    let marked = function.sig.inputs.iter().any(|input| match input {
        FnArg::Typed(typed) => matches!(&*typed.pat, Pat::Ident(ident) if ident.ident == OPEN_ARG),
        FnArg::Receiver(_) => false,
    });
    if handler && !marked {
        let private = private();
        let arg = Ident::new(OPEN_ARG, Span::call_site());
        function
            .sig
            .inputs
            .insert(0, syn::parse_quote!(#arg: #private::Open));
    }
    function.into_token_stream()
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
pub(crate) fn mark(attrs: &mut [Attribute], in_trait: bool) {
    for attr in attrs.iter_mut().filter(|attr| is_marker(attr.path())) {
        if matches!(attr.meta, Meta::Path(_)) {
            let path = attr.path().clone();
            let seen = if in_trait {
                PUBLIC_SEEN_AS_IS
            } else {
                PUBLIC_SEEN
            };
            let seen = Ident::new(seen, Span::call_site());
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
