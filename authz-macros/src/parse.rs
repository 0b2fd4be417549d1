//! Attribute tokens → predicate IR. Arguments are parsed as Rust expressions by syn, so a custom
//! predicate may take any expression; everything the language itself means is checked here.
//!
//! Each mistake is recorded and parsing goes on with the next argument, so one build reports
//! every independent mistake of an attribute.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{BinOp, Expr, ExprCall, Lit, LitStr, Token, UnOp};

use crate::ast::{Kind, Name, Predicate};
use crate::suggest;

type Args = Punctuated<Expr, Token![,]>;

/// Errors gathered while reading an attribute, reported together.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(first) => first.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn at(&mut self, span: Span, message: impl std::fmt::Display) {
        self.push(syn::Error::new(span, message));
    }

    /// An error under every token of `node`. `Spanned::span` of a node of several tokens is only
    /// its first token on stable Rust; this underlines all of it.
    pub(crate) fn spanned(&mut self, node: impl ToTokens, message: impl std::fmt::Display) {
        self.push(syn::Error::new_spanned(node, message));
    }

    /// Adds `later`'s errors after these, so that errors read in source order.
    pub(crate) fn append(&mut self, later: Errors) {
        if let Some(error) = later.0 {
            self.push(error);
        }
    }

    pub(crate) fn finish<T>(self, value: T) -> syn::Result<T> {
        match self.0 {
            Some(error) => Err(error),
            None => Ok(value),
        }
    }
}

/// Parses the arguments of `#[require(…)]`, `#[allow_only(…)]` or `predicate!(…)`: one
/// predicate, then options. An attribute-level `msg` becomes the predicate's own.
pub(crate) fn attribute(
    tokens: TokenStream,
    errors: &mut Errors,
) -> Option<(Predicate, Option<syn::Path>)> {
    let args = match Args::parse_terminated.parse2(tokens) {
        Ok(args) => args,
        Err(error) => {
            errors.push(reworded(error));
            return None;
        }
    };
    // Options come last, so their mistakes are reported after the predicate's.
    let mut option_errors = Errors::default();
    let (positional, msg, state) = split_options(&args, true, &mut option_errors);
    let Some(first) = positional.first() else {
        if args.is_empty() {
            errors.at(
                Span::call_site(),
                "expected a predicate, such as `not_anonymous()` or `in_group(\"admins\")`",
            );
        } else {
            errors.spanned(&args, "expected a predicate before the options");
        }
        errors.append(option_errors);
        return None;
    };
    for extra in &positional[1..] {
        errors.spanned(
            extra,
            "expected one predicate; combine several with `all(…)` or `any(…)`",
        );
    }
    let predicate = predicate(first, errors);
    errors.append(option_errors);
    let mut predicate = predicate?;
    if let Some(msg) = msg {
        if predicate.msg.is_some() {
            errors.at(
                msg.span(),
                "`msg` is given twice: on the predicate and on the attribute; keep one",
            );
        } else {
            predicate.msg = Some(msg);
        }
    }
    Some((predicate, state))
}

/// syn's own parse errors, reworded where they name fewer choices than the attribute has.
fn reworded(error: syn::Error) -> syn::Error {
    let mut errors = Errors::default();
    for error in error {
        match error.to_string().as_str() {
            // After an argument, syn only suggests `,`; the arguments may also end there.
            "expected `,`" => errors.at(error.span(), "expected `,` or the end of the arguments"),
            _ => errors.push(error),
        }
    }
    errors
        .finish(())
        .expect_err("reworded from at least one error")
}

fn predicate(expr: &Expr, errors: &mut Errors) -> Option<Predicate> {
    match expr {
        Expr::Call(call) => call_predicate(call, errors),
        Expr::Path(path) if path.qself.is_none() => {
            match path.path.get_ident().map(ToString::to_string) {
                Some(name) if suggest::RESERVED.contains(&name.as_str()) => errors.at(
                    expr.span(),
                    format!("`{name}` is a predicate: call it, as in `{name}(…)`"),
                ),
                Some(name) => match suggest::misspelling_of(&name) {
                    Some(reserved) => errors.at(
                        expr.span(),
                        format!("unknown predicate `{name}`; did you mean `{reserved}(…)`?"),
                    ),
                    None => errors.at(
                        expr.span(),
                        format!(
                            "expected a predicate call; write `{name}(…)` for a custom predicate"
                        ),
                    ),
                },
                None => errors.spanned(expr, format!("expected a predicate: {PREDICATE_CHOICES}")),
            }
            None
        }
        Expr::Assign(_) => {
            errors.spanned(expr, "options such as `msg` come last");
            None
        }
        Expr::Lit(_) => {
            errors.spanned(
                expr,
                format!("expected a predicate, found a literal: {PREDICATE_CHOICES}"),
            );
            None
        }
        Expr::Binary(binary) if matches!(binary.op, BinOp::And(_) | BinOp::Or(_)) => {
            let (operator, combinator) = match binary.op {
                BinOp::And(_) => ("&&", "all"),
                _ => ("||", "any"),
            };
            errors.spanned(
                binary.op,
                format!("predicates are combined with `{combinator}(a, b)`, not with `{operator}`"),
            );
            None
        }
        Expr::Unary(unary) if matches!(unary.op, UnOp::Not(_)) => {
            errors.spanned(
                unary.op,
                "a predicate is negated with `not(…)`, not with `!`",
            );
            None
        }
        _ => {
            errors.spanned(expr, format!("expected a predicate: {PREDICATE_CHOICES}"));
            None
        }
    }
}

const PREDICATE_CHOICES: &str = "a built-in such as `is_user(\"root\")`, \
     a combinator `any(…)`, `all(…)` or `not(…)`, or a call to your own predicate such as `is_month(7)`";

fn call_predicate(call: &ExprCall, errors: &mut Errors) -> Option<Predicate> {
    let name = match &*call.func {
        Expr::Path(path) if path.qself.is_none() => path.path.get_ident().map(ToString::to_string),
        _ => None,
    };
    let Some(name) = name else {
        return custom(call, errors);
    };
    let span = call.func.span();
    if !suggest::RESERVED.contains(&name.as_str()) {
        if let Some(reserved) = suggest::misspelling_of(&name) {
            errors.at(
                span,
                format!(
                    "unknown predicate `{name}`; did you mean `{reserved}`? (to call your \
                     own predicate of this name, write its path, such as `self::{name}(…)`)"
                ),
            );
            return None;
        }
        return custom(call, errors);
    }
    // Options come last, so their mistakes are reported after the arguments'.
    let mut option_errors = Errors::default();
    let (positional, msg, _) = split_options(&call.args, false, &mut option_errors);
    let kind = match name.as_str() {
        "not_anonymous" => no_arguments(&name, &positional, errors, Kind::NotAnonymous),
        "is_anonymous" => no_arguments(&name, &positional, errors, Kind::IsAnonymous),
        "is_user" => one_name(call, &name, &positional, errors, USER).map(Kind::IsUser),
        "in_group" => one_name(call, &name, &positional, errors, GROUP).map(Kind::InGroup),
        "has_permission" => {
            one_name(call, &name, &positional, errors, PERMISSION).map(Kind::HasPermission)
        }
        "in_all_groups" => names(call, &name, &positional, errors, GROUP).map(Kind::InAllGroups),
        "in_any_group" => names(call, &name, &positional, errors, GROUP).map(Kind::InAnyGroup),
        "has_all_permissions" => {
            names(call, &name, &positional, errors, PERMISSION).map(Kind::HasAllPermissions)
        }
        "has_any_permission" => {
            names(call, &name, &positional, errors, PERMISSION).map(Kind::HasAnyPermission)
        }
        "any" => children(call, &name, &positional, errors).map(Kind::Any),
        "all" => children(call, &name, &positional, errors).map(Kind::All),
        "not" => negated(call, &positional, errors),
        // `RESERVED` lists exactly the names matched above.
        _ => return custom(call, errors),
    };
    errors.append(option_errors);
    Some(Predicate {
        kind: kind?,
        msg,
        message: None,
    })
}

/// A call to the user's own predicate. Its arguments of the form `name = value` are the
/// language's options, checked as on a built-in, not assignments handed to rustc.
fn custom(call: &ExprCall, errors: &mut Errors) -> Option<Predicate> {
    let (positional, msg, _) = split_options(&call.args, false, errors);
    let mut call = call.clone();
    call.args = positional.into_iter().cloned().collect();
    Some(Predicate {
        kind: Kind::Custom(Box::new(call)),
        msg,
        message: None,
    })
}

/// Splits arguments into the positional ones and the options, which must come last: `msg`,
/// and, for the `attribute` itself, `state`.
fn split_options<'a>(
    args: &'a Args,
    attribute: bool,
    errors: &mut Errors,
) -> (Vec<&'a Expr>, Option<LitStr>, Option<syn::Path>) {
    let mut positional = Vec::new();
    let mut msg: Option<LitStr> = None;
    let mut state: Option<syn::Path> = None;
    let mut seen_option = false;
    for arg in args {
        let Expr::Assign(assign) = arg else {
            if seen_option {
                errors.spanned(arg, "options such as `msg` come last");
            }
            positional.push(arg);
            continue;
        };
        seen_option = true;
        let name = match &*assign.left {
            Expr::Path(path) => path.path.get_ident().map(ToString::to_string),
            _ => None,
        };
        match name.as_deref() {
            Some("msg") => {
                if msg.is_some() {
                    errors.spanned(&assign.left, "`msg` is given twice; keep one");
                } else {
                    msg = string_option(&assign.right, errors);
                }
            }
            Some("state") if !attribute => errors.spanned(
                &assign.left,
                "`state` is an option of the attribute, after its predicate: \
                 `#[require(…, state = AppState)]`",
            ),
            Some("state") => {
                if state.is_some() {
                    errors.spanned(&assign.left, "`state` is given twice; keep one");
                } else {
                    state = state_option(&assign.right, errors);
                }
            }
            Some(other) => {
                let hint = match suggest::closest(other, &["msg"]) {
                    Some(_) => "; did you mean `msg`?".to_owned(),
                    None => "; the only option is `msg = \"…\"`".to_owned(),
                };
                errors.spanned(&assign.left, format!("unknown option `{other}`{hint}"));
            }
            None => errors.spanned(
                &assign.left,
                "expected an option name; the only option is `msg = \"…\"`",
            ),
        }
    }
    (positional, msg, state)
}

/// The type that `state = …` names: a path, such as `AppState` or `crate::state::Db`.
fn state_option(value: &Expr, errors: &mut Errors) -> Option<syn::Path> {
    if let Expr::Path(path) = value
        && path.qself.is_none()
    {
        return Some(path.path.clone());
    }
    errors.spanned(
        value,
        "`state` takes the type of the state the rule's predicates read, such as \
         `state = AppState`",
    );
    None
}

fn string_option(value: &Expr, errors: &mut Errors) -> Option<LitStr> {
    if let Expr::Lit(lit) = value
        && let Lit::Str(text) = &lit.lit
    {
        return Some(text.clone());
    }
    errors.spanned(
        value,
        "`msg` must be a string literal, such as `msg = \"Only administrators can remove blog posts\"`",
    );
    None
}

fn no_arguments(name: &str, positional: &[&Expr], errors: &mut Errors, kind: Kind) -> Option<Kind> {
    match positional.first() {
        None => Some(kind),
        Some(first) => {
            errors.spanned(
                first,
                format!("`{name}` takes no arguments; write `{name}()`"),
            );
            None
        }
    }
}

/// What a built-in's string arguments name, for messages.
struct Noun {
    singular: &'static str,
    plural: &'static str,
    example: &'static str,
    several: &'static str,
}

const USER: Noun = Noun {
    singular: "user name",
    plural: "user names",
    example: "\"root\"",
    several: "any(is_user(\"a\"), is_user(\"b\"))",
};
const GROUP: Noun = Noun {
    singular: "group name",
    plural: "group names",
    example: "\"admins\"",
    several: "in_any_group(\"a\", \"b\")` or `in_all_groups(\"a\", \"b\")",
};
const PERMISSION: Noun = Noun {
    singular: "permission name",
    plural: "permission names",
    example: "\"manage\"",
    several: "has_any_permission(\"a\", \"b\")` or `has_all_permissions(\"a\", \"b\")",
};

fn one_name(
    call: &ExprCall,
    name: &str,
    positional: &[&Expr],
    errors: &mut Errors,
    noun: Noun,
) -> Option<Name> {
    let Some(first) = positional.first() else {
        errors.at(
            call.paren_token.span.join(),
            format!(
                "`{name}` takes one {}, such as `{name}({})`",
                noun.singular, noun.example
            ),
        );
        return None;
    };
    for extra in &positional[1..] {
        errors.spanned(
            extra,
            format!(
                "`{name}` takes one {}; for several write `{}`",
                noun.singular, noun.several
            ),
        );
    }
    let parsed = string_name(first, name, &noun, One::Name, errors);
    if positional.len() > 1 {
        return None;
    }
    parsed
}

fn names(
    call: &ExprCall,
    name: &str,
    positional: &[&Expr],
    errors: &mut Errors,
    noun: Noun,
) -> Option<Vec<Name>> {
    if positional.is_empty() {
        errors.at(
            call.paren_token.span.join(),
            format!(
                "`{name}` needs at least one {}, such as `{name}({})`",
                noun.singular, noun.example
            ),
        );
        return None;
    }
    let parsed: Vec<Option<Name>> = positional
        .iter()
        .map(|arg| string_name(arg, name, &noun, One::OfSeveral, errors))
        .collect();
    parsed.into_iter().collect()
}

/// Whether a built-in takes one name or a list, for the wording of messages.
enum One {
    Name,
    OfSeveral,
}

fn string_name(arg: &Expr, name: &str, noun: &Noun, one: One, errors: &mut Errors) -> Option<Name> {
    if let Expr::Lit(lit) = arg
        && let Lit::Str(text) = &lit.lit
    {
        return Some(Name {
            value: text.value(),
            lit: text.clone(),
        });
    }
    errors.spanned(
        arg,
        match one {
            One::Name => format!(
                "`{name}` takes a {} as a string literal, such as `{name}({})`",
                noun.singular, noun.example
            ),
            One::OfSeveral => format!(
                "`{name}` takes {} as string literals, such as `{name}({})`",
                noun.plural, noun.example
            ),
        },
    );
    None
}

fn children(
    call: &ExprCall,
    name: &str,
    positional: &[&Expr],
    errors: &mut Errors,
) -> Option<Vec<Predicate>> {
    if positional.is_empty() {
        errors.at(
            call.paren_token.span.join(),
            format!("`{name}` needs at least one predicate, such as `{name}(in_group(\"admins\"), has_permission(\"manage\"))`"),
        );
        return None;
    }
    let parsed: Vec<Option<Predicate>> = positional
        .iter()
        .map(|arg| predicate(arg, errors))
        .collect();
    parsed.into_iter().collect()
}

fn negated(call: &ExprCall, positional: &[&Expr], errors: &mut Errors) -> Option<Kind> {
    let Some(first) = positional.first() else {
        errors.at(
            call.paren_token.span.join(),
            "`not` takes one predicate, such as `not(in_group(\"trolls\"))`",
        );
        return None;
    };
    for extra in &positional[1..] {
        errors.spanned(
            extra,
            "`not` takes one predicate; to negate several write `not(any(…))` or `not(all(…))`",
        );
    }
    let child = predicate(first, errors);
    if positional.len() > 1 {
        return None;
    }
    child.map(|child| Kind::Not(Box::new(child)))
}
