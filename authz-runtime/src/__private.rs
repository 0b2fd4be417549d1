//! What the macros' expansions name. Not a public API: names and signatures change freely.
//!
//! The expansions reach this module as `::authz_runtime::__private_<version>`, an alias that
//! `build.rs` stamps with this crate's version: `authz-macros` of another version names an
//! alias that does not exist, so a mismatched pair fails to compile rather than misbehave.

pub use axum::extract::{FromRef, FromRequestParts};
pub use axum::http::request::Parts;
pub use axum::response::Response;
#[cfg(not(authz_linked_registry))]
pub use inventory;

pub use crate::__authz_register_site as register_site;
pub use crate::compiled::{Compiled, Stateless};
pub use crate::evaluator::{Customs, NoCustoms};
pub use crate::guard::{End, Guard, GuardFuture, GuardSite, LastGuard, Site, guard_with};
#[cfg(authz_linked_registry)]
pub use crate::registry::GUARD_SITES;
pub use crate::routing::{GuardArgument, Open};
pub use crate::rule::{Kind, Message, MessagePiece, Node, Rule, Step};
pub use crate::{Context, Error, Predicate, Verdict};

/// The short names a rule's expansion brings into its scope with one glob import, so that the
/// static tree it writes stays short (what rustc reads, per handler).
pub mod short {
    pub use super::{
        GuardSite as S, Kind as K, Message as M, MessagePiece as P, Node as N, Rule as R, Site as T,
    };
    pub use ::core::option::Option::{None, Some};
}

/// The rule of a `predicate!` whose input had a compile error: it stands where the real one
/// would, so that no second error follows, and is never decided.
pub static NEVER: Rule<[Step; 0]> = Rule::__new(Node::__new(
    Kind::Not(&Node::__new(Kind::Any(&[]), "", Message::FromChild)),
    "",
    Message::Fixed(""),
));
