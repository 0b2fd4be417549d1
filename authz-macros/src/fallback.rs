//! What is emitted when the attribute has an error: the user's item as written, and the
//! errors, so that one mistake gives one error and IDEs keep working.

use proc_macro2::{Span, TokenStream};
use quote::quote;

pub(crate) fn with_error(item: TokenStream, error: syn::Error) -> TokenStream {
    let error = error.into_compile_error();
    quote!(#item #error)
}

pub(crate) fn first_token_span(item: &TokenStream) -> Span {
    item.clone()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |token| token.span())
}
