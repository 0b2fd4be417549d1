//! Denial messages: repoze.what's defaults, and `msg` templates with `{placeholder}` fields
//! resolved while the crate compiles.

use syn::LitStr;

use crate::ast::{Kind, Name};

/// A resolved message: literal text, with the runtime list of failed predicates where an `any`
/// message names `{failed_predicates}`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Piece {
    Text(String),
    FailedPredicates,
}

/// A placeholder a predicate's message may name, and what it stands for.
pub(crate) enum Field {
    Known(String),
    /// Known only when the predicate is evaluated: the messages of an `any`'s unmet children.
    FailedPredicates,
}

pub(crate) fn not_anonymous() -> String {
    "The current user must have been authenticated".to_owned()
}

pub(crate) fn is_anonymous() -> String {
    "The current user must be anonymous".to_owned()
}

pub(crate) fn is_user(user: &str) -> String {
    format!("The current user must be \"{user}\"")
}

pub(crate) fn in_group(group: &str) -> String {
    format!("The current user must belong to the group \"{group}\"")
}

pub(crate) fn has_permission(permission: &str) -> String {
    format!("The user must have the \"{permission}\" permission")
}

pub(crate) fn not() -> String {
    "The condition must not be met".to_owned()
}

pub(crate) fn in_any_group_template() -> &'static str {
    "The member must belong to at least one of the following groups: {group_list}"
}

pub(crate) fn has_any_permission_template() -> &'static str {
    "The user must have at least one of the following permissions: {permission_list}"
}

pub(crate) fn any_template() -> &'static str {
    "At least one of the following predicates must be met: {failed_predicates}"
}

/// The placeholders that `kind`'s message may name: its own fields, as in repoze.what.
pub(crate) fn fields(kind: &Kind) -> Vec<(&'static str, Field)> {
    let list = |names: &[Name]| {
        names
            .iter()
            .map(|name| name.value.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    // An `in_any_group` is unmet only when every group is missing, so its failed predicates are
    // all of its `in_group` messages, known now.
    let all_failed = |names: &[Name], message: fn(&str) -> String| {
        names
            .iter()
            .map(|name| message(&name.value))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match kind {
        Kind::IsUser(name) => vec![("user_name", Field::Known(name.value.clone()))],
        Kind::InGroup(name) => vec![("group_name", Field::Known(name.value.clone()))],
        Kind::HasPermission(name) => vec![("permission_name", Field::Known(name.value.clone()))],
        Kind::InAllGroups(names) => vec![("group_list", Field::Known(list(names)))],
        Kind::HasAllPermissions(names) => vec![("permission_list", Field::Known(list(names)))],
        Kind::InAnyGroup(names) => vec![
            ("group_list", Field::Known(list(names))),
            (
                "failed_predicates",
                Field::Known(all_failed(names, in_group)),
            ),
        ],
        Kind::HasAnyPermission(names) => vec![
            ("permission_list", Field::Known(list(names))),
            (
                "failed_predicates",
                Field::Known(all_failed(names, has_permission)),
            ),
        ],
        Kind::Any(_) => vec![("failed_predicates", Field::FailedPredicates)],
        Kind::NotAnonymous | Kind::IsAnonymous | Kind::All(_) | Kind::Not(_) | Kind::Custom(_) => {
            Vec::new()
        }
    }
}

/// Resolves `template` against `fields`. `{{` and `}}` are literal braces.
pub(crate) fn render(
    template: &str,
    fields: &[(&str, Field)],
) -> Result<Vec<Piece>, TemplateError> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '}' => return Err(TemplateError::Unmatched('}')),
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => name.push(c),
                        None => return Err(TemplateError::Unmatched('{')),
                    }
                }
                match fields.iter().find(|(field, _)| *field == name) {
                    Some((_, Field::Known(value))) => text.push_str(value),
                    Some((_, Field::FailedPredicates)) => {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                        pieces.push(Piece::FailedPredicates);
                    }
                    None => return Err(TemplateError::Unknown(name)),
                }
            }
            c => text.push(c),
        }
    }
    pieces.push(Piece::Text(text));
    pieces.retain(|piece| *piece != Piece::Text(String::new()));
    Ok(pieces)
}

pub(crate) enum TemplateError {
    Unknown(String),
    Unmatched(char),
}

impl TemplateError {
    /// The error as reported under the `msg` literal of predicate `name`.
    pub(crate) fn to_syn(&self, lit: &LitStr, name: &str, fields: &[(&str, Field)]) -> syn::Error {
        let message = match self {
            TemplateError::Unknown(placeholder) => {
                let known: Vec<String> = fields
                    .iter()
                    .map(|(field, _)| format!("`{{{field}}}`"))
                    .collect();
                let choices = if known.is_empty() {
                    format!("`{name}` messages take no placeholders")
                } else {
                    format!("`{name}` messages may use {}", known.join(", "))
                };
                format!(
                    "unknown placeholder `{{{placeholder}}}` in the message; {choices} \
                     (write `{{{{` and `}}}}` for literal braces)"
                )
            }
            TemplateError::Unmatched(brace) => format!(
                "unmatched `{brace}` in the message; write `{brace}{brace}` for a literal brace"
            ),
        };
        syn::Error::new(lit.span(), message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> Vec<(&'static str, Field)> {
        vec![("user_name", Field::Known("gustavo".to_owned()))]
    }

    #[test]
    fn resolves_fields_and_escapes() {
        let pieces = render("{{{user_name}}} only", &user()).ok().unwrap();
        assert_eq!(pieces, vec![Piece::Text("{gustavo} only".to_owned())]);
    }

    #[test]
    fn keeps_failed_predicates_for_run_time() {
        let fields = vec![("failed_predicates", Field::FailedPredicates)];
        let pieces = render("Need: {failed_predicates}.", &fields).ok().unwrap();
        assert_eq!(
            pieces,
            vec![
                Piece::Text("Need: ".to_owned()),
                Piece::FailedPredicates,
                Piece::Text(".".to_owned())
            ]
        );
    }

    #[test]
    fn rejects_unknown_and_unmatched() {
        assert!(
            matches!(render("{user}", &user()), Err(TemplateError::Unknown(name)) if name == "user")
        );
        assert!(matches!(
            render("a { b", &user()),
            Err(TemplateError::Unmatched('{'))
        ));
        assert!(matches!(
            render("a } b", &user()),
            Err(TemplateError::Unmatched('}'))
        ));
    }
}
