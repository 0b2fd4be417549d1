//! The predicate IR: what an attribute says, with the user's tokens kept for error spans.

use syn::{ExprCall, LitStr};

use crate::message::Piece;

/// One predicate of the language, built-in, combinator or custom, with its `msg` option.
pub(crate) struct Predicate {
    pub(crate) kind: Kind,
    /// `msg = "…"`, replacing the default message.
    pub(crate) msg: Option<LitStr>,
    /// `msg` with its placeholders resolved, once validated.
    pub(crate) message: Option<Vec<Piece>>,
}

pub(crate) enum Kind {
    NotAnonymous,
    IsAnonymous,
    IsUser(Name),
    InGroup(Name),
    InAllGroups(Vec<Name>),
    InAnyGroup(Vec<Name>),
    HasPermission(Name),
    HasAllPermissions(Vec<Name>),
    HasAnyPermission(Vec<Name>),
    Any(Vec<Predicate>),
    All(Vec<Predicate>),
    Not(Box<Predicate>),
    /// A call to the user's own predicate, handed to rustc as written.
    Custom(Box<ExprCall>),
}

/// A user, group or permission name: a string literal of the attribute.
pub(crate) struct Name {
    pub(crate) value: String,
    pub(crate) lit: LitStr,
}

impl Predicate {
    /// The predicate as the user would write it, without its `msg`; logged with each denial to
    /// say which sub-predicate decided.
    pub(crate) fn text(&self) -> String {
        let names = |names: &[Name]| {
            names
                .iter()
                .map(|name| format!("{:?}", name.value))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let children = |children: &[Predicate]| {
            children
                .iter()
                .map(Predicate::text)
                .collect::<Vec<_>>()
                .join(", ")
        };
        match &self.kind {
            Kind::NotAnonymous => "not_anonymous()".to_owned(),
            Kind::IsAnonymous => "is_anonymous()".to_owned(),
            Kind::IsUser(name) => format!("is_user({:?})", name.value),
            Kind::InGroup(name) => format!("in_group({:?})", name.value),
            Kind::HasPermission(name) => format!("has_permission({:?})", name.value),
            Kind::InAllGroups(list) => format!("in_all_groups({})", names(list)),
            Kind::InAnyGroup(list) => format!("in_any_group({})", names(list)),
            Kind::HasAllPermissions(list) => format!("has_all_permissions({})", names(list)),
            Kind::HasAnyPermission(list) => format!("has_any_permission({})", names(list)),
            Kind::Any(list) => format!("any({})", children(list)),
            Kind::All(list) => format!("all({})", children(list)),
            Kind::Not(child) => format!("not({})", child.text()),
            Kind::Custom(call) => custom_text(call),
        }
    }

    /// Every custom call in the tree, depth first, in source order.
    pub(crate) fn customs(&self) -> Vec<&ExprCall> {
        let mut found = Vec::new();
        self.collect_customs(&mut found);
        found
    }

    fn collect_customs<'a>(&'a self, found: &mut Vec<&'a ExprCall>) {
        match &self.kind {
            Kind::Custom(call) => found.push(call),
            Kind::Any(list) | Kind::All(list) => {
                list.iter().for_each(|child| child.collect_customs(found))
            }
            Kind::Not(child) => child.collect_customs(found),
            _ => {}
        }
    }
}

/// `quote`'s spacing (`is_month (4)`) tidied into the way people write calls (`is_month(4)`).
fn custom_text(call: &ExprCall) -> String {
    let raw = quote::ToTokens::to_token_stream(call).to_string();
    raw.replace(" (", "(")
        .replace("( ", "(")
        .replace(" )", ")")
        .replace(" ,", ",")
        .replace(" :: ", "::")
        .replace(":: ", "::")
}

impl Kind {
    /// The name the user wrote: a built-in, a combinator, or the custom call's path.
    pub(crate) fn name(&self) -> String {
        match self {
            Kind::NotAnonymous => "not_anonymous".to_owned(),
            Kind::IsAnonymous => "is_anonymous".to_owned(),
            Kind::IsUser(_) => "is_user".to_owned(),
            Kind::InGroup(_) => "in_group".to_owned(),
            Kind::InAllGroups(_) => "in_all_groups".to_owned(),
            Kind::InAnyGroup(_) => "in_any_group".to_owned(),
            Kind::HasPermission(_) => "has_permission".to_owned(),
            Kind::HasAllPermissions(_) => "has_all_permissions".to_owned(),
            Kind::HasAnyPermission(_) => "has_any_permission".to_owned(),
            Kind::Any(_) => "any".to_owned(),
            Kind::All(_) => "all".to_owned(),
            Kind::Not(_) => "not".to_owned(),
            Kind::Custom(call) => {
                let text = custom_text(call);
                text.split('(').next().unwrap_or_default().to_owned()
            }
        }
    }
}
