//! What the application's own denial response is given: the refused request, who it was, why.

use std::fmt;

use axum::http::StatusCode;
use axum::http::request::Parts;

use crate::rule::{Node, Rule};

/// What a client asked for in `Accept`, as far as denials care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wants {
    /// `application/json` (or a `+json` type) preferred: an API client.
    Json,
    /// `text/html` preferred: a browser.
    Html,
    /// Anything else: plain text.
    Text,
}

/// A request that was refused, as the application's own denial response sees it.
///
/// Like the request Pyramid gives its forbidden view, it carries the refused request itself
/// ([`request`](Denied::request): method, URI, headers and extensions, without the body), so
/// that the application's page can be built as its other pages are: with the CSRF token a
/// middleware put in the extensions, a session, a cookie, the language the client asked for.
///
/// Its `Debug` output names the request's headers but leaves out their values, which hold
/// cookies and tokens.
#[derive(Clone)]
pub struct Denied {
    /// 401 (nobody signed in) or 403 (signed in, not allowed).
    pub status: StatusCode,
    /// The signed-in user, for a 403.
    pub user: Option<String>,
    /// The predicate's message. Plain text: escape it to put it into HTML (messages may
    /// contain `<`, `&` and quotes).
    pub message: String,
    /// What the client asked for.
    pub wants: Wants,
    /// The refused request's path and query, for `came_from`.
    pub came_from: String,
    /// Where a browser is sent to sign in (`login?came_from=…`), when a login URL is set.
    pub login_redirect: Option<String>,
    /// The refused request, without its body: its method, URI, headers (cookies included)
    /// and extensions (what the layers outside the guard put there).
    pub request: Parts,
    /// The rule that refused, when it was compiled by the macros (a guard, `predicate!`).
    pub rule: Option<&'static Rule>,
    /// The predicate of the rule that decided, e.g. `in_group("admins")` in
    /// `all(not_anonymous(), in_group("admins"))`: the leaf that was unmet, or the `any` or
    /// `not` whose condition failed. `None` for a predicate that is not a compiled rule.
    pub decided_by: Option<&'static Node>,
}

impl fmt::Debug for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        /// The request line and header names only: values hold secrets.
        struct Request<'a>(&'a Parts);
        impl fmt::Debug for Request<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct("Parts")
                    .field("method", &self.0.method)
                    .field("uri", &self.0.uri)
                    .field("version", &self.0.version)
                    .field("headers", &self.0.headers.keys().collect::<Vec<_>>())
                    .finish_non_exhaustive()
            }
        }
        f.debug_struct("Denied")
            .field("status", &self.status)
            .field("user", &self.user)
            .field("message", &self.message)
            .field("wants", &self.wants)
            .field("came_from", &self.came_from)
            .field("login_redirect", &self.login_redirect)
            .field("request", &Request(&self.request))
            .field("rule", &self.rule.map(Rule::text))
            .field("decided_by", &self.decided_by.map(Node::text))
            .finish()
    }
}
