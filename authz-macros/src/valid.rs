//! Rules that look at more than one token: names that are empty or repeated, and `msg`
//! templates checked against the predicate's fields.

use std::collections::HashSet;

use crate::ast::{Kind, Name, Predicate};
use crate::message;
use crate::parse::Errors;

/// A predicate whose names and messages have been checked, with each `msg` resolved.
pub(crate) struct Valid {
    pub(crate) predicate: Predicate,
    /// `state = …`: the type the rule's custom predicates read, from the router's state
    /// through axum's `FromRef`.
    pub(crate) state: Option<syn::Path>,
}

/// Parses and validates attribute tokens: the shared front of every macro.
pub(crate) fn compile(tokens: proc_macro2::TokenStream, errors: &mut Errors) -> Option<Valid> {
    let (mut predicate, state) = crate::parse::attribute(tokens, errors)?;
    check(&mut predicate, errors);
    Some(Valid { predicate, state })
}

fn check(predicate: &mut Predicate, errors: &mut Errors) {
    predicate.message = predicate.msg.as_ref().and_then(|lit| {
        let fields = message::fields(&predicate.kind);
        match message::render(&lit.value(), &fields) {
            Ok(pieces) => Some(pieces),
            Err(error) => {
                errors.push(error.to_syn(lit, &predicate.kind.name(), &fields));
                None
            }
        }
    });
    match &mut predicate.kind {
        Kind::IsUser(name) => check_name(name, "user", errors),
        Kind::InGroup(name) => check_name(name, "group", errors),
        Kind::HasPermission(name) => check_name(name, "permission", errors),
        Kind::InAllGroups(names) | Kind::InAnyGroup(names) => check_list(names, "group", errors),
        Kind::HasAllPermissions(names) | Kind::HasAnyPermission(names) => {
            check_list(names, "permission", errors)
        }
        Kind::Any(children) | Kind::All(children) => {
            children.iter_mut().for_each(|child| check(child, errors))
        }
        Kind::Not(child) => check(child, errors),
        Kind::NotAnonymous | Kind::IsAnonymous | Kind::Custom(_) => {}
    }
}

fn check_name(name: &Name, noun: &str, errors: &mut Errors) {
    if name.value.is_empty() {
        errors.at(name.lit.span(), format!("the {noun} name is empty"));
    } else if name.value.trim().is_empty() {
        errors.at(name.lit.span(), format!("the {noun} name is blank"));
    } else if name.value.trim() != name.value {
        errors.at(
            name.lit.span(),
            format!("the {noun} name has leading or trailing whitespace"),
        );
    }
}

fn check_list(names: &[Name], noun: &str, errors: &mut Errors) {
    let mut seen = HashSet::new();
    for name in names {
        check_name(name, noun, errors);
        if !seen.insert(name.value.as_str()) {
            errors.at(
                name.lit.span(),
                format!("the {noun} {:?} is listed twice", name.value),
            );
        }
    }
}
