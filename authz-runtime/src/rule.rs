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

use crate::grants::KeyedName;

/// A compiled rule: the root of its predicate tree, what its evaluation reads, and the
/// program that decides it.
///
/// Rules live in statics that the macros write, and are used as `&'static Rule`. The type
/// parameter is how such a static holds its program inline, `Rule<[Step; N]>`, coerced to the
/// `Rule` (of `[Step]`) that everything else takes; no user writes it.
pub struct Rule<Steps: ?Sized = [Step]> {
    root: Node,
    reads: Reads,
    customs: u16,
    /// Where the program starts: a step, or [`MET`] / [`UNMET`] for a rule that needs none.
    entry: u16,
    steps: Steps,
}

impl Rule {
    /// For the macros: the rule whose tree is `root`, a tree of `N` leaf checks (the members
    /// of `in_all_groups` and `has_all_permissions` counting one each). What it reads, how
    /// many custom predicates it calls and the program are worked out here, while compiling,
    /// rather than written out.
    #[doc(hidden)]
    pub const fn __new<const N: usize>(root: Node) -> Rule<[Step; N]> {
        let (entry, steps) = program::<N>(&root);
        Rule {
            reads: reads_of(&root),
            customs: customs_in(&root),
            entry,
            steps,
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

impl Rule {
    /// The program: its first step, and the steps.
    pub(crate) fn program(&self) -> (u16, &[Step]) {
        (self.entry, &self.steps)
    }
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The program follows from the tree.
        f.debug_struct("Rule")
            .field("root", &self.root)
            .field("reads", &self.reads)
            .field("customs", &self.customs)
            .finish_non_exhaustive()
    }
}

/// Where a step goes once its check is met, or unmet: the next step, or one of these two ends.
pub(crate) const MET: u16 = u16::MAX;
/// The end of a program whose rule is unmet.
pub(crate) const UNMET: u16 = u16::MAX - 1;

/// One step of a rule's program: a check of a leaf predicate, and where to go on each answer.
///
/// A rule is decided by running its program rather than by walking its tree: the tree's
/// short-circuits (`all` stops at its first unmet child, `any` at its first met one, `not`
/// swaps the two) are worked out while compiling into the steps' next steps, so that deciding
/// is a loop over leaf checks, in the order the tree would check them, with no recursion. The
/// names of `in_any_group` and `has_any_permission` are a step each, like the members of
/// `in_all_groups` and `has_all_permissions`, and each name comes with its lookup key.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    check: Check,
    met: u16,
    unmet: u16,
}

/// What a [`Step`] checks: a leaf of the tree, one name at a time.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Check {
    NotAnonymous,
    IsAnonymous,
    IsUser(&'static str),
    InGroup(KeyedName<'static>),
    HasPermission(KeyedName<'static>),
    Custom(u16),
}

impl Step {
    const UNUSED: Step = Step {
        check: Check::NotAnonymous,
        met: UNMET,
        unmet: UNMET,
    };

    /// What it checks.
    #[inline(always)]
    pub(crate) fn check(&self) -> &Check {
        &self.check
    }

    /// The step that follows, given the check's answer.
    #[inline(always)]
    pub(crate) fn next(&self, met: bool) -> u16 {
        if met { self.met } else { self.unmet }
    }
}

/// The steps of the tree `root`: `N` of them, one per leaf check, and the first to run.
const fn program<const N: usize>(root: &Node) -> (u16, [Step; N]) {
    assert!(N < UNMET as usize, "a rule has too many predicates");
    let mut program = Program {
        steps: [Step::UNUSED; N],
        free: N,
    };
    let entry = program.lay_out(root, MET, UNMET);
    assert!(
        program.free == 0,
        "a rule's program has room for another number of leaves"
    );
    (entry, program.steps)
}

/// A program being laid out: from the end, last leaf first, so that every step knows the
/// steps after it; the first leaf to check lands at 0.
struct Program<const N: usize> {
    steps: [Step; N],
    /// The steps from here on are laid out.
    free: usize,
}

impl<const N: usize> Program<N> {
    /// Lays out `node`, which goes on to `met` or `unmet`; its first step.
    const fn lay_out(&mut self, node: &Node, met: u16, unmet: u16) -> u16 {
        match node.kind {
            // Each child but the last goes on to the next one when met; an unmet one ends it.
            Kind::All(children)
            | Kind::InAllGroups(children)
            | Kind::HasAllPermissions(children) => {
                let mut next = met;
                let mut index = children.len();
                while index > 0 {
                    index -= 1;
                    next = self.lay_out(&children[index], next, unmet);
                }
                next
            }
            // Each child but the last goes on to the next one when unmet.
            Kind::Any(children) => {
                let mut next = unmet;
                let mut index = children.len();
                while index > 0 {
                    index -= 1;
                    next = self.lay_out(&children[index], met, next);
                }
                next
            }
            Kind::Not(child) => self.lay_out(child, unmet, met),
            Kind::InAnyGroup(names) | Kind::HasAnyPermission(names) => {
                let group = matches!(node.kind, Kind::InAnyGroup(_));
                let mut next = unmet;
                let mut index = names.len();
                while index > 0 {
                    index -= 1;
                    let name = KeyedName::new(names[index]);
                    let check = if group {
                        Check::InGroup(name)
                    } else {
                        Check::HasPermission(name)
                    };
                    next = self.push(check, met, next);
                }
                next
            }
            Kind::NotAnonymous => self.push(Check::NotAnonymous, met, unmet),
            Kind::IsAnonymous => self.push(Check::IsAnonymous, met, unmet),
            Kind::IsUser(name) => self.push(Check::IsUser(name), met, unmet),
            Kind::InGroup(name) => self.push(Check::InGroup(KeyedName::new(name)), met, unmet),
            Kind::HasPermission(name) => {
                self.push(Check::HasPermission(KeyedName::new(name)), met, unmet)
            }
            Kind::Custom(index) => self.push(Check::Custom(index), met, unmet),
        }
    }

    /// Lays out one step before the others; its place.
    const fn push(&mut self, check: Check, met: u16, unmet: u16) -> u16 {
        assert!(
            self.free > 0,
            "a rule has more leaves than its program has room for"
        );
        self.free -= 1;
        self.steps[self.free] = Step { check, met, unmet };
        self.free as u16
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::predicate;

    /// A program as its first step and, in order, each step's check and where it goes when
    /// met and when unmet (`MET` / `UNMET` for the ends).
    fn layout(rule: &Rule) -> (String, Vec<(String, String, String)>) {
        let place = |at: u16| match at {
            MET => "MET".to_owned(),
            UNMET => "UNMET".to_owned(),
            at => at.to_string(),
        };
        let (entry, steps) = rule.program();
        let steps = steps
            .iter()
            .map(|step| {
                let check = match step.check() {
                    Check::NotAnonymous => "not_anonymous".to_owned(),
                    Check::IsAnonymous => "is_anonymous".to_owned(),
                    Check::IsUser(name) => format!("is_user {name}"),
                    Check::InGroup(name) => format!("in_group {}", name.text()),
                    Check::HasPermission(name) => format!("has_permission {}", name.text()),
                    Check::Custom(index) => format!("custom {index}"),
                };
                (check, place(step.next(true)), place(step.next(false)))
            })
            .collect();
        (place(entry), steps)
    }

    fn step(check: &str, met: &str, unmet: &str) -> (String, String, String) {
        (check.to_owned(), met.to_owned(), unmet.to_owned())
    }

    #[test]
    fn a_program_checks_the_leaves_in_the_trees_order_and_short_circuits_as_it_does() {
        let rule = predicate!(all(
            not_anonymous(),
            any(is_user("root"), in_any_group("admins", "staff")),
            not(has_permission("banned")),
        ));
        assert_eq!(
            layout(rule.rule()),
            (
                "0".to_owned(),
                vec![
                    // `all`: an unmet child ends it, a met one goes on.
                    step("not_anonymous", "1", "UNMET"),
                    // `any`: a met child skips the rest of it, an unmet one goes on.
                    step("is_user root", "4", "2"),
                    step("in_group admins", "4", "3"),
                    step("in_group staff", "4", "UNMET"),
                    // `not` swaps where its child goes.
                    step("has_permission banned", "UNMET", "MET"),
                ]
            )
        );
    }

    #[test]
    fn list_members_are_a_step_each() {
        let rule = predicate!(any(
            in_all_groups("a", "b"),
            has_any_permission("p", "q"),
            has_all_permissions("r"),
        ));
        assert_eq!(
            layout(rule.rule()).1,
            [
                step("in_group a", "1", "2"),
                step("in_group b", "MET", "2"),
                step("has_permission p", "MET", "3"),
                step("has_permission q", "MET", "4"),
                step("has_permission r", "MET", "UNMET"),
            ]
        );
    }

    #[test]
    fn a_rule_of_one_leaf_is_one_step_and_a_rule_of_none_needs_no_step() {
        assert_eq!(
            layout(predicate!(has_permission("manage")).rule()),
            (
                "0".to_owned(),
                vec![step("has_permission manage", "MET", "UNMET")]
            )
        );
        // `not(any())`: the placeholder of a `predicate!` that failed to compile.
        assert_eq!(layout(&crate::__private::NEVER), ("MET".to_owned(), vec![]));
    }
}
