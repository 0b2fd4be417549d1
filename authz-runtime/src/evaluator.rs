//! The one evaluator: every rule, whether a handler's guard, an `#[allow_only]` module's, a
//! `predicate!` value or a router layer's, is decided here, by running the program compiled
//! from its static tree (see [`Step`](crate::rule::Step)).
//!
//! Deciding is synchronous: [`decide`] checks the leaves in the order of repoze.what's
//! short-circuits and reports what it would have to wait for (the user, the grants, a custom
//! predicate) instead of waiting. [`evaluate`] waits for that one thing, records it, and runs
//! again: the user and the grants are kept in the request's credentials and custom predicates'
//! verdicts in a table, so nothing is asked twice and a run costs a few comparisons. When
//! everything is at hand (a header authenticator, a cached lookup) the first run decides and
//! nothing is awaited.
//!
//! The allow path builds no message. Only an unmet rule is walked, by [`explain`], along its
//! tree, to word the denial and find the predicate that decided.

use std::cell::Cell;
use std::future::Future;

use axum::http::request::Parts;

use crate::credentials::{Cells, Credentials, RequestCredentials, Shareable};
use crate::grants::{KeyedName, same_name};
use crate::rule::{Check, Kind, MET, Message, MessagePiece, Node, Rule};
use crate::{Context, Denial, Error, Grants, Verdict};

/// The custom predicates of a rule, numbered from 0 in source order: what the macros generate
/// for a rule that calls any, and the only generated code a rule needs.
#[doc(hidden)]
pub trait Customs<S = ()>: Send + Sync {
    /// Where the evaluation keeps their verdicts: `[Option<Verdict>; N]`.
    type Verdicts: AsRef<[Option<Verdict>]> + AsMut<[Option<Verdict>]> + Send;

    /// No verdict yet.
    fn verdicts(&self) -> Self::Verdicts;

    /// Evaluates custom predicate `index`.
    fn evaluate(
        &self,
        index: u16,
        ctx: &mut Context<'_, S>,
    ) -> impl Future<Output = Result<Verdict, Error>> + Send;
}

/// The custom predicates of a rule of built-ins: none.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCustoms;

impl<S> Customs<S> for NoCustoms {
    type Verdicts = [Option<Verdict>; 0];

    fn verdicts(&self) -> Self::Verdicts {
        []
    }

    fn evaluate(
        &self,
        index: u16,
        _: &mut Context<'_, S>,
    ) -> impl Future<Output = Result<Verdict, Error>> + Send {
        // The macros never pair a rule that calls custom predicates with none: refuse.
        let _ = index;
        std::future::ready(Err(Error::configuration(
            "a rule that calls custom predicates was given none",
        )))
    }
}

/// What the evaluator needs before it can go on. Small, so that every node's answer is a
/// register: the error of a failure waits in [`Facts`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Need {
    /// Who the user is, which the authenticator cannot tell without waiting.
    User,
    /// The user's grants, which the store cannot tell without waiting.
    Grants,
    /// The verdict of custom predicate `index`.
    Custom(u16),
    /// The authenticator or the store failed: the rule cannot be decided. The error is the
    /// facts' ([`Facts::failure`]).
    Failed,
}

/// What a walk of the tree reads: the request, its credentials, and the custom predicates'
/// verdicts so far.
pub(crate) struct Facts<'a, C: Cells = Shareable> {
    parts: &'a Parts,
    credentials: &'a Credentials<C>,
    customs: &'a [Option<Verdict>],
    failure: Cell<Option<Error>>,
}

impl<'a, C: Cells> Facts<'a, C> {
    pub(crate) fn new(
        parts: &'a Parts,
        credentials: &'a Credentials<C>,
        customs: &'a [Option<Verdict>],
    ) -> Self {
        Self {
            parts,
            credentials,
            customs,
            failure: Cell::new(None),
        }
    }

    /// The failure that stopped a walk with [`Need::Failed`].
    pub(crate) fn failure(&self) -> Error {
        self.failure
            .take()
            .unwrap_or_else(|| Error::configuration("a rule's evaluation failed without a cause"))
    }

    /// The user. Once known (every leaf after the first, every request after the first of a
    /// cached user) it is one load, inline; finding it is the credentials' business, out of
    /// line.
    #[inline(always)]
    fn user(&self) -> Result<Option<&'a str>, Need> {
        match self.credentials.user_known() {
            Some(user) => Ok(user),
            None => self.find_user(),
        }
    }

    #[inline(never)]
    fn find_user(&self) -> Result<Option<&'a str>, Need> {
        match self.credentials.user_now(self.parts) {
            Some(Ok(user)) => Ok(user),
            Some(Err(error)) => Err(self.failed(error)),
            None => Err(Need::User),
        }
    }

    /// The grants, as [`user`](Self::user) the user.
    #[inline(always)]
    fn grants(&self) -> Result<&'a Grants, Need> {
        match self.credentials.grants_known() {
            Some(grants) => Ok(grants),
            None => self.find_grants(),
        }
    }

    #[inline(never)]
    fn find_grants(&self) -> Result<&'a Grants, Need> {
        match self.credentials.grants_now(self.parts) {
            Some(Ok(grants)) => Ok(grants),
            Some(Err(error)) => Err(self.failed(error)),
            None => Err(Need::Grants),
        }
    }

    #[cold]
    fn failed(&self, error: Error) -> Need {
        self.failure.set(Some(error));
        Need::Failed
    }

    fn custom(&self, index: u16) -> Result<&'a Verdict, Need> {
        match self.customs.get(usize::from(index)) {
            Some(Some(verdict)) => Ok(verdict),
            _ => Err(Need::Custom(index)),
        }
    }
}

/// Whether `rule` is met, as far as the facts tell without waiting.
///
/// The rule's program is run: each step checks a leaf and names the step that follows from
/// the answer, so that the tree's short-circuits cost nothing here and deciding is one loop.
/// The leaves are checked in the order the tree's walk checks them, which repoze.what's
/// semantics (and the lazy loading of the credentials) depend on.
pub(crate) fn decide<C: Cells>(rule: &Rule, facts: &Facts<'_, C>) -> Result<bool, Need> {
    let (mut at, steps) = rule.program();
    // The ends, `MET` and `UNMET`, are past every step.
    while let Some(step) = steps.get(usize::from(at)) {
        at = step.next(check(step.check(), facts)?);
    }
    Ok(at == MET)
}

/// Whether a step's check is met.
#[inline(always)]
fn check<C: Cells>(check: &Check, facts: &Facts<'_, C>) -> Result<bool, Need> {
    Ok(match *check {
        Check::NotAnonymous => facts.user()?.is_some(),
        Check::IsAnonymous => facts.user()?.is_none(),
        Check::IsUser(name) => facts.user()?.is_some_and(|user| same_name(user, name)),
        Check::InGroup(ref group) => facts.grants()?.in_group_keyed(group),
        Check::HasPermission(ref permission) => facts.grants()?.has_permission_keyed(permission),
        Check::Custom(index) => facts.custom(index)?.is_met(),
    })
}

/// Whether a leaf of the tree is met, for [`met`]: the [`check`]s of the steps the program
/// lays out for it, so that a leaf means the same in both. Combinators are [`met`]'s; here
/// they are unmet, which it never asks.
fn leaf<C: Cells>(kind: &Kind, facts: &Facts<'_, C>) -> Result<bool, Need> {
    let any = |names: &'static [&'static str], name: fn(KeyedName<'static>) -> Check| {
        for each in names {
            if check(&name(KeyedName::new(each)), facts)? {
                return Ok(true);
            }
        }
        Ok(false)
    };
    match *kind {
        Kind::NotAnonymous => check(&Check::NotAnonymous, facts),
        Kind::IsAnonymous => check(&Check::IsAnonymous, facts),
        Kind::IsUser(name) => check(&Check::IsUser(name), facts),
        Kind::InGroup(group) => check(&Check::InGroup(KeyedName::new(group)), facts),
        Kind::HasPermission(permission) => {
            check(&Check::HasPermission(KeyedName::new(permission)), facts)
        }
        Kind::InAnyGroup(groups) => any(groups, Check::InGroup),
        Kind::HasAnyPermission(permissions) => any(permissions, Check::HasPermission),
        Kind::Custom(index) => check(&Check::Custom(index), facts),
        Kind::All(_)
        | Kind::InAllGroups(_)
        | Kind::HasAllPermissions(_)
        | Kind::Any(_)
        | Kind::Not(_) => Ok(false),
    }
}

/// Whether `node`, a part of a rule that [`decide`] decided on the same facts, is met: what
/// [`explain`] asks of the parts of an unmet rule. It visits the nodes in the program's order
/// and stops where it stops, so every leaf it checks was checked already.
fn met<C: Cells>(node: &Node, facts: &Facts<'_, C>) -> Result<bool, Need> {
    Ok(match *node.kind() {
        Kind::All(children) | Kind::InAllGroups(children) | Kind::HasAllPermissions(children) => {
            for child in children {
                if !met(child, facts)? {
                    return Ok(false);
                }
            }
            true
        }
        Kind::Any(children) => {
            for child in children {
                if met(child, facts)? {
                    return Ok(true);
                }
            }
            false
        }
        Kind::Not(child) => !met(child, facts)?,
        ref kind => leaf(kind, facts)?,
    })
}

/// The denial of `node`, which [`decide`] (or [`met`]) found unmet on the same facts: its message, and the
/// predicate that decided. Nothing is asked again: every node it visits was decided already.
#[cold]
pub(crate) fn explain<C: Cells>(node: &'static Node, facts: &Facts<'_, C>) -> Denial {
    let denial = match node.kind() {
        Kind::All(children) | Kind::InAllGroups(children) | Kind::HasAllPermissions(children) => {
            let unmet = children
                .iter()
                .find(|child| matches!(met(child, facts), Ok(false)));
            match unmet {
                Some(child) => explain(child, facts),
                None => Denial::new(node.text()).decided(node),
            }
        }
        Kind::Any(children) => {
            Denial::new(any_message(node.message(), children, facts)).decided(node)
        }
        Kind::Custom(index) => match facts.custom(*index) {
            Ok(Verdict::Unmet(denial)) => denial.clone().decided(node),
            _ => Denial::new(node.text()).decided(node),
        },
        _ => match node.message() {
            Message::Fixed(message) => Denial::fixed(message, node),
            _ => Denial::new(node.text()).decided(node),
        },
    };
    match node.message() {
        Message::Restated(message) => denial.restated(message),
        _ => denial,
    }
}

/// An unmet `any`'s message: its pieces, with the messages of its children, all unmet, joined
/// with `", "` for `{failed_predicates}`.
fn any_message<C: Cells>(
    message: &Message,
    children: &'static [Node],
    facts: &Facts<'_, C>,
) -> String {
    let Message::Any(pieces) = message else {
        return String::new();
    };
    // The children are explained twice, to size the message and to write it, so that the
    // message is the denial's only allocation: a built-in's denial allocates nothing.
    let failed = || children.iter().map(|child| explain(child, facts));
    let failed_len: usize = if pieces.contains(&MessagePiece::FailedPredicates) {
        failed().map(|denial| denial.message().len() + 2).sum()
    } else {
        0
    };
    let length: usize = pieces
        .iter()
        .map(|piece| match piece {
            MessagePiece::Text(text) => text.len(),
            MessagePiece::FailedPredicates => failed_len,
        })
        .sum();
    let mut text = String::with_capacity(length);
    for piece in *pieces {
        match piece {
            MessagePiece::Text(piece) => text.push_str(piece),
            MessagePiece::FailedPredicates => {
                for (index, denial) in failed().enumerate() {
                    if index > 0 {
                        text.push_str(", ");
                    }
                    text.push_str(denial.message());
                }
            }
        }
    }
    text
}

/// Whether `rule`, which calls no custom predicate, is met without waiting. `false` when it is
/// unmet, would wait, or failed: [`evaluate`] tells those apart.
pub(crate) fn met_now(
    rule: &'static Rule,
    parts: &Parts,
    credentials: &RequestCredentials,
) -> bool {
    matches!(decide(rule, &Facts::new(parts, credentials, &[])), Ok(true))
}

/// Decides `rule` on the request `ctx`, waiting for what must be waited for.
pub(crate) async fn evaluate<C: Customs<S>, S>(
    rule: &'static Rule,
    customs: &C,
    ctx: &mut Context<'_, S>,
) -> Result<Verdict, Error> {
    let mut verdicts = customs.verdicts();
    loop {
        let need = {
            let facts = Facts::new(ctx.parts(), ctx.credentials(), verdicts.as_ref());
            match decide(rule, &facts) {
                Ok(true) => return Ok(Verdict::Met),
                Ok(false) => return Ok(Verdict::Unmet(explain(rule.root(), &facts))),
                Err(Need::Failed) => return Err(facts.failure()),
                Err(need) => need,
            }
        };
        match need {
            Need::User => {
                ctx.user().await?;
            }
            Need::Grants => {
                ctx.grants().await?;
            }
            Need::Custom(index) => {
                let verdict = customs.evaluate(index, ctx).await?;
                if let Some(slot) = verdicts.as_mut().get_mut(usize::from(index)) {
                    *slot = Some(verdict);
                } else {
                    return Err(Error::configuration(
                        "a rule's custom predicate has no place for its verdict",
                    ));
                }
            }
            Need::Failed => return Err(Error::configuration("a failure without a cause")),
        }
    }
}
