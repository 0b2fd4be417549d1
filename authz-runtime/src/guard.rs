//! The check that every guard runs: find the request's credentials, evaluate, answer.

use axum::http::request::Parts;
use axum::response::Response;

use crate::context::ContextNow;
use crate::credentials::RequestCredentials;
use crate::predicate::Reads;
use crate::{Context, Predicate, Verdict, denial};

/// Where a guard comes from, for logs: the handler, which attribute, and the rule as written.
#[derive(Debug, Clone, Copy)]
pub struct GuardSite<'a> {
    /// The handler's path, e.g. `blog::remove_post`, or a name for a router-level guard.
    pub handler: &'a str,
    /// `require`, `allow_only`, or `layer`.
    pub attribute: &'a str,
    /// The predicate as written, without its `msg`.
    pub rule: &'a str,
    /// The attribute's `msg`, if it has one.
    pub message: Option<&'a str>,
    /// Where the guard runs among the handler's guards, from 0.
    pub position: u32,
    /// The source file of the attribute.
    pub file: &'a str,
    /// The line of the handler's name.
    pub line: u32,
}

/// Decides one request without waiting when the predicate can (a rule of built-ins whose
/// credentials are at hand): `Some(Ok(()))` lets it through, `Some(Err(…))` refuses it after a
/// failure; `None` leaves it to [`check`], including every denial, whose message `check`
/// writes.
pub(crate) fn check_now<P>(
    parts: &mut Parts,
    predicate: &P,
    site: &GuardSite<'_>,
) -> Option<Result<(), Response>>
where
    P: Predicate + ?Sized,
{
    // Borrowed, not counted: this path runs on every request a guard lets through.
    let decided = match predicate.reads() {
        Reads::Nothing => {
            let credentials = parts.extensions.get::<RequestCredentials>()?;
            predicate.met_now(&ContextNow::new(Some(parts), credentials))
        }
        reads => match RequestCredentials::learn_now(parts, reads == Reads::Grants) {
            Ok(ctx) => predicate.met_now(&ctx?),
            Err(error) => return Some(Err(denial::unavailable(parts, &error, site.handler))),
        },
    }?;
    match decided {
        Ok(true) => Some(Ok(())),
        Ok(false) => None,
        Err(error) => Some(Err(denial::unavailable(parts, &error, site.handler))),
    }
}

/// Decides one request: `Ok(())` lets it through; otherwise the response to send instead.
/// Errors, including a missing [`AuthzLayer`](crate::AuthzLayer), refuse the request.
pub(crate) async fn check<P>(
    parts: &mut Parts,
    predicate: &P,
    site: &GuardSite<'_>,
) -> Result<(), Response>
where
    P: Predicate + ?Sized,
{
    let credentials = match RequestCredentials::from_parts(parts) {
        Ok(credentials) => credentials,
        Err(error) => return Err(denial::unavailable(parts, &error, site.handler)),
    };
    let verdict = predicate
        .evaluate(&mut Context::new(parts, &credentials))
        .await;
    let denial = match verdict {
        Ok(Verdict::Met) => return Ok(()),
        Ok(Verdict::Unmet(denial)) => denial,
        Err(error) => return Err(denial::unavailable(parts, &error, site.handler)),
    };
    // A custom predicate may have decided without asking who the user is; 401 or 403 needs it.
    match credentials.user(parts).await {
        Ok(user) => Err(denial::deny(
            parts,
            user,
            &denial,
            site,
            credentials.denials(),
        )),
        Err(error) => Err(denial::unavailable(parts, &error, site.handler)),
    }
}
