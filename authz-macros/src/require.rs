//! `#[require]`: a guard on one handler.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn};

use crate::fallback::{first_token_span, with_error};
use crate::guard::{GuardRule, RuleSource, guard};
use crate::lower;
use crate::names::REQUIRE_SEEN;
use crate::parse::Errors;
use crate::valid::compile;

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    if attr.to_string() == REQUIRE_SEEN {
        // A controller's `#[allow_only]` expanded this one already.
        return item;
    }
    let mut errors = Errors::default();
    let valid = compile(attr, &mut errors);
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
            let customs = valid.predicate.customs();
            let rule = GuardRule {
                source: RuleSource::Inline(lower::rule(&valid.predicate)),
                customs: (!customs.is_empty())
                    .then(|| lower::customs(&customs, valid.state.as_ref())),
                message: valid.predicate.msg.as_ref().map(syn::LitStr::value),
                state: valid.state.clone(),
            };
            let guard = guard(&mut function, "require", &rule);
            quote!(#function #guard)
        }
        (Err(error), ..) => with_error(item, error),
        // Every path that drops `valid` or `function` records an error.
        _ => item,
    }
}

/// Reports what stops `function` from being guarded; true when it can be.
pub(crate) fn check_handler(function: &ItemFn, attribute: &str, errors: &mut Errors) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every token of `tokens`, groups' delimiters included.
    fn count(tokens: TokenStream) -> usize {
        tokens
            .into_iter()
            .map(|token| match token {
                TokenTree::Group(group) => 2 + count(group.stream()),
                _ => 1,
            })
            .sum()
    }

    fn expanded(attr: TokenStream) -> usize {
        let item = quote!(
            async fn remove_post() {}
        );
        count(expand(attr, item.clone())) - count(item)
    }

    /// The rule is data and the guard the runtime's: the expansion of a rule of built-ins is
    /// the site and its registration (no impl of axum's traits), and grows by a node's worth
    /// per predicate, not by code. (187 and 248 tokens when these bounds were set, with the
    /// program's size, the runtime's `LastGuard` as the only argument of a handler that takes
    /// nothing else, and the registration one call of the runtime's `register_site!`.)
    #[test]
    fn a_rule_of_built_ins_expands_to_a_handful_of_items() {
        let one = expanded(quote!(has_permission("manage")));
        let issue = expanded(quote!(
            any(is_user("root"), has_permission("manage")),
            msg = "Only administrators can remove blog posts"
        ));
        assert!(one <= 195, "{one} tokens for `has_permission`");
        assert!(issue <= 255, "{issue} tokens for the issue's rule");
        // Each further predicate is one node of data: a few tokens, no code.
        let two = expanded(quote!(all(
            has_permission("manage"),
            has_permission("edit")
        )));
        let three = expanded(quote!(all(
            has_permission("manage"),
            has_permission("edit"),
            has_permission("see")
        )));
        assert!(three - two <= 30, "{two} then {three}");
    }
}
