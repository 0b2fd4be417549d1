//! The demo's policies: every guarded handler with its rule, as `demo policies` prints them
//! and the admin side shows them, read from the rules the macros compiled
//! ([`guarded_handlers`]).

use authz_runtime::rule::{Kind, Message, MessagePiece, Node, Reads};
use authz_runtime::{GuardSite, guarded_handlers};
use serde::Serialize;
use serde_json::{Value, json};

/// One guard of the demo.
#[derive(Debug, Clone, Serialize)]
pub struct Policy {
    /// The handler's path, e.g. `demo::web::remove_post`.
    pub handler: &'static str,
    /// `require` or `allow_only`.
    pub attribute: &'static str,
    /// The rule as written.
    pub rule: &'static str,
    /// The attribute's `msg`, if it has one.
    pub message: Option<&'static str>,
    /// What deciding the rule reads: `user` or `grants` (or `nothing`).
    pub reads: &'static str,
    /// Where the attribute is: `demo/src/web.rs:205`.
    pub location: String,
    /// The rule's tree.
    pub tree: Value,
}

/// Every guard of the demo's handlers, in the order `guarded_handlers` lists them.
pub fn inventory() -> Vec<Policy> {
    guarded_handlers()
        .into_iter()
        .filter(|site| site.handler.starts_with("demo::"))
        .map(policy)
        .collect()
}

fn policy(site: &GuardSite) -> Policy {
    Policy {
        handler: site.handler,
        attribute: site.attribute,
        rule: site.rule.text(),
        message: site.message,
        reads: match site.rule.reads() {
            Reads::Nothing => "nothing",
            Reads::User => "user",
            Reads::Grants => "grants",
        },
        location: format!("{}:{}", site.file, site.line),
        tree: tree(site.rule.root()),
    }
}

/// A node as JSON: what it checks, its text, its message, its children.
fn tree(node: &Node) -> Value {
    let (kind, names): (&str, Vec<&str>) = match node.kind() {
        Kind::NotAnonymous => ("not_anonymous", vec![]),
        Kind::IsAnonymous => ("is_anonymous", vec![]),
        Kind::IsUser(name) => ("is_user", vec![name]),
        Kind::InGroup(name) => ("in_group", vec![name]),
        Kind::HasPermission(name) => ("has_permission", vec![name]),
        Kind::InAllGroups(_) => ("in_all_groups", vec![]),
        Kind::InAnyGroup(names) => ("in_any_group", names.to_vec()),
        Kind::HasAllPermissions(_) => ("has_all_permissions", vec![]),
        Kind::HasAnyPermission(names) => ("has_any_permission", names.to_vec()),
        Kind::All(_) => ("all", vec![]),
        Kind::Any(_) => ("any", vec![]),
        Kind::Not(_) => ("not", vec![]),
        Kind::Custom(_) => ("custom", vec![]),
    };
    let message = match node.message() {
        Message::Fixed(text) | Message::Restated(text) => Value::from(*text),
        Message::FromChild => Value::Null,
        Message::Any(pieces) => Value::from(
            pieces
                .iter()
                .map(|piece| match piece {
                    MessagePiece::Text(text) => *text,
                    MessagePiece::FailedPredicates => "{failed_predicates}",
                })
                .collect::<String>(),
        ),
    };
    let mut value = json!({ "kind": kind, "text": node.text(), "message": message });
    if !names.is_empty() {
        value["names"] = json!(names);
    }
    if !node.children().is_empty() {
        value["children"] = node.children().iter().map(tree).collect();
    }
    value
}

/// The inventory as a table, one guard a line.
pub fn table(policies: &[Policy]) -> String {
    let headers = ["HANDLER", "ATTRIBUTE", "RULE", "MESSAGE", "LOCATION"];
    let rows: Vec<[String; 5]> = policies
        .iter()
        .map(|policy| {
            [
                policy.handler.to_owned(),
                policy.attribute.to_owned(),
                policy.rule.to_owned(),
                policy.message.unwrap_or("-").to_owned(),
                policy.location.clone(),
            ]
        })
        .collect();
    let mut widths = headers.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 5]| {
        let mut line = String::new();
        for (index, (cell, width)) in cells.iter().zip(widths).enumerate() {
            if index + 1 == cells.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}  "));
            }
        }
        line.trim_end().to_owned() + "\n"
    };
    let mut out = line(headers);
    for row in &rows {
        out.push_str(&line(row.each_ref().map(String::as_str)));
    }
    out
}
