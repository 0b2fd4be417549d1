//! Code generation. A predicate becomes a value of a small struct implementing
//! `authz_runtime::Predicate`, whose `evaluate` is the predicate tree written out as straight-line
//! async code: no interpretation, no allocation until a denial is reported. Custom predicates
//! are the struct's fields, built from the user's calls where the user wrote them.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::ast::{Kind, Name, Predicate};
use crate::message::{self, Piece};
use crate::parse::{self, Errors};
use crate::valid::{self, Valid};
use crate::{item, marker, module};

/// The runtime's hidden module, the only way generated code names runtime items.
pub(crate) fn private() -> TokenStream {
    quote!(::authz_runtime::__private)
}

/// The audit registry's `submit!`: the one macro call that expansions put in a module, which a
/// later `#[allow_only]` on that module must tell from the user's.
pub(crate) fn registry_submit() -> TokenStream {
    let private = private();
    quote!(#private::inventory::submit)
}

pub(crate) fn require(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let valid = compile(attr, &mut errors);
    item::require(valid, item, errors)
}

pub(crate) fn allow_only(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let valid = compile(attr, &mut errors);
    module::allow_only(valid, item, errors)
}

pub(crate) fn public(attr: TokenStream, item: TokenStream) -> TokenStream {
    marker::public(attr, item)
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
        customs: 0,
        labels: 0,
        tested: false,
    };
    let body = generator.verdict(&valid.predicate);
    let (fast, decide_now) = if valid.predicate.is_pure() {
        (fast_path(), met_now(&valid.predicate))
    } else {
        (TokenStream::new(), TokenStream::new())
    };
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
                #fast
                ::core::result::Result::Ok(#body)
            }

            fn describe(&self) -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed(#text)
            }

            #decide_now
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

/// For a tree of built-ins, `Predicate::met_now`: the tree decided without waiting. When
/// everything it reads is loaded already (every guard of a request but the first), the user
/// and the grants are read once and every leaf is a plain comparison or set lookup. Otherwise
/// the leaves load the user and the grants as they ask for them (lazily, as the full
/// evaluation does) when the authenticator and the store can answer at once; `None` (one of
/// them would wait) leaves the decision to `evaluate`.
fn met_now(predicate: &Predicate) -> TokenStream {
    let private = private();
    let label = syn::Lifetime::new("'__authz_loaded", Span::mixed_site());
    let user = predicate.needs_user().then(|| {
        quote! {
            let ::core::option::Option::Some(__user) = #private::user_now(__ctx) else {
                break #label;
            };
        }
    });
    let grants = predicate.needs_grants().then(|| {
        quote! {
            let ::core::option::Option::Some(__grants) = #private::grants_now(__ctx) else {
                break #label;
            };
        }
    });
    let loaded = boolean(predicate, &mut |leaf| match leaf {
        Leaf::Check(Check::Authenticated, _) => quote!(__user.is_some()),
        Leaf::Check(Check::User, name) => quote!((__user == ::core::option::Option::Some(#name))),
        Leaf::Check(Check::Group, name) => {
            let name = named(name);
            quote!(#private::in_group_named(__grants, &#name))
        }
        Leaf::Check(Check::Permission, name) => {
            let name = named(name);
            quote!(#private::has_permission_named(__grants, &#name))
        }
        Leaf::Custom => unreachable!("only trees of built-ins are decided without waiting"),
    });
    let loading = boolean(predicate, &mut |leaf| match leaf {
        Leaf::Check(Check::Authenticated, _) => quote!(#private::user_sync(__ctx)?.is_some()),
        Leaf::Check(Check::User, name) => {
            quote!((#private::user_sync(__ctx)? == ::core::option::Option::Some(#name)))
        }
        Leaf::Check(Check::Group, name) => {
            let name = named(name);
            quote!(#private::in_group_named(#private::grants_sync(__ctx)?, &#name))
        }
        Leaf::Check(Check::Permission, name) => {
            let name = named(name);
            quote!(#private::has_permission_named(#private::grants_sync(__ctx)?, &#name))
        }
        Leaf::Custom => unreachable!("only trees of built-ins are decided without waiting"),
    });
    let reads = if predicate.needs_grants() {
        quote!(Grants)
    } else if predicate.needs_user() {
        quote!(User)
    } else {
        quote!(Nothing)
    };
    quote! {
        #[inline]
        fn reads(&self) -> #private::Reads {
            #private::Reads::#reads
        }

        #[allow(unused_labels, clippy::all)]
        #[inline]
        fn met_now(
            &self,
            __ctx: &#private::ContextNow<'_>,
        ) -> ::core::option::Option<::core::result::Result<bool, #private::Error>> {
            #label: {
                #user
                #grants
                return ::core::option::Option::Some(::core::result::Result::Ok(#loaded));
            }
            let __decide = || -> ::core::result::Result<bool, #private::Stop> {
                ::core::result::Result::Ok(#loading)
            };
            #private::met_now(__decide())
        }
    }
}

/// A group or permission name of a rule as `__private::Named`: the name and its bytes, whose
/// length the comparisons then know while compiling.
fn named(name: Option<&str>) -> TokenStream {
    let private = private();
    let name = name.unwrap_or_default();
    let bytes = proc_macro2::Literal::byte_string(name.as_bytes());
    quote!(#private::Named { name: #name, bytes: *#bytes })
}

/// For a tree of built-ins, the start of `evaluate`: a tree that `met_now` finds met is met,
/// and a failure it meets is the evaluation's. An unmet tree, or one that would wait, goes on
/// to the full evaluation, which loads lazily and writes the denial's message: denials are the
/// rare path.
fn fast_path() -> TokenStream {
    let private = private();
    quote! {
        match #private::Predicate::met_now(self, &#private::now(__ctx)) {
            ::core::option::Option::Some(::core::result::Result::Ok(true)) => {
                return ::core::result::Result::Ok(#private::Verdict::Met);
            }
            ::core::option::Option::Some(::core::result::Result::Err(error)) => {
                return ::core::result::Result::Err(error);
            }
            _ => {}
        }
    }
}

/// A leaf of a predicate tree, as `boolean` asks its caller to write it.
enum Leaf<'a> {
    /// A built-in check, with the name it checks (none for `not_anonymous`).
    Check(Check, Option<&'a str>),
    /// The next custom predicate, in source order.
    Custom,
}

/// A predicate tree as one `bool` expression, with `&&`, `||` and `!` short-circuiting as the
/// combinators do; `leaf` writes each leaf.
fn boolean(predicate: &Predicate, leaf: &mut dyn FnMut(Leaf<'_>) -> TokenStream) -> TokenStream {
    let mut list = |names: &[Name], kind: Check, all: bool| {
        let checks = names
            .iter()
            .map(|name| leaf(Leaf::Check(kind, Some(&name.value))));
        if all {
            quote!((#(#checks)&&*))
        } else {
            quote!((#(#checks)||*))
        }
    };
    match &predicate.kind {
        Kind::NotAnonymous => leaf(Leaf::Check(Check::Authenticated, None)),
        Kind::IsAnonymous => {
            let authenticated = leaf(Leaf::Check(Check::Authenticated, None));
            quote!(!(#authenticated))
        }
        Kind::IsUser(name) => leaf(Leaf::Check(Check::User, Some(&name.value))),
        Kind::InGroup(name) => leaf(Leaf::Check(Check::Group, Some(&name.value))),
        Kind::HasPermission(name) => leaf(Leaf::Check(Check::Permission, Some(&name.value))),
        Kind::InAllGroups(names) => list(names, Check::Group, true),
        Kind::HasAllPermissions(names) => list(names, Check::Permission, true),
        Kind::InAnyGroup(names) => list(names, Check::Group, false),
        Kind::HasAnyPermission(names) => list(names, Check::Permission, false),
        Kind::Any(children) => {
            let tests = children.iter().map(|child| boolean(child, leaf));
            quote!((#(#tests)||*))
        }
        Kind::All(children) => {
            let tests = children.iter().map(|child| boolean(child, leaf));
            quote!((#(#tests)&&*))
        }
        Kind::Not(child) => {
            let test = boolean(child, leaf);
            quote!(!(#test))
        }
        Kind::Custom(_) => leaf(Leaf::Custom),
    }
}

/// A built-in check on the request's credentials.
#[derive(Clone, Copy)]
enum Check {
    Authenticated,
    User,
    Group,
    Permission,
}

/// A built-in check as a `bool` expression: synchronous once the credentials are loaded, which
/// is every check of a request but the first.
fn check(check: Check, name: Option<&str>) -> TokenStream {
    let private = private();
    let (now, load) = match check {
        Check::Authenticated => (quote!(is_authenticated_now), quote!(is_authenticated)),
        Check::User => (quote!(is_user_now), quote!(is_user)),
        Check::Group => (quote!(in_group_now), quote!(in_group)),
        Check::Permission => (quote!(has_permission_now), quote!(has_permission)),
    };
    let args = match name {
        Some(name) => quote!(__ctx, #name),
        None => quote!(__ctx),
    };
    quote! {
        match #private::#now(#args) {
            ::core::option::Option::Some(met) => met,
            ::core::option::Option::None => #private::#load(#args).await?,
        }
    }
}

/// Writes out one predicate tree.
///
/// Two forms of each node: a *test* (`bool`), and a *verdict* with the denial's message. A
/// `not` only needs its child's test. A tree without custom predicates whose denial builds a
/// message (it has an `any`) is tested first and only written out with messages when unmet,
/// so that the allow path never allocates; custom predicates are never evaluated twice.
struct Generator {
    customs: usize,
    labels: usize,
    /// Writing out the messages of a tree already tested unmet: its subtrees need no test.
    tested: bool,
}

impl Generator {
    fn label(&mut self) -> syn::Lifetime {
        self.labels += 1;
        syn::Lifetime::new(&format!("'__authz_{}", self.labels), Span::mixed_site())
    }

    /// The next custom predicate's field; customs are numbered in source order.
    fn custom_field(&mut self) -> syn::Ident {
        let field = format_ident!("c{}", self.customs);
        self.customs += 1;
        field
    }

    /// Whether `predicate` holds, as a `bool` expression; no messages are built.
    fn test(&mut self, predicate: &Predicate) -> TokenStream {
        let private = private();
        boolean(predicate, &mut |leaf| match leaf {
            Leaf::Check(kind, name) => check(kind, name),
            Leaf::Custom => {
                let field = self.custom_field();
                quote! {
                    #private::Verdict::is_met(
                        &#private::Predicate::evaluate(&self.#field, __ctx).await?
                    )
                }
            }
        })
    }

    /// The predicate's verdict, with its denial's message.
    fn verdict(&mut self, predicate: &Predicate) -> TokenStream {
        let private = private();
        if !self.tested && predicate.is_pure() && predicate.has_any() {
            let test = self.test(predicate);
            self.tested = true;
            let verdict = self.denial(predicate);
            self.tested = false;
            return quote! {
                if #test { #private::Verdict::Met } else { #verdict }
            };
        }
        self.denial(predicate)
    }

    /// The predicate's verdict, written out with messages all the way down.
    fn denial(&mut self, predicate: &Predicate) -> TokenStream {
        let private = private();
        let msg = &predicate.message;
        let text = predicate.text();
        // A message with no run-time part, as a string literal.
        let fixed = |default: String| -> String {
            match msg {
                Some(pieces) => static_text(pieces),
                None => default,
            }
        };
        let met = quote!(#private::Verdict::Met);
        let leaf = |test: TokenStream, message: String| {
            quote! {
                if #test { #met } else { #private::unmet(#message, #text) }
            }
        };
        match &predicate.kind {
            Kind::NotAnonymous
            | Kind::IsAnonymous
            | Kind::IsUser(_)
            | Kind::InGroup(_)
            | Kind::HasPermission(_)
            | Kind::InAnyGroup(_)
            | Kind::HasAnyPermission(_) => {
                let default = match &predicate.kind {
                    Kind::NotAnonymous => message::not_anonymous(),
                    Kind::IsAnonymous => message::is_anonymous(),
                    Kind::IsUser(name) => message::is_user(&name.value),
                    Kind::InGroup(name) => message::in_group(&name.value),
                    Kind::HasPermission(name) => message::has_permission(&name.value),
                    Kind::InAnyGroup(_) => {
                        render_default(message::in_any_group_template(), &predicate.kind)
                    }
                    _ => render_default(message::has_any_permission_template(), &predicate.kind),
                };
                let test = self.test(predicate);
                leaf(test, fixed(default))
            }
            Kind::InAllGroups(names) => {
                self.every(names, Check::Group, message::in_group, "in_group", msg)
            }
            Kind::HasAllPermissions(names) => self.every(
                names,
                Check::Permission,
                message::has_permission,
                "has_permission",
                msg,
            ),
            Kind::Any(children) => {
                let label = self.label();
                let pieces = msg.clone().unwrap_or_else(|| {
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
                        let child = self.verdict(child);
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
                let denial = restated(quote!(denial), msg);
                let checks: Vec<_> = children
                    .iter()
                    .map(|child| {
                        let child = self.verdict(child);
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
            Kind::Not(_) => {
                // The child's message is never shown: test it, nothing more.
                let test = self.test(predicate);
                leaf(test, fixed(message::not()))
            }
            Kind::Custom(_) => {
                let field = self.custom_field();
                let denial = restated(quote!(#private::decided(denial, #text)), msg);
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
        kind: Check,
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
            let test = check(kind, Some(value));
            quote! {
                if !(#test) {
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
