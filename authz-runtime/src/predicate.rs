//! The predicate trait, for custom predicates, and what a predicate decides.

use std::borrow::Cow;
use std::future::Future;

use crate::rule::Node;
use crate::{Context, Error};

/// A condition on the request, such as the seed's "the current month must be July".
///
/// The built-in predicates and the combinators are compiled by the macros; implement this
/// trait for your own, and call them inside an attribute like any built-in:
/// `#[require(all(is_month(7), has_permission("travel")))]`. The attribute's arguments are
/// ordinary Rust expressions, type-checked by rustc where you wrote them.
///
/// A predicate may be synchronous in all but name, or await anything: read the request's path
/// parameters or headers through the [`Context`], query a database. An error it returns refuses
/// the request with 503; it never grants.
///
/// ```
/// use authz_runtime::{Context, Error, Predicate, Verdict};
///
/// /// Check that the current month is the specified one.
/// pub struct IsMonth(pub u32);
///
/// pub fn is_month(month: u32) -> IsMonth {
///     IsMonth(month)
/// }
///
/// impl Predicate for IsMonth {
///     async fn evaluate(&self, _ctx: &mut Context<'_>) -> Result<Verdict, Error> {
///         let current = 7; // a real one reads a clock
///         Ok(Verdict::met_if(
///             current == self.0,
///             format!("The current month must be {}", self.0),
///         ))
///     }
/// }
/// ```
///
/// # Reading the app's state
///
/// A predicate that needs the app's state (a database pool, a clock, settings) implements
/// `Predicate<S>` for that state, reads it with [`Context::state`] (or
/// `ctx.extract::<State<S>>()`), and the attribute that calls it says so with `state = S`.
/// The guard then takes `S` from the router's state through axum's `FromRef`, as axum's own
/// extractors do: a router whose state gives no `S` does not compile, and a rule without
/// `state = S` that calls it is a compile error under the call. A predicate of no state
/// (`Predicate`, that is `Predicate<()>`) goes in any rule, with a state or without.
///
/// ```
/// use authz_runtime::{Context, Error, Predicate, Verdict, require};
/// use axum::extract::{FromRef, Path};
///
/// #[derive(Clone)]
/// struct AppState {
///     db: Db,
/// }
///
/// /// The posts' database (a pool, in a real app).
/// #[derive(Clone)]
/// struct Db;
///
/// impl Db {
///     async fn author_of(&self, post: u64) -> Option<String> {
///         Some(if post == 1 { "rms" } else { "linus" }.to_owned())
///     }
/// }
///
/// impl FromRef<AppState> for Db {
///     fn from_ref(state: &AppState) -> Self {
///         state.db.clone()
///     }
/// }
///
/// /// Only the author of the post in the path.
/// struct IsAuthor;
///
/// fn is_author() -> IsAuthor {
///     IsAuthor
/// }
///
/// impl Predicate<Db> for IsAuthor {
///     async fn evaluate(&self, ctx: &mut Context<'_, Db>) -> Result<Verdict, Error> {
///         let Ok(Path(id)) = ctx.extract::<Path<u64>>().await else {
///             return Ok(Verdict::unmet("The post must exist"));
///         };
///         let author = ctx.state().author_of(id).await;
///         let user = ctx.user().await?;
///         Ok(Verdict::met_if(
///             author.as_deref().is_some_and(|author| Some(author) == user),
///             format!("Only the author of post {id} can edit it"),
///         ))
///     }
/// }
///
/// #[require(any(is_author(), has_permission("manage")), state = Db)]
/// async fn edit(Path(id): Path<u64>) -> String {
///     format!("editing post {id}")
/// }
///
/// let app: axum::Router = axum::Router::new()
///     .route("/posts/{id}/edit", authz_runtime::routing::get(edit))
///     .with_state(AppState { db: Db });
/// ```
///
/// Messages follow repoze.what's advice: describe the condition ("The current month must be
/// 7"), not the failure, because they also go to logs.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an authz predicate",
    label = "this must be a value of a type that implements `authz_runtime::Predicate`",
    note = "custom predicates are calls returning a value whose type implements `authz_runtime::Predicate`"
)]
pub trait Predicate<S = ()>: Send + Sync {
    /// Decides the request. Return [`Verdict::Met`] to let it through, [`Verdict::Unmet`] with
    /// a message to deny it, or an error when the predicate cannot tell.
    fn evaluate(
        &self,
        ctx: &mut Context<'_, S>,
    ) -> impl Future<Output = Result<Verdict, Error>> + Send;

    /// The predicate as written, for logs. Compiled predicates return their source text.
    fn describe(&self) -> Cow<'static, str> {
        Cow::Borrowed(std::any::type_name::<Self>())
    }
}

/// What a predicate decided.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Verdict {
    /// The condition holds.
    Met,
    /// The condition does not hold, and why.
    Unmet(Denial),
}

impl Verdict {
    /// Unmet, with `message` describing the condition.
    pub fn unmet(message: impl Into<Cow<'static, str>>) -> Self {
        Verdict::Unmet(Denial::new(message))
    }

    /// Met when `met` holds, else unmet with `message`.
    ///
    /// ```
    /// use authz_runtime::Verdict;
    ///
    /// assert_eq!(Verdict::met_if(true, "never shown"), Verdict::Met);
    /// assert!(!Verdict::met_if(false, "The current month must be 7").is_met());
    /// ```
    pub fn met_if(met: bool, message: impl Into<Cow<'static, str>>) -> Self {
        if met {
            Verdict::Met
        } else {
            Verdict::unmet(message)
        }
    }

    /// Whether the condition holds.
    pub fn is_met(&self) -> bool {
        matches!(self, Verdict::Met)
    }
}

/// Why a predicate is unmet: the message shown to the user and logged, and which predicate of
/// the rule decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    message: Cow<'static, str>,
    node: Option<&'static Node>,
}

impl Denial {
    /// A denial with `message`.
    pub fn new(message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            message: message.into(),
            node: None,
        }
    }

    /// The message: repoze.what's default for a built-in, or the predicate's `msg`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The predicate that decided, as written (`has_permission("manage")`); empty for a
    /// denial no compiled rule made.
    pub fn decided_by(&self) -> &str {
        self.node.map_or("", Node::text)
    }

    /// The node of the rule that decided: the unmet leaf, the member of an `in_all_groups`
    /// or `has_all_permissions`, the custom predicate, or the `any` or `not` whose condition
    /// failed.
    pub fn node(&self) -> Option<&'static Node> {
        self.node
    }

    pub(crate) fn decided(mut self, node: &'static Node) -> Self {
        self.node = Some(node);
        self
    }

    pub(crate) fn restated(mut self, message: &'static str) -> Self {
        self.message = Cow::Borrowed(message);
        self
    }

    pub(crate) fn fixed(message: &'static str, node: &'static Node) -> Self {
        Self {
            message: Cow::Borrowed(message),
            node: Some(node),
        }
    }
}
