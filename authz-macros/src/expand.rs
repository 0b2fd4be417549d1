//! Code generation. A predicate becomes a value of a small struct implementing
//! `authz_runtime::Predicate`, whose `evaluate` is the predicate tree written out as straight-line
//! async code: no interpretation, no allocation until a denial is reported. Custom predicates
//! are the struct's fields, built from the user's calls where the user wrote them.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::ast::{Kind, Name, Predicate};
use crate::item;
use crate::message::{self, Piece};
use crate::parse::{self, Errors};
use crate::valid::{self, Valid};

/// The runtime's hidden module, the only way generated code names runtime items.
pub(crate) fn private() -> TokenStream {
    quote!(::authz_runtime::__private)
}

pub(crate) fn require(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let valid = compile(attr, &mut errors);
    item::require(valid, item, errors)
}

pub(crate) fn allow_only(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let valid = compile(attr, &mut errors);
    item::allow_only(valid, item, errors)
}

pub(crate) fn public(attr: TokenStream, item: TokenStream) -> TokenStream {
    item::public(attr, item)
}

pub(crate) fn predicate(input: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let valid = compile(input, &mut errors);
    match errors.finish(valid) {
        Ok(Some(valid)) => value(&valid),
        // `compile` records an error whenever it returns nothing.
        Ok(None) => fallback_value(),
        Err(error) => {
            let error = error.into_compile_error();
            let fallback = fallback_value();
            quote!({ #error #fallback })
        }
    }
}

/// After a reported error, a predicate that goes wherever the real one would
/// (`RequireLayer::new`, a `let`), so that no second error or warning follows. A diverging
/// `unreachable!()` would warn that the code around the macro is unreachable.
fn fallback_value() -> TokenStream {
    let never = never_predicate();
    quote!({ #never __AuthzNever })
}

/// Parses and validates attribute tokens.
pub(crate) fn compile(tokens: TokenStream, errors: &mut Errors) -> Option<Valid> {
    let predicate = parse::attribute(tokens, errors)?;
    Some(valid::validate(predicate, errors))
}

/// The predicate as an expression: `{ struct …; impl Predicate for … ; value }`.
pub(crate) fn value(valid: &Valid) -> TokenStream {
    let private = private();
    let customs = valid.predicate.customs();
    let mut generator = Generator {
        messages: valid.messages.iter(),
        customs: 0,
        labels: 0,
    };
    let body = generator.node(&valid.predicate);
    let text = valid.predicate.text();

    let params: Vec<_> = (0..customs.len())
        .map(|index| format_ident!("C{}", index))
        .collect();
    let fields: Vec<_> = (0..customs.len())
        .map(|index| format_ident!("c{}", index))
        .collect();
    // A custom call whose value is not a predicate is reported once, at the call, by the
    // trait method that names it (spanned there; no "required by a bound" note pointing into
    // generated code). Past that check the value goes through `__AuthzCustom`: a predicate stays
    // itself, anything else becomes a never-evaluated `__AuthzNever`, so that the guard using
    // the whole value adds no second error (autoref specialization: the first impl applies
    // only to predicates, the second, one reference away, to anything).
    let values = customs.iter().map(|call| {
        let span = call.span();
        let value = syn::Ident::new("__authz_custom", span);
        let describe = respanned(quote!(#private::Predicate::describe), span);
        quote_spanned! {span=> {
            let #value = #call;
            if false {
                let _ = #describe(&#value);
            }
            __AuthzCustom(#value).__authz_predicate()
        }}
    });
    let helpers = if customs.is_empty() {
        TokenStream::new()
    } else {
        let never = never_predicate();
        quote! {
            #never
            struct __AuthzCustom<T>(T);
            trait __AuthzIsPredicate<P> {
                fn __authz_predicate(self) -> P;
            }
            impl<P: #private::Predicate> __AuthzIsPredicate<P> for __AuthzCustom<P> {
                #[inline(always)]
                fn __authz_predicate(self) -> P {
                    self.0
                }
            }
            trait __AuthzNotPredicate {
                fn __authz_predicate(self) -> __AuthzNever;
            }
            impl<T> __AuthzNotPredicate for &__AuthzCustom<T> {
                fn __authz_predicate(self) -> __AuthzNever {
                    __AuthzNever
                }
            }
        }
    };
    let (definition, construction) = if customs.is_empty() {
        (
            quote!(
                struct __AuthzPredicate;
            ),
            quote!(__AuthzPredicate),
        )
    } else {
        (
            quote!(struct __AuthzPredicate<#(#params),*> { #(#fields: #params),* }),
            quote!(__AuthzPredicate { #(#fields: #values),* }),
        )
    };
    quote! {{
        #helpers
        #[doc(hidden)]
        #definition
        // Not offered by rustc as "the trait is implemented for `__AuthzPredicate`" when a
        // custom predicate is not one.
        #[diagnostic::do_not_recommend]
        impl<#(#params: #private::Predicate),*> #private::Predicate
            for __AuthzPredicate<#(#params),*>
        {
            #[allow(unused_labels, clippy::all)]
            async fn evaluate(
                &self,
                __ctx: &mut #private::Context<'_>,
            ) -> ::core::result::Result<#private::Verdict, #private::Error> {
                ::core::result::Result::Ok(#body)
            }

            fn describe(&self) -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed(#text)
            }
        }
        #construction
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

/// Writes out one predicate tree, visiting nodes in the order `valid` resolved their messages.
struct Generator<'a> {
    messages: std::slice::Iter<'a, Option<Vec<Piece>>>,
    customs: usize,
    labels: usize,
}

impl Generator<'_> {
    fn label(&mut self) -> syn::Lifetime {
        self.labels += 1;
        syn::Lifetime::new(&format!("'__authz_{}", self.labels), Span::mixed_site())
    }

    /// The node's `msg`, resolved, if it has one.
    fn message(&mut self) -> Option<Vec<Piece>> {
        self.messages.next().cloned().flatten()
    }

    fn node(&mut self, predicate: &Predicate) -> TokenStream {
        let private = private();
        let msg = self.message();
        let text = predicate.text();
        // A message with no run-time part, as a string literal.
        let fixed = |default: String| -> String {
            match &msg {
                Some(pieces) => static_text(pieces),
                None => default,
            }
        };
        let met = quote!(#private::Verdict::Met);
        let check = |test: TokenStream, message: String| {
            quote! {
                if #test { #met } else { #private::unmet(#message, #text) }
            }
        };
        match &predicate.kind {
            Kind::NotAnonymous => check(
                quote!(#private::is_authenticated(__ctx).await?),
                fixed(message::not_anonymous()),
            ),
            Kind::IsAnonymous => check(
                quote!(!#private::is_authenticated(__ctx).await?),
                fixed(message::is_anonymous()),
            ),
            Kind::IsUser(name) => {
                let value = &name.value;
                check(
                    quote!(#private::is_user(__ctx, #value).await?),
                    fixed(message::is_user(value)),
                )
            }
            Kind::InGroup(name) => {
                let value = &name.value;
                check(
                    quote!(#private::in_group(__ctx, #value).await?),
                    fixed(message::in_group(value)),
                )
            }
            Kind::HasPermission(name) => {
                let value = &name.value;
                check(
                    quote!(#private::has_permission(__ctx, #value).await?),
                    fixed(message::has_permission(value)),
                )
            }
            Kind::InAllGroups(names) => {
                self.every(names, quote!(in_group), message::in_group, "in_group", &msg)
            }
            Kind::HasAllPermissions(names) => self.every(
                names,
                quote!(has_permission),
                message::has_permission,
                "has_permission",
                &msg,
            ),
            Kind::InAnyGroup(names) => {
                let default = render_default(message::in_any_group_template(), &predicate.kind);
                some(names, quote!(in_group), fixed(default), &text)
            }
            Kind::HasAnyPermission(names) => {
                let default =
                    render_default(message::has_any_permission_template(), &predicate.kind);
                some(names, quote!(has_permission), fixed(default), &text)
            }
            Kind::Any(children) => {
                let label = self.label();
                let pieces = msg.unwrap_or_else(|| {
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
                    Piece::Text(text) => quote!(#private::MessagePiece::Text(#text)),
                    Piece::FailedPredicates => quote!(#private::MessagePiece::FailedPredicates),
                });
                let denials: Vec<_> = (0..children.len())
                    .map(|index| format_ident!("__authz_unmet_{}", index))
                    .collect();
                let bindings: Vec<_> = children
                    .iter()
                    .zip(&denials)
                    .map(|(child, denial)| {
                        let child = self.node(child);
                        quote! {
                            let #denial = match #child {
                                #private::Verdict::Met => break #label #met,
                                #private::Verdict::Unmet(denial) => denial,
                            };
                        }
                    })
                    .collect();
                quote! {
                    #label: {
                        #(#bindings)*
                        #private::unmet_any(&[#(#pieces),*], &[#(#denials),*], #text)
                    }
                }
            }
            Kind::All(children) => {
                let label = self.label();
                let denial = restated(quote!(denial), &msg);
                let checks: Vec<_> = children
                    .iter()
                    .map(|child| {
                        let child = self.node(child);
                        quote! {
                            if let #private::Verdict::Unmet(denial) = #child {
                                break #label #private::Verdict::Unmet(#denial);
                            }
                        }
                    })
                    .collect();
                quote! {
                    #label: {
                        #(#checks)*
                        #met
                    }
                }
            }
            Kind::Not(child) => {
                let message = fixed(message::not());
                let child = self.node(child);
                quote! {
                    match #child {
                        #private::Verdict::Met => #private::unmet(#message, #text),
                        #private::Verdict::Unmet(_) => #met,
                    }
                }
            }
            Kind::Custom(_) => {
                let field = format_ident!("c{}", self.customs);
                self.customs += 1;
                let denial = restated(quote!(#private::decided(denial, #text)), &msg);
                quote! {
                    match #private::Predicate::evaluate(&self.#field, __ctx).await? {
                        #private::Verdict::Met => #met,
                        #private::Verdict::Unmet(denial) => #private::Verdict::Unmet(#denial),
                    }
                }
            }
        }
    }

    /// `in_all_groups` / `has_all_permissions`: each member in order; the first unmet decides,
    /// with its own message unless the list has a `msg`.
    fn every(
        &mut self,
        names: &[Name],
        test: TokenStream,
        default: fn(&str) -> String,
        member: &str,
        msg: &Option<Vec<Piece>>,
    ) -> TokenStream {
        let private = private();
        let label = self.label();
        let checks = names.iter().map(|name| {
            let value = &name.value;
            let message = match msg {
                Some(pieces) => static_text(pieces),
                None => default(value),
            };
            let text = format!("{member}({value:?})");
            quote! {
                if !#private::#test(__ctx, #value).await? {
                    break #label #private::unmet(#message, #text);
                }
            }
        });
        quote! {
            #label: {
                #(#checks)*
                #private::Verdict::Met
            }
        }
    }
}

/// `in_any_group` / `has_any_permission`: met by the first member that is met.
fn some(names: &[Name], test: TokenStream, message: String, text: &str) -> TokenStream {
    let private = private();
    let tests = names.iter().map(|name| {
        let value = &name.value;
        quote!(#private::#test(__ctx, #value).await?)
    });
    quote! {
        if #(#tests)||* {
            #private::Verdict::Met
        } else {
            #private::unmet(#message, #text)
        }
    }
}

/// `denial`, restated with the node's `msg` if it has one: the denial keeps the sub-predicate
/// that decided and takes the node's message.
fn restated(denial: TokenStream, msg: &Option<Vec<Piece>>) -> TokenStream {
    let private = private();
    match msg {
        Some(pieces) => {
            let text = static_text(pieces);
            quote!(#private::restate(#denial, #text))
        }
        None => denial,
    }
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
