//! Procedural macros of `authz`. Depend on `authz-runtime` and use them from there:
//! the expansions name runtime items under `::authz_runtime::__private`.
//!
//! Each macro is a thin shim: [`parse`] turns the attribute into the predicate IR of [`ast`],
//! [`valid`] applies the rules that span several nodes, and [`expand`] generates code. On any
//! error the user's item is emitted unchanged next to the errors, so that one mistake gives one
//! error and not a cascade.

mod ast;
mod expand;
mod item;
mod message;
mod parse;
mod suggest;
mod valid;

use proc_macro::TokenStream;

/// Guards an `async fn` axum handler with a predicate. See `authz_runtime::require`.
#[proc_macro_attribute]
pub fn require(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::require(attr.into(), item.into()).into()
}

/// Guards every handler of an inline module with a predicate. See `authz_runtime::allow_only`.
#[proc_macro_attribute]
pub fn allow_only(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::allow_only(attr.into(), item.into()).into()
}

/// Exempts a handler of an `#[allow_only]` module. See `authz_runtime::public`.
#[proc_macro_attribute]
pub fn public(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::public(attr.into(), item.into()).into()
}

/// Builds a compiled predicate as a value. See `authz_runtime::predicate!`.
#[proc_macro]
pub fn predicate(input: TokenStream) -> TokenStream {
    expand::predicate(input.into()).into()
}
