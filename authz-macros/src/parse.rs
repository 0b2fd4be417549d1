//! Attribute tokens → predicate IR. Arguments are parsed as Rust expressions by syn, so a custom
//! predicate may take any expression; everything the language itself means is checked here.
//!
//! Each mistake is recorded and parsing goes on with the next argument, so one build reports
//! every independent mistake of an attribute.

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprCall, Lit, LitStr, Token};

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

    pub(crate) fn finish<T>(self, value: T) -> syn::Result<T> {
        match self.0 {
            Some(error) => Err(error),
            None => Ok(value),
        }
    }
}

/// Parses the arguments of `#[require(…)]`, `#[allow_only(…)]` or `predicate!(…)`: one
/// predicate, then options. An attribute-level `msg` becomes the predicate's own.
pub(crate) fn attribute(tokens: TokenStream, errors: &mut Errors) -> Option<Predicate> {
    let args = match Args::parse_terminated.parse2(tokens) {
        Ok(args) => args,
        Err(error) => {
            errors.push(error);
            return None;
        }
    };
    let (positional, msg) = split_options(&args, errors);
    let Some(first) = positional.first() else {
        if args.is_empty() {
            errors.at(
                Span::call_site(),
                "expected a predicate, such as `not_anonymous()` or `in_group(\"admins\")`",
            );
        } else {
            errors.at(args.span(), "expected a predicate before the options");
        }
        return None;
    };
    for extra in &positional[1..] {
        errors.at(
            extra.span(),
            "expected one predicate; combine several with `all(…)` or `any(…)`",
        );
    }
    let mut predicate = predicate(first, errors)?;
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
    Some(predicate)
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
                None => errors.at(expr.span(), EXPECTED_PREDICATE),
            }
            None
        }
        Expr::Assign(_) => {
            errors.at(
                expr.span(),
                "options such as `msg` come after the predicates",
            );
            None
        }
        Expr::Lit(_) => {
            errors.at(
                expr.span(),
                format!("expected a predicate, found a literal; {EXPECTED_PREDICATE}"),
            );
            None
        }
        _ => {
            errors.at(expr.span(), EXPECTED_PREDICATE);
            None
        }
    }
}

const EXPECTED_PREDICATE: &str = "expected a predicate: a built-in such as `is_user(\"root\")`, \
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
    let (positional, msg) = split_options(&call.args, errors);
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
    }?;
    Some(Predicate { kind, msg })
}

/// A call to the user's own predicate. A trailing `msg = "…"` is the language's option, not an
/// argument of the call.
fn custom(call: &ExprCall, errors: &mut Errors) -> Option<Predicate> {
    let mut call = call.clone();
    let mut args: Vec<Expr> = call.args.iter().cloned().collect();
    let mut msg = None;
    while let Some(value) = args.last().and_then(|last| option_value(last, "msg")) {
        let value = value.clone();
        if msg.is_some() {
            errors.at(value.span(), "`msg` is given twice; keep one");
        }
        msg = string_option(&value, errors).or(msg);
        args.pop();
    }
    call.args = args.into_iter().collect();
    Some(Predicate {
        kind: Kind::Custom(Box::new(call)),
        msg,
    })
}

/// `ident = value` where `ident` is `name`.
fn option_value<'a>(expr: &'a Expr, name: &str) -> Option<&'a Expr> {
    match expr {
        Expr::Assign(assign) => match &*assign.left {
            Expr::Path(path) if path.path.is_ident(name) => Some(&assign.right),
            _ => None,
        },
        _ => None,
    }
}

/// Splits arguments into the positional ones and the `msg` option, which must come last.
fn split_options<'a>(args: &'a Args, errors: &mut Errors) -> (Vec<&'a Expr>, Option<LitStr>) {
    let mut positional = Vec::new();
    let mut msg: Option<LitStr> = None;
    let mut seen_option = false;
    for arg in args {
        let Expr::Assign(assign) = arg else {
            if seen_option {
                errors.at(
                    arg.span(),
                    "options such as `msg` come after the predicate's arguments",
                );
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
                    errors.at(assign.left.span(), "`msg` is given twice; keep one");
                } else {
                    msg = string_option(&assign.right, errors);
                }
            }
            Some(other) => {
                let hint = match suggest::closest(other, &["msg"]) {
                    Some(_) => "; did you mean `msg`?".to_owned(),
                    None => "; the only option is `msg = \"…\"`".to_owned(),
                };
                errors.at(
                    assign.left.span(),
                    format!("unknown option `{other}`{hint}"),
                );
            }
            None => errors.at(
                assign.left.span(),
                "expected an option name; the only option is `msg = \"…\"`",
            ),
        }
    }
    (positional, msg)
}

fn string_option(value: &Expr, errors: &mut Errors) -> Option<LitStr> {
    match value {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Str(text) => return Some(text.clone()),
            _ => {}
        },
        _ => {}
    }
    errors.at(
        value.span(),
        "`msg` must be a string literal, such as `msg = \"Only administrators can remove blog posts\"`",
    );
    None
}

fn no_arguments(name: &str, positional: &[&Expr], errors: &mut Errors, kind: Kind) -> Option<Kind> {
    match positional.first() {
        None => Some(kind),
        Some(first) => {
            errors.at(
                first.span(),
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
        errors.at(
            extra.span(),
            format!(
                "`{name}` takes one {}; for several write `{}`",
                noun.singular, noun.several
            ),
        );
    }
    let parsed = string_name(first, name, &noun, errors);
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
        .map(|arg| string_name(arg, name, &noun, errors))
        .collect();
    parsed.into_iter().collect()
}

fn string_name(arg: &Expr, name: &str, noun: &Noun, errors: &mut Errors) -> Option<Name> {
    if let Expr::Lit(lit) = arg {
        if let Lit::Str(text) = &lit.lit {
            return Some(Name {
                value: text.value(),
                lit: text.clone(),
            });
        }
    }
    errors.at(
        arg.span(),
        format!(
            "`{name}` takes {} as string literals, such as `{name}({})`",
            noun.plural, noun.example
        ),
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
        errors.at(
            extra.span(),
            "`not` takes one predicate; to negate several write `not(any(…))` or `not(all(…))`",
        );
    }
    let child = predicate(first, errors);
    if positional.len() > 1 {
        return None;
    }
    child.map(|child| Kind::Not(Box::new(child)))
}
