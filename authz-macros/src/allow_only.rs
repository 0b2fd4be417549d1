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

use crate::fallback::{first_token_span, with_error};
use crate::guard::{GuardRule, RuleSource, guard};
use crate::lower;
use crate::names::{GUARD_TYPE, MODULE_CUSTOMS, MODULE_RULE, private};
use crate::parse::Errors;
use crate::public;
use crate::valid::{Valid, compile};

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let valid = compile(attr, &mut errors);
    let module = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Impl(block)) => return controller(valid.as_ref(), block, errors),
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
                "`#[allow_only]` goes on an inline module, such as `mod admin { … }`, or on a \
                 controller's `impl`, such as `impl Admin { … }`; to guard one handler, write \
                 `#[require(…)]`",
            );
            None
        }
        _ => {
            errors.at(
                first_token_span(&item),
                "`#[allow_only]` goes on an inline module, such as `mod admin { … }`, or on a \
                 controller's `impl`, such as `impl Admin { … }`",
            );
            None
        }
    };
    match (errors.finish(()), valid, module) {
        (Ok(()), Some(valid), Some(mut module)) => {
            let number = rules_in(&module);
            let names = ModuleRule {
                rule: format_ident!("{}{}", MODULE_RULE, number),
                customs: (!valid.predicate.customs().is_empty())
                    .then(|| format_ident!("{}{}", MODULE_CUSTOMS, number)),
                message: valid.predicate.msg.as_ref().map(syn::LitStr::value),
                state: valid
                    .state
                    .as_ref()
                    .map(|_| format_ident!("__authz_allow_only_state_{}_{}", module.ident, number)),
            };
            let mut refused = Errors::default();
            let mut guarded = module.clone();
            guard_module(&mut guarded, &names, 0, true, &mut refused);
            if let Err(error) = refused.finish(()) {
                // Still mark `#[public]` as seen, so that it adds no error of its own.
                mark_public(&mut module);
                return with_error(module.into_token_stream(), error);
            }
            mark_public(&mut guarded);
            let outside = place_rule(&mut guarded, &names, &valid);
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

/// `#[allow_only]` on a controller's `impl`; on an error the block as written, with its
/// `#[require]`s taken off (inside an `impl` they could only add errors) and its `#[public]`s
/// marked as seen.
fn controller(valid: Option<&Valid>, block: ItemImpl, mut errors: Errors) -> TokenStream {
    let mut fallback = block.clone();
    let guarded = valid.map(|valid| crate::controller::expand(valid, block, &mut errors));
    match (errors.finish(()), guarded) {
        (Ok(()), Some(guarded)) => guarded,
        (result, _) => {
            for item in &mut fallback.items {
                if let ImplItem::Fn(function) = item {
                    for attr in &mut function.attrs {
                        if public::names_runtime_macro(attr.path(), "require") {
                            let path = attr.path().clone();
                            let seen = proc_macro2::Ident::new(
                                crate::names::REQUIRE_SEEN,
                                proc_macro2::Span::call_site(),
                            );
                            *attr = syn::parse_quote!(#[#path(#seen)]);
                        }
                    }
                    public::mark(&mut function.attrs, false);
                }
            }
            match result {
                Err(error) => with_error(fallback.into_token_stream(), error),
                // `valid` is `None` only with an error recorded.
                Ok(()) => fallback.into_token_stream(),
            }
        }
    }
}

/// How many `#[allow_only]` have already expanded on `module`: each left its rule there.
fn rules_in(module: &ItemMod) -> usize {
    module.content.as_ref().map_or(0, |(_, items)| {
        items
            .iter()
            .filter(|item| {
                matches!(item, Item::Static(rule) if rule.ident.to_string().starts_with(MODULE_RULE))
            })
            .count()
    })
}

/// The names of a module's rule: a static inside the module, and the function inside it that
/// builds the rule's custom predicates, if it calls any.
struct ModuleRule {
    rule: Ident,
    customs: Option<Ident>,
    message: Option<String>,
    /// The alias beside the module of the attribute's `state = …`, which names the type from
    /// where the attribute is written.
    state: Option<Ident>,
}

impl ModuleRule {
    /// The guard's rule, for a handler `depth` modules below the module.
    fn for_guard(&self, depth: usize) -> GuardRule {
        let path = |name: &Ident| {
            if depth == 0 {
                quote!(self::#name)
            } else {
                let supers = (0..depth).map(|_| quote!(super::));
                quote!(#(#supers)* #name)
            }
        };
        GuardRule {
            source: RuleSource::Module(path(&self.rule)),
            customs: self.customs.as_ref().map(|customs| {
                let path = path(customs);
                quote!(#path())
            }),
            message: self.message.clone(),
            state: self.state.as_ref().map(|alias| {
                let supers = (0..=depth).map(|_| quote!(super::));
                syn::parse_quote!(#(#supers)* #alias)
            }),
        }
    }
}

/// Defines the module's rule, a static inside the module that every guard points to, and the
/// function that builds its custom predicates; returns what goes next to the module.
///
/// The attribute is written outside the module, so its custom predicates are named from there,
/// as they are for `#[require]`: `self::x` is the parent's `x`, and an `x` of the module does
/// not shadow it. Their calls are therefore expanded in a hidden function beside the module,
/// which the function inside forwards to. A rule of built-ins only is data that names the
/// runtime by absolute paths and stays inside, so that it also works in a module declared in a
/// function body, whose items no path from inside the module reaches.
fn place_rule(module: &mut ItemMod, names: &ModuleRule, valid: &Valid) -> TokenStream {
    let private = private();
    let scope = lower::scope();
    let rule = lower::rule(&valid.predicate);
    let rule_type = lower::rule_type(&valid.predicate);
    let name = &names.rule;
    let mut inside: Vec<Item> = vec![syn::parse_quote! {
        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        static #name: #rule_type = {
            #scope
            #rule
        };
    }];
    let mut outside = TokenStream::new();
    if let Some(customs) = &names.customs {
        let beside = format_ident!(
            "__authz_allow_only_{}_{}",
            module.ident,
            customs.to_string().trim_start_matches(MODULE_CUSTOMS)
        );
        let value = lower::customs(&valid.predicate.customs(), valid.state.as_ref());
        let st = crate::controller::state_type(valid);
        // A `#[cfg]` written after the attribute applies to the module, and so to this too.
        let cfgs: Vec<_> = module
            .attrs
            .iter()
            .filter(|attr| attr.path().is_ident("cfg"))
            .collect();
        // The state's type, named from here for the guards inside.
        let (alias, st_inside) = match (&valid.state, &names.state) {
            (Some(state), Some(alias)) => (
                quote! {
                    #(#cfgs)*
                    #[doc(hidden)]
                    #[allow(non_camel_case_types)]
                    type #alias = #state;
                },
                quote!(super::#alias),
            ),
            _ => (TokenStream::new(), quote!(())),
        };
        outside = quote! {
            #alias
            #(#cfgs)*
            #[doc(hidden)]
            #[allow(dead_code, non_snake_case)]
            fn #beside() -> impl #private::Customs<#st> {
                #value
            }
        };
        inside.push(syn::parse_quote! {
            #[doc(hidden)]
            #[allow(dead_code)]
            fn #customs() -> impl #private::Customs<#st_inside> {
                super::#beside()
            }
        });
    }
    let (_, items) = module
        .content
        .as_mut()
        .expect("checked by the caller: inline module");
    items.extend(inside);
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
    rule: &ModuleRule,
    depth: usize,
    checked: bool,
    errors: &mut Errors,
) {
    let checked = checked
        && !module
            .attrs
            .iter()
            .any(|attr| public::names_runtime_macro(attr.path(), "allow_only"));
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
                if handler && !public::is_marked(&function.attrs) {
                    guards.push(guard(function, "allow_only", &rule.for_guard(depth)));
                }
            }
            Item::Mod(inner) => guard_module(inner, rule, depth + 1, checked, errors),
            // A controller of its own, whose `#[allow_only]` checks it: the module's guard
            // goes first.
            Item::Impl(block)
                if block
                    .attrs
                    .iter()
                    .any(|attr| public::names_runtime_macro(attr.path(), "allow_only")) =>
            {
                guards.extend(crate::controller::guard_nested(
                    block,
                    &rule.for_guard(depth),
                ));
            }
            Item::Impl(block) => check_impl(block, errors),
            Item::Trait(definition) => check_trait(definition, errors),
            Item::Use(import) => check_use(import, errors),
            Item::Macro(call) if !is_definition(&call.mac.path) => {
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
                if !public::is_marked(&function.attrs)
                    && (in_trait || !matches!(function.vis, Visibility::Inherited))
                    && could_be_handler(&function.sig) =>
            {
                refuse_associated(&function.vis, &function.sig, errors)
            }
            ImplItem::Macro(call) if !is_definition(&call.mac.path) => {
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
            && !public::is_marked(&function.attrs)
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
    if matches!(import.vis, Visibility::Inherited) || public::is_marked(&import.attrs) {
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

/// `macro_rules!`: a definition, not a call. (Authz's own expansions put no macro call in a
/// module: a guard's registration is an item of its site's constant.)
fn is_definition(path: &syn::Path) -> bool {
    path.is_ident("macro_rules")
}

/// The type of a guard that `guard::guard` defines.
fn is_guard_type(ty: &Type) -> bool {
    match ty {
        Type::Path(path) => path
            .path
            .get_ident()
            .is_some_and(|ident| ident.to_string().starts_with(GUARD_TYPE)),
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
            Item::Fn(function) => public::mark(&mut function.attrs, false),
            Item::Use(import) => public::mark(&mut import.attrs, false),
            Item::Impl(block) => {
                let in_trait = block.trait_.is_some();
                for item in &mut block.items {
                    if let ImplItem::Fn(function) = item {
                        public::mark(&mut function.attrs, in_trait);
                    }
                }
            }
            Item::Trait(definition) => {
                for item in &mut definition.items {
                    if let TraitItem::Fn(function) = item {
                        public::mark(&mut function.attrs, true);
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
    fn lets_through_only_macro_definitions() {
        assert!(is_definition(&syn::parse_quote!(macro_rules)));
        let registry: syn::Path = syn::parse2(crate::names::register_site()).unwrap();
        assert!(!is_definition(&registry));
        assert!(!is_definition(&syn::parse_quote!(
            authz_runtime::__private::inventory::submit
        )));
        assert!(!is_definition(&syn::parse_quote!(
            handlers::__private::routes
        )));
        assert!(!is_definition(&syn::parse_quote!(__private)));
        assert!(!is_definition(&syn::parse_quote!(inventory::submit)));
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
