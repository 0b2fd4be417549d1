//! `predicate!`: a compiled rule as a value, for router layers and checks of your own.

use proc_macro2::TokenStream;
use quote::quote;

use crate::lower;
use crate::names::private;
use crate::parse::Errors;
use crate::valid::{Valid, compile};

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let valid = compile(input, &mut errors);
    if let Some(Valid {
        state: Some(state), ..
    }) = &valid
    {
        errors.spanned(
            state,
            "`state` goes on `#[require]` and `#[allow_only]`, whose guards read the router's \
             state; a `predicate!` value is decided without one",
        );
    }
    match errors.finish(valid) {
        Ok(Some(valid)) => value(&valid),
        // `compile` records an error whenever it returns nothing.
        Ok(None) => fallback(),
        Err(error) => {
            let error = error.into_compile_error();
            let fallback = fallback();
            quote!({ #error #fallback })
        }
    }
}

/// `Compiled` of the static rule, with the values of its custom predicates.
fn value(valid: &Valid) -> TokenStream {
    let private = private();
    let scope = lower::scope();
    let rule = lower::rule(&valid.predicate);
    let customs = valid.predicate.customs();
    let customs = if customs.is_empty() {
        quote!(#private::NoCustoms)
    } else {
        lower::customs(&customs, None)
    };
    quote!({
        const __AUTHZ_RULE: &#private::Rule = {
            #scope
            &#rule
        };
        #private::Compiled::__new(__AUTHZ_RULE, #customs)
    })
}

/// After a reported error, a value that goes wherever the real one would (`RequireLayer::new`,
/// a `let`), so that no second error or warning follows. A diverging `unreachable!()` would
/// warn that the code around the macro is unreachable.
fn fallback() -> TokenStream {
    let private = private();
    quote!(#private::Compiled::__new(&#private::NEVER, #private::NoCustoms))
}
