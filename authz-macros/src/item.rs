//! Where the guards go: the handler's signature, for `#[require]` and for each handler that
//! `#[allow_only]` guards.
//!
//! A guard is a unit struct beside the handler, with the handler's visibility, implementing
//! axum's `FromRequestParts`; it is inserted as the handler's first argument, after the guards
//! that earlier expansions inserted, so that checks run outermost module first, then each
//! `#[require]` top to bottom, before any other extractor.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, Pat};

use crate::expand::{private, registry_submit, value};
use crate::parse::Errors;
use crate::valid::Valid;

/// Prefix of the argument names of inserted guards, how later expansions find them.
const GUARD_ARG: &str = "__authz_guard_";
/// Prefix of the guards' type names, how a later `#[allow_only]` tells them from the user's.
pub(crate) const GUARD_TYPE: &str = "__authz_guard_";

pub(crate) fn require(valid: Option<Valid>, item: TokenStream, mut errors: Errors) -> TokenStream {
    let function = match syn::parse2::<ItemFn>(item.clone()) {
        Ok(function) => check_handler(&function, "require", &mut errors).then_some(function),
        Err(_) => {
            errors.at(
                first_token_span(&item),
                "`#[require]` goes on an `async fn` axum handler",
            );
            None
        }
    };
    match (errors.finish(()), valid, function) {
        (Ok(()), Some(valid), Some(mut function)) => {
            let predicate = value(&valid);
            let rule = Rule::of(&valid);
            let guard = guard(&mut function, "require", &rule, predicate);
            quote!(#function #guard)
        }
        (Err(error), ..) => with_error(item, error),
        // Every path that drops `valid` or `function` records an error.
        _ => item,
    }
}

/// Reports what stops `function` from being guarded; true when it can be.
fn check_handler(function: &ItemFn, attribute: &str, errors: &mut Errors) -> bool {
    let mut ok = true;
    if function.sig.asyncness.is_none() {
        errors.at(
            function.sig.fn_token.span(),
            format!("`#[{attribute}]` needs an `async fn`: axum handlers are async"),
        );
        ok = false;
    }
    if let Some(FnArg::Receiver(receiver)) = function.sig.inputs.first() {
        errors.spanned(
            receiver,
            format!(
                "`#[{attribute}]` cannot guard a method that takes `self`; axum handlers are \
                 free functions"
            ),
        );
        ok = false;
    } else if let Some(span) = self_type_in(function.sig.to_token_stream()) {
        // An associated function cannot be told from a free one by its tokens, since the
        // attribute does not see the `impl` around it; one whose signature names `Self` can.
        // Without this, rustc reports the guard's items as not allowed in an `impl`.
        errors.at(
            span,
            format!(
                "`#[{attribute}]` cannot guard an associated function; axum handlers are free \
                 functions: write a free `async fn` handler that calls this one"
            ),
        );
        ok = false;
    }
    ok
}

/// The first `Self` in `tokens`, which only an associated function's signature can name.
fn self_type_in(tokens: TokenStream) -> Option<Span> {
    tokens.into_iter().find_map(|token| match token {
        TokenTree::Ident(ident) if ident == "Self" => Some(ident.span()),
        TokenTree::Group(group) => self_type_in(group.stream()),
        _ => None,
    })
}

/// What the registry records of a predicate: its text and its attribute-level `msg`.
pub(crate) struct Rule {
    text: String,
    message: Option<String>,
}

impl Rule {
    pub(crate) fn of(valid: &Valid) -> Self {
        Self {
            text: valid.predicate.text(),
            message: valid.predicate.msg.as_ref().map(syn::LitStr::value),
        }
    }
}

/// Inserts a guard argument into `function` and returns the guard's definition.
pub(crate) fn guard(
    function: &mut ItemFn,
    attribute: &str,
    rule: &Rule,
    predicate: TokenStream,
) -> TokenStream {
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
    let Rule { text, message } = rule;
    let message = match message {
        Some(message) => quote!(::core::option::Option::Some(#message)),
        None => quote!(::core::option::Option::None),
    };
    let position = existing as u32;
    let submit = registry_submit();
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types, missing_docs, unreachable_pub)]
        #vis struct #ty;

        impl #ty {
            const SITE: #private::GuardSite<'static> = #private::GuardSite {
                handler: ::core::concat!(::core::module_path!(), "::", #handler),
                attribute: #attribute,
                rule: #text,
                message: #message,
                position: #position,
                file: ::core::file!(),
                line: #line,
            };
        }

        // The audit registry: every guard, listed by `authz_runtime::guarded_handlers()`.
        #submit! { #ty::SITE }

        impl<__S> #private::FromRequestParts<__S> for #ty
        where
            __S: ::core::marker::Send + ::core::marker::Sync,
        {
            type Rejection = #private::Response;

            async fn from_request_parts(
                __parts: &mut #private::Parts,
                _: &__S,
            ) -> ::core::result::Result<Self, Self::Rejection> {
                #private::guard(__parts, &#predicate, &Self::SITE).await?;
                ::core::result::Result::Ok(Self)
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

pub(crate) fn with_error(item: TokenStream, error: syn::Error) -> TokenStream {
    let error = error.into_compile_error();
    quote!(#item #error)
}

pub(crate) fn first_token_span(item: &TokenStream) -> Span {
    item.clone()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |token| token.span())
}
