//! `#[allow_only]`: the module's predicate, and a guard on every handler of the module and of its
//! inline submodules.
//!
//! A module attribute cannot see everything that ends up routable under the module's path:
//! associated functions, re-exports, and what a macro call defines. Rather than leave those
//! open, the attribute refuses them, each at its own tokens, unless marked `#[public]`.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};
use syn::spanned::Spanned;
use syn::{
    FnArg, Ident, ImplItem, Item, ItemImpl, ItemMod, ItemTrait, ItemUse, Signature, TraitItem,
    Type, Visibility,
};

use crate::expand::{private, registry_submit, value};
use crate::item::{Rule, first_token_span, guard, with_error};
use crate::marker;
use crate::parse::Errors;
use crate::valid::Valid;

/// Prefix of the module's predicate function, inside the module; numbered, so that several
/// `#[allow_only]` on one module each have their own.
const CHECKER: &str = "__authz_module_predicate_";

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
            let checker = format_ident!("{}{}", CHECKER, checkers_in(&module));
            let mut refused = Errors::default();
            let mut guarded = module.clone();
            let rule = Rule::of(&valid);
            guard_module(&mut guarded, &checker, &rule, 0, true, &mut refused);
            if let Err(error) = refused.finish(()) {
                // Still mark `#[public]` as seen, so that it adds no error of its own.
                mark_public(&mut module);
                return with_error(module.into_token_stream(), error);
            }
            mark_public(&mut guarded);
            let outside = place_predicate(&mut guarded, &checker, &valid);
            quote!(#outside #guarded)
        }
        (Err(error), _, Some(mut module)) => {
            mark_public(&mut module);
            with_error(module.into_token_stream(), error)
        }
        (Err(error), ..) => with_error(item, error),
        // Every path that drops `valid` or `module` records an error.
        _ => item,
    }
}

/// How many `#[allow_only]` have already expanded on `module`: each left its predicate there.
fn checkers_in(module: &ItemMod) -> usize {
    module.content.as_ref().map_or(0, |(_, items)| {
        items
            .iter()
            .filter(
                |item| matches!(item, Item::Fn(f) if f.sig.ident.to_string().starts_with(CHECKER)),
            )
            .count()
    })
}

/// Defines the module's predicate, `checker` inside the module, which the guards call; returns
/// what goes next to the module.
///
/// The attribute is written outside the module, so its custom predicates are named from there,
/// as they are for `#[require]`: `self::x` is the parent's `x`, and an `x` of the module does
/// not shadow it. Their calls are therefore expanded in a hidden function beside the module,
/// which `checker` forwards to. A predicate of built-ins only names the runtime by absolute
/// paths and stays inside, so that it also works in a module declared in a function body,
/// whose items no path from inside the module reaches.
fn place_predicate(module: &mut ItemMod, checker: &Ident, valid: &Valid) -> TokenStream {
    let private = private();
    let predicate = value(valid);
    let (body, outside) = if valid.predicate.customs().is_empty() {
        (predicate, TokenStream::new())
    } else {
        let beside = format_ident!(
            "__authz_allow_only_{}_{}",
            module.ident,
            checker.to_string().trim_start_matches(CHECKER)
        );
        // A `#[cfg]` written after the attribute applies to the module, and so to this too.
        let cfgs = module
            .attrs
            .iter()
            .filter(|attr| attr.path().is_ident("cfg"));
        let outside = quote! {
            #(#cfgs)*
            #[doc(hidden)]
            #[allow(dead_code, non_snake_case)]
            fn #beside() -> impl #private::Predicate {
                #predicate
            }
        };
        (quote!(super::#beside()), outside)
    };
    let (_, items) = module
        .content
        .as_mut()
        .expect("checked by the caller: inline module");
    items.push(syn::parse_quote! {
        #[doc(hidden)]
        #[allow(dead_code)]
        fn #checker() -> impl #private::Predicate {
            #body
        }
    });
    outside
}

/// Guards every handler of `module` and of its inline submodules, and, when `checked`, reports
/// what could be routed under the module's path without a guard.
///
/// A module that carries an `#[allow_only]` still to expand (a nested one, or the next one on
/// this module) is checked by that attribute, the last to see it, so that nothing is reported
/// twice.
fn guard_module(
    module: &mut ItemMod,
    checker: &Ident,
    rule: &Rule,
    depth: usize,
    checked: bool,
    errors: &mut Errors,
) {
    let checked = checked
        && !module
            .attrs
            .iter()
            .any(|attr| marker::names_runtime_macro(attr.path(), "allow_only"));
    let Some((_, items)) = module.content.as_mut() else {
        return;
    };
    let mut unchecked = Errors::default();
    let errors = if checked { errors } else { &mut unchecked };
    let mut guards = Vec::new();
    for item in items.iter_mut() {
        match item {
            Item::Fn(function) => {
                let handler = function.sig.asyncness.is_some()
                    && !matches!(function.vis, Visibility::Inherited)
                    && !matches!(function.sig.inputs.first(), Some(FnArg::Receiver(_)));
                if handler && !marker::is_marked(&function.attrs) {
                    let path = if depth == 0 {
                        quote!(self::#checker)
                    } else {
                        let supers = (0..depth).map(|_| quote!(super::));
                        quote!(#(#supers)* #checker)
                    };
                    guards.push(guard(function, "allow_only", rule, quote!(#path())));
                }
            }
            Item::Mod(inner) => guard_module(inner, checker, rule, depth + 1, checked, errors),
            Item::Impl(block) => check_impl(block, errors),
            Item::Trait(definition) => check_trait(definition, errors),
            Item::Use(import) => check_use(import, errors),
            Item::Macro(call) if !is_definition_or_ours(&call.mac.path) => {
                errors.spanned(&call.mac, MACRO_CALL)
            }
            _ => {}
        }
    }
    for guard in guards {
        items.push(Item::Verbatim(guard));
    }
}

const MACRO_CALL: &str = "`#[allow_only]` cannot guard the handlers a macro call defines, and \
     would leave them open; write the handlers out in the module, or move the macro call out of \
     it and guard its handlers with `#[require(…)]`";

/// An `impl` block: its associated functions that could be handlers are refused.
fn check_impl(block: &ItemImpl, errors: &mut Errors) {
    if is_guard_type(&block.self_ty) {
        // A guard that an earlier `#[allow_only]` on this module added.
        return;
    }
    // In a trait impl a function is as visible as the trait, which is out of sight here.
    let in_trait = block.trait_.is_some();
    for item in &block.items {
        match item {
            ImplItem::Fn(function)
                if !marker::is_marked(&function.attrs)
                    && (in_trait || !matches!(function.vis, Visibility::Inherited))
                    && could_be_handler(&function.sig) =>
            {
                refuse_associated(&function.vis, &function.sig, errors)
            }
            ImplItem::Macro(call) if !is_definition_or_ours(&call.mac.path) => {
                errors.spanned(&call.mac, MACRO_CALL)
            }
            _ => {}
        }
    }
}

/// A trait definition: its provided functions that could be handlers are refused, as they would
/// be in an `impl`.
fn check_trait(definition: &ItemTrait, errors: &mut Errors) {
    if matches!(definition.vis, Visibility::Inherited) {
        return;
    }
    for item in &definition.items {
        if let TraitItem::Fn(function) = item
            && function.default.is_some()
            && !marker::is_marked(&function.attrs)
            && could_be_handler(&function.sig)
        {
            refuse_associated(&Visibility::Inherited, &function.sig, errors);
        }
    }
}

/// Whether an associated function could be routed, as `get(Type::name)`: it is async and takes
/// no `self`. A function that takes an argument by reference cannot be a handler (axum's
/// extractors are taken by value; none is a reference), and is left alone: that is every
/// extractor's `from_request_parts`, and the helpers that borrow a pool or a store.
fn could_be_handler(signature: &Signature) -> bool {
    signature.asyncness.is_some()
        && signature.inputs.iter().all(|input| match input {
            FnArg::Receiver(_) => false,
            FnArg::Typed(typed) => !is_reference(&typed.ty),
        })
}

fn is_reference(ty: &Type) -> bool {
    match ty {
        Type::Reference(_) => true,
        Type::Paren(inner) => is_reference(&inner.elem),
        Type::Group(inner) => is_reference(&inner.elem),
        _ => false,
    }
}

fn refuse_associated(vis: &Visibility, signature: &Signature, errors: &mut Errors) {
    let Signature {
        asyncness,
        fn_token,
        ident,
        ..
    } = signature;
    errors.spanned(
        quote!(#vis #asyncness #fn_token #ident),
        format!(
            "`#[allow_only]` cannot guard associated functions, and `{ident}` could be routed as \
             a handler and left open; make it a free `async fn` of the module, or mark it \
             `#[public]` to leave it open on purpose"
        ),
    );
}

/// A visible `use` would re-export under the module's path whatever it names, handlers guarded
/// by nothing here included.
fn check_use(import: &ItemUse, errors: &mut Errors) {
    if matches!(import.vis, Visibility::Inherited) || marker::is_marked(&import.attrs) {
        return;
    }
    let ItemUse {
        vis,
        use_token,
        leading_colon,
        tree,
        semi_token,
        ..
    } = import;
    errors.spanned(
        quote!(#vis #use_token #leading_colon #tree #semi_token),
        "`#[allow_only]` cannot guard what a `pub use` re-exports, and a handler it names would \
         be open under this module's path; make the `use` private, or mark it `#[public]` to \
         re-export it unguarded on purpose",
    );
}

/// `macro_rules!` (a definition, not a call), or the one call that an earlier expansion of
/// authz itself writes: the audit registry's `submit!`.
fn is_definition_or_ours(path: &syn::Path) -> bool {
    path.is_ident("macro_rules")
        || path.to_token_stream().to_string() == registry_submit().to_string()
}

/// The type of a guard that `item::guard` defines.
fn is_guard_type(ty: &Type) -> bool {
    match ty {
        Type::Path(path) => path
            .path
            .get_ident()
            .is_some_and(|ident| ident.to_string().starts_with(crate::item::GUARD_TYPE)),
        _ => false,
    }
}

/// Marks every `#[public]` that `#[allow_only]` honours: on functions, associated functions and
/// `use` items, in nested modules too.
fn mark_public(module: &mut ItemMod) {
    let Some((_, items)) = module.content.as_mut() else {
        return;
    };
    for item in items {
        match item {
            Item::Fn(function) => marker::mark(&mut function.attrs),
            Item::Use(import) => marker::mark(&mut import.attrs),
            Item::Impl(block) => {
                for item in &mut block.items {
                    if let ImplItem::Fn(function) = item {
                        marker::mark(&mut function.attrs);
                    }
                }
            }
            Item::Trait(definition) => {
                for item in &mut definition.items {
                    if let TraitItem::Fn(function) = item {
                        marker::mark(&mut function.attrs);
                    }
                }
            }
            Item::Mod(inner) => mark_public(inner),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lets_through_only_the_registry_it_writes() {
        assert!(is_definition_or_ours(&syn::parse_quote!(macro_rules)));
        assert!(is_definition_or_ours(&syn::parse_quote!(
            ::authz_runtime::__private::inventory::submit
        )));
        assert!(!is_definition_or_ours(&syn::parse_quote!(
            authz_runtime::__private::inventory::submit
        )));
        assert!(!is_definition_or_ours(&syn::parse_quote!(
            handlers::__private::routes
        )));
        assert!(!is_definition_or_ours(&syn::parse_quote!(__private)));
        assert!(!is_definition_or_ours(&syn::parse_quote!(
            inventory::submit
        )));
    }

    #[test]
    fn tells_handlers_from_other_associated_functions() {
        let handler = |signature: Signature| could_be_handler(&signature);
        assert!(handler(syn::parse_quote!(async fn home())));
        assert!(handler(
            syn::parse_quote!(async fn user(Path(id): Path<u64>) -> String)
        ));
        assert!(!handler(syn::parse_quote!(async fn title(&self) -> String)));
        assert!(!handler(syn::parse_quote!(async fn take(self))));
        assert!(!handler(syn::parse_quote!(fn count() -> usize)));
        assert!(!handler(syn::parse_quote!(
            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, R>
        )));
    }
}
