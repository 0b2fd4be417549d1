//! The admin side: only the `admin` group, but for its sign-in page.

use authz_runtime::{Context, Error, Predicate, Verdict, allow_only, public, require};
use axum::extract::Path;

pub(crate) struct Admin;

#[allow_only(in_group("admin"))]
impl Admin {
    pub(crate) async fn home() -> &'static str {
        "admin home"
    }

    /// The sign-in page: behind the guard, a visitor sent to sign in would be sent again.
    #[public]
    pub(crate) async fn login() -> &'static str {
        "admin sign-in"
    }

    #[require(
        has_permission("manage_users"),
        msg = "Only user managers can see the users"
    )]
    pub(crate) async fn users() -> &'static str {
        "the users"
    }

    #[require(even_entry())]
    pub(crate) async fn audit(Path(id): Path<u32>) -> String {
        format!("audit entry {id}")
    }

    /// Not a handler: a helper the handlers could call, left alone.
    pub(crate) fn title() -> &'static str {
        "Admin"
    }
}

/// A custom predicate of the path: only even audit entries may be read.
pub(crate) struct EvenEntry;

pub(crate) fn even_entry() -> EvenEntry {
    EvenEntry
}

impl Predicate for EvenEntry {
    async fn evaluate(&self, ctx: &mut Context<'_>) -> Result<Verdict, Error> {
        let Ok(Path(id)) = ctx.extract::<Path<u32>>().await else {
            return Ok(Verdict::unmet("The audit entry must exist"));
        };
        Ok(Verdict::met_if(
            id % 2 == 0,
            "Only even audit entries can be read",
        ))
    }
}
