//! `#[allow_only]` on an `impl` block: a controller, as TurboGears' controllers are classes.
//! Its handlers are the block's associated functions, routed as `Admin::home`; unlike an inline
//! module, the block can sit in a file module of its own (`mod admin;` and `src/admin.rs`).
//!
//! Items cannot go inside an `impl`, so everything the guards need goes beside the block: the
//! rule as a static, the function that builds its custom predicates, and each guard's
//! definition. For the same reason the `#[require]` attributes of the block's functions are
//! expanded here, after the controller's own guard, rather than by their own macro inside the
//! block: outer rule first, then the handler's own, top to bottom.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};
use syn::{FnArg, Ident, ImplItem, ImplItemFn, ItemFn, ItemImpl, Type};

use crate::guard::{GuardRule, RuleSource, guard_of};
use crate::lower;
use crate::names::{MODULE_CUSTOMS, MODULE_RULE, REQUIRE_SEEN, private};
use crate::parse::Errors;
use crate::public;
use crate::valid::{Valid, compile};

/// The guarded controller and what goes beside it, or `None` with the errors recorded.
pub(crate) fn expand(valid: &Valid, mut block: ItemImpl, errors: &mut Errors) -> TokenStream {
    let Some(owner) = owner(&block, errors) else {
        return block.into_token_stream();
    };
    // Several `#[allow_only]` on one block each expand in turn, the outer first; the number of
    // those still to come tells their rules apart.
    let number = block
        .attrs
        .iter()
        .filter(|attr| public::names_runtime_macro(attr.path(), "allow_only"))
        .count();
    let rule_name = format_ident!("{}{}_{}", MODULE_RULE, owner, number);
    let customs_name = (!valid.predicate.customs().is_empty())
        .then(|| format_ident!("{}{}_{}", MODULE_CUSTOMS, owner, number));
    let rule = GuardRule {
        source: RuleSource::Module(rule_name.to_token_stream()),
        customs: customs_name.as_ref().map(|name| quote!(#name())),
        message: valid.predicate.msg.as_ref().map(syn::LitStr::value),
        state: valid.state.clone(),
    };
    let last = number == 0;
    let mut beside = vec![place_rule(valid, &rule_name, customs_name.as_ref())];
    for item in &mut block.items {
        let ImplItem::Fn(function) = item else {
            continue;
        };
        if public::is_marked(&function.attrs) {
            public::mark(&mut function.attrs, false);
        } else if could_be_handler(function) {
            beside.push(with_item_fn(function, |function| {
                guard_of(function, Some(&owner), "allow_only", &rule)
            }));
        }
        if last {
            beside.extend(expand_requires(function, &owner, errors));
        }
    }
    quote! {
        #(#beside)*
        #block
    }
}

/// Guards the handlers of a controller inside an `#[allow_only]` module with the module's rule,
/// the outer one, before the controller's own; returns the guards' definitions.
pub(crate) fn guard_nested(block: &mut ItemImpl, rule: &GuardRule) -> Vec<TokenStream> {
    let Some(owner) = type_name(&block.self_ty) else {
        return Vec::new();
    };
    let mut guards = Vec::new();
    for item in &mut block.items {
        if let ImplItem::Fn(function) = item
            && !public::is_marked(&function.attrs)
            && could_be_handler(function)
        {
            guards.push(with_item_fn(function, |function| {
                guard_of(function, Some(&owner), "allow_only", rule)
            }));
        }
    }
    guards
}

/// The controller's type, the owner of its handlers; an inherent `impl` of a named type only.
fn owner(block: &ItemImpl, errors: &mut Errors) -> Option<Ident> {
    if let Some((path, _)) = &block.trait_ {
        errors.spanned(
            path,
            "`#[allow_only]` goes on an inherent `impl`, the handlers of a controller such as \
             `impl Admin { … }`, not on a trait impl",
        );
        return None;
    }
    if !block.generics.params.is_empty() {
        errors.spanned(
            &block.generics,
            "`#[allow_only]` cannot guard a generic `impl`: write the controller for one type",
        );
        return None;
    }
    let name = type_name(&block.self_ty);
    if name.is_none() {
        errors.spanned(
            &block.self_ty,
            "`#[allow_only]` goes on the `impl` of a named type, such as `impl Admin { … }`",
        );
    }
    name
}

fn type_name(ty: &Type) -> Option<Ident> {
    match ty {
        Type::Path(path) if path.qself.is_none() => {
            path.path.segments.last().map(|last| last.ident.clone())
        }
        _ => None,
    }
}

/// The controller's rule, and the function that builds its custom predicates, beside the block.
/// Named without a path, so that a controller in a function body finds them too.
fn place_rule(valid: &Valid, name: &Ident, customs: Option<&Ident>) -> TokenStream {
    let private = private();
    let scope = lower::scope();
    let rule = lower::rule(&valid.predicate);
    let rule_type = lower::rule_type(&valid.predicate);
    let customs = customs.map(|customs| {
        let value = lower::customs(&valid.predicate.customs(), valid.state.as_ref());
        let st = state_type(valid);
        quote! {
            #[doc(hidden)]
            #[allow(dead_code, non_snake_case)]
            fn #customs() -> impl #private::Customs<#st> {
                #value
            }
        }
    });
    quote! {
        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        static #name: #rule_type = {
            #scope
            #rule
        };
        #customs
    }
}

/// Whether an associated function could be routed as a handler: async, no `self`, and no
/// argument taken by reference (axum's extractors are taken by value).
fn could_be_handler(function: &ImplItemFn) -> bool {
    function.sig.asyncness.is_some()
        && function.sig.inputs.iter().all(|input| match input {
            FnArg::Receiver(_) => false,
            FnArg::Typed(typed) => !matches!(&*typed.ty, Type::Reference(_)),
        })
}

/// Expands the `#[require]` attributes of `function` here, in order, as their own macro would;
/// returns the guards' definitions.
fn expand_requires(
    function: &mut ImplItemFn,
    owner: &Ident,
    errors: &mut Errors,
) -> Vec<TokenStream> {
    let mut requires = Vec::new();
    for attr in &mut function.attrs {
        if public::names_runtime_macro(attr.path(), "require") {
            requires.push(match &attr.meta {
                syn::Meta::List(list) => list.tokens.clone(),
                _ => TokenStream::new(),
            });
            // Left in place, expanded: the user's `use authz_runtime::require` stays used.
            let path = attr.path().clone();
            let seen = Ident::new(REQUIRE_SEEN, proc_macro2::Span::call_site());
            *attr = syn::parse_quote!(#[#path(#seen)]);
        }
    }
    let mut guards = Vec::new();
    for tokens in requires {
        let valid = compile(tokens, errors);
        if function.sig.asyncness.is_none() {
            errors.spanned(
                function.sig.fn_token,
                "`#[require]` needs an `async fn`: axum handlers are async",
            );
            continue;
        }
        if let Some(FnArg::Receiver(receiver)) = function.sig.inputs.first() {
            errors.spanned(
                receiver,
                "`#[require]` cannot guard a method that takes `self`; axum handlers take no \
                 `self`",
            );
            continue;
        }
        let Some(valid) = valid else { continue };
        let customs = valid.predicate.customs();
        let rule = GuardRule {
            source: RuleSource::Inline(lower::rule(&valid.predicate)),
            customs: (!customs.is_empty()).then(|| lower::customs(&customs, valid.state.as_ref())),
            message: valid.predicate.msg.as_ref().map(syn::LitStr::value),
            state: valid.state.clone(),
        };
        guards.push(with_item_fn(function, |function| {
            guard_of(function, Some(owner), "require", &rule)
        }));
    }
    guards
}

/// Runs `f` on `function` as a free function's syntax, which the guards take.
fn with_item_fn(
    function: &mut ImplItemFn,
    f: impl FnOnce(&mut ItemFn) -> TokenStream,
) -> TokenStream {
    let mut item = ItemFn {
        attrs: std::mem::take(&mut function.attrs),
        vis: function.vis.clone(),
        modifiers: function.modifiers.clone(),
        sig: function.sig.clone(),
        block: Box::new(function.block.clone()),
    };
    let tokens = f(&mut item);
    function.attrs = item.attrs;
    function.sig = item.sig;
    tokens
}

/// The state a rule's custom predicates read: `state = …`, or none, `()`.
pub(crate) fn state_type(valid: &Valid) -> TokenStream {
    match &valid.state {
        Some(state) => quote!(#state),
        None => quote!(()),
    }
}
