//! Where the guards go: the handler's signature (`#[require]`), every handler of a module
//! (`#[allow_only]`), and the `#[public]` marker.
//!
//! A guard is a unit struct beside the handler, with the handler's visibility, implementing
//! axum's `FromRequestParts`; it is inserted as the handler's first argument, after the guards
//! that earlier expansions inserted, so that checks run outermost module first, then each
//! `#[require]` top to bottom, before any other extractor.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, Ident, Item, ItemFn, ItemMod, Pat, Visibility};

use crate::expand::{private, value};
use crate::parse::Errors;
use crate::valid::Valid;

/// Prefix of the argument names of inserted guards, how later expansions find them.
const GUARD_ARG: &str = "__authz_guard_";
/// Argument of `#[public]` that `#[allow_only]` adds when it has seen the marker.
const PUBLIC_SEEN: &str = "__authz_in_allow_only";

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

pub(crate) fn allow_only(
    valid: Option<Valid>,
    item: TokenStream,
    mut errors: Errors,
) -> TokenStream {
    let module = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Mod(module)) if module.content.is_none() => {
            let name = &module.ident;
            errors.at(
                module.semi.span(),
                format!(
                    "`#[allow_only]` needs the module's items inline: write `mod {name} {{ … }}` \
                     here rather than `mod {name};`"
                ),
            );
            None
        }
        Ok(Item::Mod(module)) => Some(module),
        Ok(Item::Fn(_)) => {
            errors.at(
                first_token_span(&item),
                "`#[allow_only]` goes on an inline module, such as `mod admin { … }`; \
                 to guard one handler, write `#[require(…)]`",
            );
            None
        }
        _ => {
            errors.at(
                first_token_span(&item),
                "`#[allow_only]` goes on an inline module, such as `mod admin { … }`",
            );
            None
        }
    };
    match (errors.finish(()), valid, module) {
        (Ok(()), Some(valid), Some(mut module)) => {
            let rule = Rule::of(&valid);
            let predicate = value(&valid);
            let (_, items) = module
                .content
                .as_mut()
                .expect("checked above: inline module");
            let checker = format_ident!(
                "__authz_module_predicate_{}",
                items
                    .iter()
                    .filter(|item| matches!(item, Item::Fn(f) if f.sig.ident.to_string().starts_with("__authz_module_predicate_")))
                    .count()
            );
            let mut original = module.clone();
            let mut refused = Errors::default();
            guard_module(&mut module, &checker, &rule, 0, &mut refused);
            if let Err(error) = refused.finish(()) {
                mark_public(&mut original);
                return with_error(original.into_token_stream(), error);
            }
            let private = private();
            // The attribute is written outside the module, so its custom predicates are named
            // from there, as they are for `#[require]`.
            let outer_names = if valid.predicate.customs().is_empty() {
                quote!()
            } else {
                quote! {
                    #[allow(unused_imports)]
                    use super::*;
                }
            };
            let (_, items) = module
                .content
                .as_mut()
                .expect("checked above: inline module");
            items.push(syn::parse_quote! {
                #[doc(hidden)]
                #[allow(dead_code)]
                fn #checker() -> impl #private::Predicate {
                    #outer_names
                    #predicate
                }
            });
            module.into_token_stream()
        }
        (Err(error), _, Some(mut module)) => {
            // Still mark `#[public]` as seen, so that it adds no error of its own.
            mark_public(&mut module);
            with_error(module.into_token_stream(), error)
        }
        (Err(error), ..) => with_error(item, error),
        _ => item,
    }
}

pub(crate) fn public(attr: TokenStream, item: TokenStream) -> TokenStream {
    let seen = attr.to_string() == PUBLIC_SEEN;
    let mut errors = Errors::default();
    if syn::parse2::<ItemFn>(item.clone()).is_err() {
        // Said first, and alone: where the marker goes also answers where it has a meaning.
        errors.at(
            first_token_span(&item),
            "`#[public]` goes on an `async fn` handler inside an `#[allow_only]` module",
        );
    } else if !seen {
        if attr.is_empty() {
            errors.at(
                Span::call_site(),
                "`#[public]` only has a meaning on a handler inside an `#[allow_only]` module",
            );
        } else {
            errors.spanned(attr, "`#[public]` takes no arguments");
        }
    }
    match errors.finish(()) {
        Ok(()) => item,
        Err(error) => with_error(item, error),
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
    }
    ok
}

/// Guards every handler of `module` and of its inline submodules.
fn guard_module(
    module: &mut ItemMod,
    checker: &Ident,
    rule: &Rule,
    depth: usize,
    errors: &mut Errors,
) {
    let Some((_, items)) = module.content.as_mut() else {
        return;
    };
    let mut guards = Vec::new();
    for item in items.iter_mut() {
        match item {
            Item::Fn(function) => {
                if is_public_marked(function) {
                    mark_public_attrs(&mut function.attrs);
                    continue;
                }
                let handler = function.sig.asyncness.is_some()
                    && !matches!(function.vis, Visibility::Inherited)
                    && !matches!(function.sig.inputs.first(), Some(FnArg::Receiver(_)));
                if handler {
                    let path = if depth == 0 {
                        quote!(self::#checker)
                    } else {
                        let supers = (0..depth).map(|_| quote!(super::));
                        quote!(#(#supers)* #checker)
                    };
                    guards.push(guard(function, "allow_only", rule, quote!(#path())));
                }
            }
            Item::Mod(inner) => guard_module(inner, checker, rule, depth + 1, errors),
            // A macro call may define handlers that this attribute cannot see, and would leave
            // unguarded: refuse rather than fail open. `macro_rules!` definitions are fine.
            Item::Macro(call) if !is_definition_or_ours(&call.mac.path) => errors.spanned(
                &call.mac,
                "`#[allow_only]` cannot guard the handlers a macro call defines, and would \
                 leave them open; write the handlers out in the module, or move the macro \
                 call out of it and guard its handlers with `#[require(…)]`",
            ),
            _ => {}
        }
    }
    for guard in guards {
        items.push(Item::Verbatim(guard));
    }
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
fn guard(
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
    let ty = format_ident!("__authz_guard_{}_{}", name, existing, span = name.span());
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
        #private::inventory::submit! { #ty::SITE }

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

/// `macro_rules!` (a definition, not a call), or a call that an earlier expansion of authz
/// itself wrote (the audit registry's `submit!`).
fn is_definition_or_ours(path: &syn::Path) -> bool {
    path.is_ident("macro_rules")
        || path
            .segments
            .iter()
            .any(|segment| segment.ident == "__private")
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

fn is_public_attr(attr: &syn::Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "public")
}

fn is_public_marked(function: &ItemFn) -> bool {
    function.attrs.iter().any(is_public_attr)
}

/// Rewrites `#[public]` to `#[public(__authz_in_allow_only)]`, telling the marker's own macro
/// that an enclosing `#[allow_only]` has honoured it.
fn mark_public_attrs(attrs: &mut [syn::Attribute]) {
    for attr in attrs.iter_mut().filter(|attr| is_public_attr(attr)) {
        if matches!(attr.meta, syn::Meta::Path(_)) {
            let path = attr.path().clone();
            let seen = Ident::new(PUBLIC_SEEN, Span::call_site());
            *attr = syn::parse_quote!(#[#path(#seen)]);
        }
    }
}

fn mark_public(module: &mut ItemMod) {
    let Some((_, items)) = module.content.as_mut() else {
        return;
    };
    for item in items {
        match item {
            Item::Fn(function) => mark_public_attrs(&mut function.attrs),
            Item::Mod(inner) => mark_public(inner),
            _ => {}
        }
    }
}

fn with_error(item: TokenStream, error: syn::Error) -> TokenStream {
    let error = error.into_compile_error();
    quote!(#item #error)
}

fn first_token_span(item: &TokenStream) -> Span {
    item.clone()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |token| token.span())
}
