//! A rule as data: the predicate tree that `#[require]`, `#[allow_only]` and `predicate!`
//! compile, kept as a static value that the evaluator decides and that the
//! running program can list and explain.
//!
//! The macros validate the predicate while the crate compiles and emit its tree: node kinds,
//! names, messages resolved into pieces, the text as written. Nothing about a rule of built-ins
//! is code; a custom predicate is a [`Kind::Custom`] leaf whose value the guard builds from the
//! user's call.
//!
//! ```
//! use authz_runtime::rule::{Kind, Message};
//! use authz_runtime::{guarded_handlers, require};
//!
//! #[require(any(is_user("root"), has_permission("manage")), msg = "Only administrators")]
//! async fn remove_post() {}
//!
//! let site = guarded_handlers()
//!     .into_iter()
//!     .find(|site| site.handler.ends_with("::remove_post"))
//!     .unwrap();
//! let root = site.rule.root();
//! assert_eq!(root.text(), r#"any(is_user("root"), has_permission("manage"))"#);
//! let Kind::Any(children) = root.kind() else { panic!("an `any`") };
//! assert!(matches!(children[0].kind(), Kind::IsUser("root")));
//! assert_eq!(
//!     children[1].message(),
//!     &Message::Fixed(r#"The user must have the "manage" permission"#)
//! );
//! ```

use std::fmt;

/// A compiled rule: the root of its predicate tree, and what its evaluation reads.
#[derive(Debug)]
pub struct Rule {
    root: Node,
    reads: Reads,
    customs: u16,
}

impl Rule {
    /// For the macros: the rule whose tree is `root`. What it reads and how many custom
    /// predicates it calls are worked out here, while compiling, rather than written out.
    #[doc(hidden)]
    pub const fn __new(root: Node) -> Self {
        Self {
            reads: reads_of(&root),
            customs: customs_in(&root),
            root,
        }
    }

    /// The predicate tree.
    pub fn root(&self) -> &Node {
        &self.root
    }

    /// The rule as written, without its `msg`: `any(is_user("root"), has_permission("manage"))`.
    pub fn text(&self) -> &'static str {
        self.root.text
    }

    /// What deciding the rule may read of the request's credentials.
    pub fn reads(&self) -> Reads {
        self.reads
    }

    /// How many custom predicates the rule calls: the [`Kind::Custom`] leaves, numbered from 0
    /// in source order.
    pub fn custom_predicates(&self) -> usize {
        usize::from(self.customs)
    }

    /// Every node of the tree, depth first, parents before their children.
    ///
    /// ```
    /// use authz_runtime::predicate;
    ///
    /// let rule = predicate!(all(not_anonymous(), in_all_groups("staff", "admins")));
    /// let texts: Vec<_> = rule.rule().nodes().map(|node| node.text()).collect();
    /// assert_eq!(
    ///     texts,
    ///     [
    ///         r#"all(not_anonymous(), in_all_groups("staff", "admins"))"#,
    ///         "not_anonymous()",
    ///         r#"in_all_groups("staff", "admins")"#,
    ///         r#"in_group("staff")"#,
    ///         r#"in_group("admins")"#,
    ///     ]
    /// );
    /// ```
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        let mut pending = vec![&self.root];
        std::iter::from_fn(move || {
            let node = pending.pop()?;
            pending.extend(node.children().iter().rev());
            Some(node)
        })
    }
}

/// What deciding `node` may read.
const fn reads_of(node: &Node) -> Reads {
    match node.kind {
        Kind::NotAnonymous | Kind::IsAnonymous | Kind::IsUser(_) => Reads::User,
        Kind::InGroup(_)
        | Kind::HasPermission(_)
        | Kind::InAllGroups(_)
        | Kind::InAnyGroup(_)
        | Kind::HasAllPermissions(_)
        | Kind::HasAnyPermission(_) => Reads::Grants,
        Kind::Custom(_) => Reads::Nothing,
        Kind::Not(child) => reads_of(child),
        Kind::All(children) | Kind::Any(children) => {
            let mut reads = Reads::Nothing;
            let mut index = 0;
            while index < children.len() {
                reads = match (reads, reads_of(&children[index])) {
                    (Reads::Grants, _) | (_, Reads::Grants) => Reads::Grants,
                    (Reads::User, _) | (_, Reads::User) => Reads::User,
                    _ => Reads::Nothing,
                };
                index += 1;
            }
            reads
        }
    }
}

/// How many custom predicates `node` calls.
const fn customs_in(node: &Node) -> u16 {
    match node.kind {
        Kind::Custom(_) => 1,
        Kind::Not(child) => customs_in(child),
        Kind::All(children) | Kind::Any(children) => {
            let mut count = 0;
            let mut index = 0;
            while index < children.len() {
                count += customs_in(&children[index]);
                index += 1;
            }
            count
        }
        _ => 0,
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

/// What a rule reads of the credentials: the macros know it while compiling, so that a rule of
/// identities only never reaches the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    /// Nothing of the credentials (a rule of custom predicates only).
    Nothing,
    /// Who the user is, and nothing else.
    User,
    /// The user's groups or permissions (and so who the user is).
    Grants,
}

/// One predicate of a rule: what it checks, how it is written, and its denial's message.
#[derive(Debug, PartialEq, Eq)]
pub struct Node {
    kind: Kind,
    text: &'static str,
    message: Message,
}

impl Node {
    /// For the macros: a node checking `kind`, written `text`, denied with `message`.
    #[doc(hidden)]
    pub const fn __new(kind: Kind, text: &'static str, message: Message) -> Self {
        Self {
            kind,
            text,
            message,
        }
    }

    /// What the node checks.
    pub fn kind(&self) -> &Kind {
        &self.kind
    }

    /// The predicate as written, without its `msg`: `has_permission("manage")`.
    pub fn text(&self) -> &'static str {
        self.text
    }

    /// How the node's denial is worded.
    pub fn message(&self) -> &Message {
        &self.message
    }

    /// The node's children: those of a combinator, and the members of `in_all_groups` and
    /// `has_all_permissions`; none for the other predicates.
    pub fn children(&self) -> &'static [Node] {
        match self.kind {
            Kind::All(children)
            | Kind::Any(children)
            | Kind::InAllGroups(children)
            | Kind::HasAllPermissions(children) => children,
            Kind::Not(child) => std::slice::from_ref(child),
            _ => &[],
        }
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text)
    }
}

/// What a [`Node`] checks.
#[derive(Debug, PartialEq, Eq)]
pub enum Kind {
    /// `not_anonymous()`.
    NotAnonymous,
    /// `is_anonymous()`.
    IsAnonymous,
    /// `is_user(name)`.
    IsUser(&'static str),
    /// `in_group(name)`.
    InGroup(&'static str),
    /// `has_permission(name)`.
    HasPermission(&'static str),
    /// `in_all_groups(…)`: an `in_group` node per group, checked in order.
    InAllGroups(&'static [Node]),
    /// `in_any_group(…)`: the groups.
    InAnyGroup(&'static [&'static str]),
    /// `has_all_permissions(…)`: a `has_permission` node per permission, checked in order.
    HasAllPermissions(&'static [Node]),
    /// `has_any_permission(…)`: the permissions.
    HasAnyPermission(&'static [&'static str]),
    /// `all(…)`.
    All(&'static [Node]),
    /// `any(…)`.
    Any(&'static [Node]),
    /// `not(…)`.
    Not(&'static Node),
    /// A custom predicate: the rule's custom predicate with this number, from 0 in source
    /// order.
    Custom(u16),
}

/// How a node's denial is worded, resolved while compiling.
#[derive(Debug, PartialEq, Eq)]
pub enum Message {
    /// This text: a built-in's message (repoze.what's default, or its `msg`), and `not`'s.
    Fixed(&'static str),
    /// The message of the child that decided (`all`, `in_all_groups`, `has_all_permissions`),
    /// or the custom predicate's own.
    FromChild,
    /// The decision of the child (or the custom predicate), in this node's `msg`.
    Restated(&'static str),
    /// An `any`'s message: text and the messages of its unmet children.
    Any(&'static [MessagePiece]),
}

/// A piece of an `any`'s message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessagePiece {
    /// Literal text.
    Text(&'static str),
    /// `{failed_predicates}`: the messages of the unmet children, joined with `", "`.
    FailedPredicates,
}
