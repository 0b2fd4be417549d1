//! A compiled rule as a value: what `predicate!` returns, and what a guard decides.

use std::borrow::Cow;
use std::future::Future;

use crate::evaluator::{self, Customs, NoCustoms};
use crate::rule::Rule;
use crate::{Context, Error, Predicate, Verdict};

/// A rule that `predicate!` compiled, with the values of its custom predicates: a
/// [`Predicate`] that the one evaluator decides, for a [`RequireLayer`](crate::RequireLayer),
/// a test, or a check of your own.
///
/// ```
/// use authz_runtime::predicate;
///
/// let rule = predicate!(any(is_user("root"), has_permission("manage")), msg = "Admins only");
/// assert_eq!(rule.rule().text(), r#"any(is_user("root"), has_permission("manage"))"#);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Compiled<C = NoCustoms> {
    rule: &'static Rule,
    customs: C,
}

impl<C> Compiled<C> {
    /// For the macros: `rule`, with the values of its custom predicates.
    #[doc(hidden)]
    pub const fn __new(rule: &'static Rule, customs: C) -> Self {
        Self { rule, customs }
    }

    /// The rule: its tree, its text, what it reads.
    pub fn rule(&self) -> &'static Rule {
        self.rule
    }
}

/// A predicate that reads no state, in a rule whose other predicates read one: it is decided
/// on the request without the state. What the macros wrap such a predicate in.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Stateless<P>(pub P);

#[diagnostic::do_not_recommend]
impl<P: Predicate, S: Sync> Predicate<S> for Stateless<P> {
    async fn evaluate(&self, ctx: &mut Context<'_, S>) -> Result<Verdict, Error> {
        self.0.evaluate(&mut ctx.stateless()).await
    }

    fn describe(&self) -> Cow<'static, str> {
        self.0.describe()
    }
}

// Not offered by rustc as "the trait is implemented for `Compiled<C>`" when a custom
// predicate is not one: the user meant their own type.
#[diagnostic::do_not_recommend]
impl<C: Customs<S>, S: Sync> Predicate<S> for Compiled<C> {
    fn evaluate(
        &self,
        ctx: &mut Context<'_, S>,
    ) -> impl Future<Output = Result<Verdict, Error>> + Send {
        // A rule of built-ins met on credentials at hand is let through here, so that its
        // future holds only that: the evaluator's state machine is for what must wait, and
        // for a denial or a failure, which it finds again and words.
        let met = self.rule.custom_predicates() == 0
            && evaluator::met_now(self.rule, ctx.parts(), ctx.credentials());
        async move {
            if met {
                Ok(Verdict::Met)
            } else {
                evaluator::evaluate(self.rule, &self.customs, ctx).await
            }
        }
    }

    fn describe(&self) -> Cow<'static, str> {
        Cow::Borrowed(self.rule.text())
    }
}
