//! The guard of one handler, for `#[require]` and for each handler that `#[allow_only]` guards.
//!
//! Beside the handler goes a unit struct, with the handler's visibility, whose `Site` impl
//! holds the handler's site (handler, attribute, the static rule) as a constant, recorded in
//! the audit registry. For a rule of built-ins the argument is the runtime's `Guard` of that
//! struct, whose one `FromRequestParts` impl and future the runtime writes (`LastGuard`, which
//! takes the request whole, when nothing follows it): the expansion has no impl of axum's
//! traits and no state machine. For a rule with custom predicates the struct
//! is the argument, and its `FromRequestParts` impl hands the user's calls to the runtime.
//!
//! The argument goes first, after the guards that earlier expansions inserted, so that checks
//! run outermost module first, then each `#[require]` top to bottom, before any other
//! extractor.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::punctuated::Punctuated;
use syn::{
    AngleBracketedGenericArguments, FnArg, GenericArgument, ItemFn, Pat, Path, PathArguments,
    PathSegment, Type, TypePath,
};

use crate::lower;
use crate::names::{
    END_ARG, GUARD_ARG, GUARD_TYPE, LAST_GUARD, RUNTIME, private, private_module, register_site,
};

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
    /// `state = …`: what the custom predicates read of the router's state.
    pub(crate) state: Option<syn::Path>,
}

/// Inserts a guard argument into `function` and returns the guard's definition.
pub(crate) fn guard(function: &mut ItemFn, attribute: &str, rule: &GuardRule) -> TokenStream {
    guard_of(function, None, attribute, rule)
}

/// [`guard`], for `function` of `owner` (an associated function, routed as `Owner::function`)
/// when there is one: the guard's definition then goes beside the `impl`.
pub(crate) fn guard_of(
    function: &mut ItemFn,
    owner: Option<&syn::Ident>,
    attribute: &str,
    rule: &GuardRule,
) -> TokenStream {
    let private = private();
    let existing = function
        .sig
        .inputs
        .iter()
        .take_while(|input| is_guard(input))
        .count();
    let name = function.sig.ident.clone();
    let site = match owner {
        Some(owner) => format_ident!(
            "{}{}_{}_{}",
            GUARD_TYPE,
            owner,
            name,
            existing,
            span = name.span()
        ),
        None => format_ident!("{}{}_{}", GUARD_TYPE, name, existing, span = name.span()),
    };
    let arg = format_ident!("{}{}", GUARD_ARG, existing);
    // Nothing after the guards: this one is the handler's last argument, which axum extracts
    // through `FromRequest` and, for a parts extractor there, an async state machine of its own
    // for each guard type. A rule of built-ins then takes the runtime's `LastGuard`, which takes
    // the request whole; the guard an earlier expansion made last moves up to a plain `Guard`.
    let last = existing == function.sig.inputs.len();
    if last && existing > 0 {
        demote_last_guard(&mut function.sig.inputs[existing - 1]);
    }
    // A rule of built-ins: the runtime's guard, generic over the site, is the argument. A rule
    // with custom predicates: the site, whose extractor evaluates the user's calls, which only
    // this crate can name.
    let ty = match (&rule.customs, last) {
        (None, false) => runtime_type("Guard", Some(&site)),
        (None, true) => runtime_type(LAST_GUARD, Some(&site)),
        (Some(_), _) => plain_type(site.clone()),
    };
    function.sig.inputs.insert(existing, typed_arg(arg, ty));
    // A last guard with custom predicates is a parts extractor: it is followed by the
    // runtime's `End`, one type for every handler, which later guards' expansions leave in place.
    if last && rule.customs.is_some() {
        let end = format_ident!("{}", END_ARG);
        function
            .sig
            .inputs
            .push(typed_arg(end, runtime_type("End", None)));
    }
    let vis = &function.vis;
    let handler = match owner {
        Some(owner) => format!("{owner}::{name}"),
        None => name.to_string(),
    };
    let line = quote_spanned!(name.span()=> ::core::line!());
    // `Some` and `None` of the scope's glob import.
    let message = match &rule.message {
        Some(message) => quote!(Some(#message)),
        None => quote!(None),
    };
    let position = existing as u32;
    let scope = lower::scope();
    let rule_ref = match &rule.source {
        RuleSource::Inline(tokens) => quote!(&#tokens),
        RuleSource::Module(path) => quote!(&#path),
    };
    let extractor = rule.customs.as_ref().map(|customs| {
        // With a state, the guard takes it from the router's state as axum's extractors do,
        // through `FromRef`: a router without it does not compile.
        let (bound, decide) = match &rule.state {
            Some(state) => (
                quote! {
                    where #state: #private::FromRef<__S> + ::core::marker::Send
                        + ::core::marker::Sync + 'static
                },
                quote! {
                    let __state = <#state as #private::FromRef<__S>>::from_ref(__state);
                    let __customs = #customs;
                    async move {
                        #private::guard_with(
                            __parts,
                            &__state,
                            <Self as #private::Site>::SITE,
                            __customs,
                            Self,
                        )
                        .await
                    }
                },
            ),
            None => (
                TokenStream::new(),
                quote! {
                    #private::guard_with(
                        __parts,
                        &(),
                        <Self as #private::Site>::SITE,
                        #customs,
                        Self,
                    )
                },
            ),
        };
        quote! {
            impl #private::GuardArgument for #site {}

            impl<__S: ::core::marker::Send + ::core::marker::Sync>
                #private::FromRequestParts<__S> for #site
            #bound
            {
                type Rejection = #private::Response;

                fn from_request_parts(
                    __parts: &mut #private::Parts,
                    __state: &__S,
                ) -> impl ::core::future::Future<
                    Output = ::core::result::Result<Self, Self::Rejection>,
                > + ::core::marker::Send {
                    #decide
                }
            }
        }
    });
    let register = register_site();
    // Hidden from the docs only when it could show in them.
    let hidden = match vis {
        syn::Visibility::Inherited => None,
        _ => Some(quote!(#[doc(hidden)])),
    };
    quote! {
        #hidden
        #[allow(non_camel_case_types, missing_docs, unreachable_pub, dead_code)]
        #vis struct #site(());

        impl #private::Site for #site {
            const SITE: &'static #private::GuardSite = &{
                #scope
                // The audit registry: every guard, listed by `authz_runtime::guarded_handlers()`.
                // An item of this block, so that the scope's short names serve it too.
                #register!(#site);
                S::__new(
                    ::core::concat!(::core::module_path!(), "::", #handler),
                    #attribute,
                    #rule_ref,
                    #message,
                    #position,
                    ::core::file!(),
                    #line,
                )
            };
        }

        #extractor
    }
}

// The arguments are built as syntax trees rather than parsed from tokens: the macro runs once
// per guarded handler in every build, and parsing what it had just written was nearly a fifth of
// its work.

/// `name: ty`, an argument of the handler.
fn typed_arg(name: Ident, ty: Type) -> FnArg {
    FnArg::Typed(syn::PatType {
        attrs: Vec::new(),
        pat: Box::new(Pat::Ident(syn::PatIdent {
            attrs: Vec::new(),
            by_ref: None,
            mutability: None,
            ident: name,
            subpat: None,
        })),
        colon_token: Default::default(),
        ty: Box::new(ty),
    })
}

/// The type named by one identifier: a guard's site.
fn plain_type(name: Ident) -> Type {
    Type::Path(TypePath {
        attrs: Vec::new(),
        qself: None,
        path: name.into(),
    })
}

/// `::authz_runtime::__private_…::item`, of `site` when given: the runtime's `Guard<Site>`,
/// `LastGuard<Site>` or `End`, as [`private`] names them.
fn runtime_type(item: &str, site: Option<&Ident>) -> Type {
    let mut last = PathSegment::from(Ident::new(item, Span::call_site()));
    if let Some(site) = site {
        last.arguments = PathArguments::AngleBracketed(AngleBracketedGenericArguments {
            colon2_token: None,
            lt_token: Default::default(),
            args: Punctuated::from_iter([GenericArgument::Type(plain_type(site.clone()))]),
            gt_token: Default::default(),
        });
    }
    let segments = [
        PathSegment::from(Ident::new(RUNTIME, Span::call_site())),
        PathSegment::from(private_module()),
        last,
    ];
    Type::Path(TypePath {
        attrs: Vec::new(),
        qself: None,
        path: Path {
            leading_colon: Some(Default::default()),
            segments: Punctuated::from_iter(segments),
        },
    })
}

/// Turns the runtime's `LastGuard<Site>` of `input`, a guard that is no longer the last
/// argument, into its `Guard<Site>`; any other argument stays as it is.
fn demote_last_guard(input: &mut FnArg) {
    let FnArg::Typed(typed) = input else { return };
    let syn::Type::Path(path) = &mut *typed.ty else {
        return;
    };
    if let Some(segment) = path.path.segments.last_mut()
        && segment.ident == LAST_GUARD
    {
        segment.ident = syn::Ident::new("Guard", segment.ident.span());
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
