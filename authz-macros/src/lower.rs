//! Lowering: a validated predicate becomes data, a constant expression of the runtime's `Rule`
//! (node kinds, names, messages resolved into pieces, the text as written), which the
//! runtime's one evaluator decides. The only code a rule needs is for its custom predicates:
//! their calls, emitted once each under the user's span, gathered in a value whose type
//! implements the runtime's `Customs`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ExprCall;
use syn::spanned::Spanned;

use crate::ast::{Kind, Name, Predicate};
use crate::message::{self, Piece};
use crate::names::private;

/// The rule as a constant expression of type `Rule`. It names the runtime's types as `R`
/// (rule), `N` (node), `K` (kind), `M` (message) and `P` (message piece), which `scope` brings
/// in: a short name is a short expansion.
pub(crate) fn rule(predicate: &Predicate) -> TokenStream {
    let root = node(predicate, &mut 0);
    let steps = steps(predicate);
    quote!(R::__new::<#steps>(#root))
}

/// The type of [`rule`]'s value, for a static: the rule with its program inline.
pub(crate) fn rule_type(predicate: &Predicate) -> TokenStream {
    let private = private();
    let steps = steps(predicate);
    quote!(#private::Rule<[#private::Step; #steps]>)
}

/// The steps of the rule's program: one per leaf check, each name of a list predicate one.
fn steps(predicate: &Predicate) -> usize {
    match &predicate.kind {
        Kind::InAllGroups(names)
        | Kind::HasAllPermissions(names)
        | Kind::InAnyGroup(names)
        | Kind::HasAnyPermission(names) => names.len(),
        Kind::All(children) | Kind::Any(children) => children.iter().map(steps).sum(),
        Kind::Not(child) => steps(child),
        _ => 1,
    }
}

/// The `use` that the tokens of [`rule`] need, at the top of the block they are in; `S`
/// (a guard's site) too, for the guards.
pub(crate) fn scope() -> TokenStream {
    let private = private();
    // A glob: an import of its own in the block, so that it wins over any `Some` or `N` of the
    // user's module, and one line of the expansion.
    quote!(use #private::short::*;)
}

/// One node; `customs` numbers the custom predicates in source order.
fn node(predicate: &Predicate, customs: &mut u16) -> TokenStream {
    let text = predicate.text();
    let msg = predicate.message.as_deref();
    // A message of a predicate whose text is known while compiling: its `msg`, or the default.
    let fixed = |default: String| {
        let text = msg.map_or(default, static_text);
        quote!(M::Fixed(#text))
    };
    let from_child = || match msg {
        Some(pieces) => {
            let text = static_text(pieces);
            quote!(M::Restated(#text))
        }
        None => quote!(M::FromChild),
    };
    let names = |names: &[Name]| {
        let names = names.iter().map(|name| &name.value);
        quote!(&[#(#names),*])
    };
    let members = |names: &[Name], member: &str, default: fn(&str) -> String| {
        let nodes = names.iter().map(|name| {
            let value = &name.value;
            let text = format!("{member}({value:?})");
            let message = default(value);
            let kind = match member {
                "in_group" => quote!(K::InGroup(#value)),
                _ => quote!(K::HasPermission(#value)),
            };
            quote!(N::__new(#kind, #text, M::Fixed(#message)))
        });
        quote!(&[#(#nodes),*])
    };
    let (kind, message) = match &predicate.kind {
        Kind::NotAnonymous => (quote!(K::NotAnonymous), fixed(message::not_anonymous())),
        Kind::IsAnonymous => (quote!(K::IsAnonymous), fixed(message::is_anonymous())),
        Kind::IsUser(name) => {
            let value = &name.value;
            (quote!(K::IsUser(#value)), fixed(message::is_user(value)))
        }
        Kind::InGroup(name) => {
            let value = &name.value;
            (quote!(K::InGroup(#value)), fixed(message::in_group(value)))
        }
        Kind::HasPermission(name) => {
            let value = &name.value;
            (
                quote!(K::HasPermission(#value)),
                fixed(message::has_permission(value)),
            )
        }
        Kind::InAnyGroup(list) => {
            let names = names(list);
            let default = render_default(message::in_any_group_template(), &predicate.kind);
            (quote!(K::InAnyGroup(#names)), fixed(default))
        }
        Kind::HasAnyPermission(list) => {
            let names = names(list);
            let default = render_default(message::has_any_permission_template(), &predicate.kind);
            (quote!(K::HasAnyPermission(#names)), fixed(default))
        }
        Kind::InAllGroups(list) => {
            let members = members(list, "in_group", message::in_group);
            (quote!(K::InAllGroups(#members)), from_child())
        }
        Kind::HasAllPermissions(list) => {
            let members = members(list, "has_permission", message::has_permission);
            (quote!(K::HasAllPermissions(#members)), from_child())
        }
        Kind::All(children) => {
            let children = children.iter().map(|child| node(child, customs));
            (quote!(K::All(&[#(#children),*])), from_child())
        }
        Kind::Any(children) => {
            let children: Vec<_> = children.iter().map(|child| node(child, customs)).collect();
            let pieces = msg.map(<[Piece]>::to_vec).unwrap_or_else(|| {
                vec![
                    Piece::Text(
                        message::any_template()
                            .trim_end_matches("{failed_predicates}")
                            .to_owned(),
                    ),
                    Piece::FailedPredicates,
                ]
            });
            let pieces = pieces.iter().map(|piece| match piece {
                Piece::Text(text) => quote!(P::Text(#text)),
                Piece::FailedPredicates => quote!(P::FailedPredicates),
            });
            (
                quote!(K::Any(&[#(#children),*])),
                quote!(M::Any(&[#(#pieces),*])),
            )
        }
        Kind::Not(child) => {
            let child = node(child, customs);
            (quote!(K::Not(&#child)), fixed(message::not()))
        }
        Kind::Custom(_) => {
            let index = *customs;
            *customs += 1;
            (quote!(K::Custom(#index)), from_child())
        }
    };
    quote!(N::__new(#kind, #text, #message))
}

/// A message known while compiling. Only `any` has a run-time part, and it never comes here.
fn static_text(pieces: &[Piece]) -> String {
    pieces
        .iter()
        .map(|piece| match piece {
            Piece::Text(text) => text.as_str(),
            Piece::FailedPredicates => "",
        })
        .collect()
}

/// A default template of repoze.what, resolved against the predicate's own fields.
fn render_default(template: &str, kind: &Kind) -> String {
    let fields = message::fields(kind);
    match message::render(template, &fields) {
        Ok(pieces) => static_text(&pieces),
        // The defaults name only fields that their predicates have.
        Err(_) => template.to_owned(),
    }
}

/// The values of the rule's custom predicates, as an expression whose type implements the
/// runtime's `Customs`: each user's call once, under its own span, in source order.
///
/// The rule's state is `state`'s type, or `()`: the customs are a `Customs` of that state.
/// Without a state, a custom call whose value is not a predicate is reported once, at the
/// call, by the trait method that names it (spanned there; no "required by a bound" note
/// pointing into generated code); with one, by the method below finding no predicate of
/// either kind, at the call too. Past that check the value goes through `__AuthzCustom`
/// (autoderef specialization, most specific first): a predicate of the state stays itself; with
/// a state, a predicate of none is wrapped in the runtime's `Stateless`; without one, anything
/// else becomes a never-evaluated `__AuthzNever`, so that the guard using the whole value adds
/// no second error.
pub(crate) fn customs(calls: &[&ExprCall], state: Option<&syn::Path>) -> TokenStream {
    let private = private();
    let count = calls.len();
    let st = match state {
        Some(state) => quote!(#state),
        None => quote!(()),
    };
    let params: Vec<_> = (0..count)
        .map(|index| format_ident!("C{}", index))
        .collect();
    let indices = (0..count).map(syn::Index::from);
    let arms = indices.enumerate().map(|(position, field)| {
        let evaluate = quote!(#private::Predicate::<#st>::evaluate(&self.#field, __ctx).await);
        if position + 1 == count {
            quote!(_ => #evaluate)
        } else {
            let index = position as u16;
            quote!(#index => #evaluate,)
        }
    });
    let values = calls.iter().map(|call| {
        let span = call.span();
        let value = syn::Ident::new("__authz_custom", span);
        // Without a state, a value that is no predicate is reported here, at the call. With
        // one, by the method below finding no predicate of either kind.
        let check = state.is_none().then(|| {
            let describe = respanned(quote!(<_ as #private::Predicate<()>>::describe), span);
            quote_spanned! {span=>
                if false {
                    let _ = #describe(&#value);
                }
            }
        });
        quote_spanned! {span=> {
            let #value = #call;
            #check
            (&&__AuthzCustom(::core::cell::Cell::new(::core::option::Option::Some(#value))))
                .__authz_predicate()
        }}
    });
    // Autoderef specialization: a predicate of the rule's state is used as it is; with a state,
    // a predicate of none is decided without it; without a state, anything else (already
    // reported) becomes a never-evaluated `__AuthzNever`, so that no second error follows.
    let fallback = match state {
        Some(_) => quote! {
            trait __AuthzStateless<P> {
                fn __authz_predicate(self) -> #private::Stateless<P>;
            }
            impl<P: #private::Predicate> __AuthzStateless<P> for &__AuthzCustom<P> {
                #[inline(always)]
                fn __authz_predicate(self) -> #private::Stateless<P> {
                    #private::Stateless(self.0.take().expect("taken once"))
                }
            }
        },
        None => {
            let never = never_predicate();
            quote! {
                #never
                trait __AuthzNotPredicate {
                    fn __authz_predicate(&self) -> __AuthzNever;
                }
                impl<T> __AuthzNotPredicate for __AuthzCustom<T> {
                    fn __authz_predicate(&self) -> __AuthzNever {
                        __AuthzNever
                    }
                }
            }
        }
    };
    quote! {{
        struct __AuthzCustom<T>(::core::cell::Cell<::core::option::Option<T>>);
        trait __AuthzIsPredicate<P> {
            fn __authz_predicate(self) -> P;
        }
        impl<P: #private::Predicate<#st>> __AuthzIsPredicate<P> for &&__AuthzCustom<P> {
            #[inline(always)]
            fn __authz_predicate(self) -> P {
                self.0.take().expect("taken once")
            }
        }
        #fallback
        #[doc(hidden)]
        struct __AuthzCustoms<#(#params),*>(#(#params),*);
        // Not offered by rustc as "the trait is implemented for `__AuthzCustoms`" when a
        // custom predicate is not one.
        #[diagnostic::do_not_recommend]
        impl<#(#params: #private::Predicate<#st>),*> #private::Customs<#st>
            for __AuthzCustoms<#(#params),*>
        {
            type Verdicts = [::core::option::Option<#private::Verdict>; #count];

            fn verdicts(&self) -> Self::Verdicts {
                [const { ::core::option::Option::None }; #count]
            }

            #[allow(clippy::all)]
            async fn evaluate(
                &self,
                __index: u16,
                __ctx: &mut #private::Context<'_, #st>,
            ) -> ::core::result::Result<#private::Verdict, #private::Error> {
                match __index { #(#arms)* }
            }
        }
        __AuthzCustoms(#(#values),*)
    }}
}

/// `__AuthzNever`, a predicate that is never evaluated: it stands where a predicate with a
/// reported error would, so that the code around it compiles without a second error.
fn never_predicate() -> TokenStream {
    let private = private();
    quote! {
        #[doc(hidden)]
        struct __AuthzNever;
        #[diagnostic::do_not_recommend]
        impl #private::Predicate for __AuthzNever {
            async fn evaluate(
                &self,
                _: &mut #private::Context<'_>,
            ) -> ::core::result::Result<#private::Verdict, #private::Error> {
                ::core::unreachable!("a predicate with a compile error")
            }
        }
    }
}

/// `tokens` with every span set to `span`. Tokens interpolated into `quote_spanned!` keep their
/// own spans; rustc points at these ones.
fn respanned(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            token.set_span(span);
            token
        })
        .collect()
}
