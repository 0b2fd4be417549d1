//! The guard of one handler, for `#[require]` and for each handler that `#[allow_only]` guards.
//!
//! A guard is a unit struct beside the handler, with the handler's visibility, holding its
//! site (handler, attribute, the static rule) as a constant, recorded in the audit registry,
//! and implementing axum's `FromRequestParts` with one call into the runtime, whose future
//! the runtime names: no per-handler state machine. It is inserted as the handler's first
//! argument, after the guards that earlier expansions inserted, so that checks run outermost
//! module first, then each `#[require]` top to bottom, before any other extractor.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::{FnArg, ItemFn, Pat};

use crate::lower;
use crate::names::{GUARD_ARG, GUARD_TYPE, private, registry_submit};

/// Where a guard finds its rule.
pub(crate) enum RuleSource {
    /// Written into the guard: a `#[require]`'s own.
    Inline(TokenStream),
    /// A static of the enclosing `#[allow_only]` module, at this path.
    Module(TokenStream),
}

/// A guard's rule and what builds the values of its custom predicates, if it calls any.
pub(crate) struct GuardRule {
    pub(crate) source: RuleSource,
    /// An expression of a type implementing the runtime's `Customs`, evaluated per request.
    pub(crate) customs: Option<TokenStream>,
    /// The attribute's `msg`, as written, for the registry.
    pub(crate) message: Option<String>,
}

/// Inserts a guard argument into `function` and returns the guard's definition.
pub(crate) fn guard(function: &mut ItemFn, attribute: &str, rule: &GuardRule) -> TokenStream {
    let private = private();
    let existing = function
        .sig
        .inputs
        .iter()
        .take_while(|input| is_guard(input))
        .count();
    let name = &function.sig.ident;
    let ty = format_ident!("{}{}_{}", GUARD_TYPE, name, existing, span = name.span());
    let arg = format_ident!("{}{}", GUARD_ARG, existing);
    function
        .sig
        .inputs
        .insert(existing, syn::parse_quote!(#arg: #ty));
    let vis = &function.vis;
    let handler = name.to_string();
    let line = quote_spanned!(name.span()=> ::core::line!());
    let message = match &rule.message {
        Some(message) => quote!(::core::option::Option::Some(#message)),
        None => quote!(::core::option::Option::None),
    };
    let position = existing as u32;
    let (scope, rule_ref) = match &rule.source {
        RuleSource::Inline(tokens) => (lower::scope(), quote!(&#tokens)),
        RuleSource::Module(path) => (TokenStream::new(), quote!(&#path)),
    };
    let parts = quote!(__parts: &'__p mut #private::Parts, _: &__S);
    // A rule of built-ins returns the future the runtime names; one with custom predicates,
    // the runtime's async evaluation of them.
    let (signature, decide) = match &rule.customs {
        None => (
            quote! {
                #[allow(refining_impl_trait)]
                fn from_request_parts<'__p>(#parts) -> #private::GuardFuture<'__p, Self>
            },
            quote!(#private::guard(__parts, &Self::SITE, Self)),
        ),
        Some(customs) => (
            quote! {
                fn from_request_parts<'__p>(#parts) -> impl ::core::future::Future<
                    Output = ::core::result::Result<Self, Self::Rejection>,
                > + ::core::marker::Send
            },
            quote!(#private::guard_with(__parts, &Self::SITE, #customs, Self)),
        ),
    };
    let submit = registry_submit();
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types, missing_docs, unreachable_pub)]
        #vis struct #ty(());

        impl #ty {
            const SITE: #private::GuardSite = {
                #scope
                #private::GuardSite {
                    handler: ::core::concat!(::core::module_path!(), "::", #handler),
                    attribute: #attribute,
                    rule: #rule_ref,
                    message: #message,
                    position: #position,
                    file: ::core::file!(),
                    line: #line,
                }
            };
        }

        // The audit registry: every guard, listed by `authz_runtime::guarded_handlers()`.
        #submit! { #ty::SITE }

        impl<__S: ::core::marker::Send + ::core::marker::Sync> #private::FromRequestParts<__S>
            for #ty
        {
            type Rejection = #private::Response;

            #signature {
                #decide
            }
        }
    }
}

fn is_guard(input: &FnArg) -> bool {
    match input {
        FnArg::Typed(typed) => match &*typed.pat {
            Pat::Ident(ident) => ident.ident.to_string().starts_with(GUARD_ARG),
            _ => false,
        },
        FnArg::Receiver(_) => false,
    }
}
