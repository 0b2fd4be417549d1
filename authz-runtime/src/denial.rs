//! Turning an unmet predicate or an error into a response: 401 for anonymous users, 403 for
//! signed-in ones, 503 when the check could not be made; JSON for API clients, plain text
//! otherwise.

use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::guard::GuardSite;
use crate::{Denial, Error};

/// What a client asked for in `Accept`, as far as denials care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wants {
    Json,
    Text,
}

/// JSON when the client prefers `application/json` (or any `+json` type) to HTML and plain
/// text; also when it names no preference but sent JSON itself.
pub(crate) fn negotiate(headers: &HeaderMap) -> Wants {
    let mut json = 0.0f32;
    let mut text = 0.0f32;
    let mut any_accept = false;
    for value in headers.get_all(ACCEPT) {
        let Ok(value) = value.to_str() else { continue };
        for range in value.split(',') {
            let mut params = range.split(';');
            let media = params
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            let quality = params
                .filter_map(|param| param.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if media.is_empty() {
                continue;
            }
            any_accept |= media != "*/*";
            if media == "application/json" || media.ends_with("+json") {
                json = json.max(quality);
            } else if media.starts_with("text/") || media == "application/xhtml+xml" {
                text = text.max(quality);
            }
        }
    }
    if json > 0.0 && json >= text {
        return Wants::Json;
    }
    let sent_json = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim_start().starts_with("application/json"));
    if !any_accept && sent_json {
        Wants::Json
    } else {
        Wants::Text
    }
}

/// The response for an unmet predicate: 401 when nobody is signed in, 403 otherwise.
pub(crate) fn deny(
    parts: &Parts,
    user: Option<&str>,
    denial: &Denial,
    site: &GuardSite<'_>,
) -> Response {
    let status = if user.is_some() {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::UNAUTHORIZED
    };
    tracing::info!(
        target: "authz",
        handler = site.handler,
        rule = site.rule,
        decided_by = denial.decided_by(),
        user = user.unwrap_or("<anonymous>"),
        status = status.as_u16(),
        method = %parts.method,
        path = parts.uri.path(),
        "access denied: {}",
        denial.message(),
    );
    respond(&parts.headers, status, denial.message())
}

/// The response when the check itself failed: 503 with a generic body; the cause goes to the
/// log only.
pub(crate) fn unavailable(parts: &Parts, error: &Error, handler: &str) -> Response {
    tracing::error!(
        target: "authz",
        handler,
        kind = ?error.kind(),
        method = %parts.method,
        path = parts.uri.path(),
        "access could not be checked, request refused: {error}",
    );
    respond(
        &parts.headers,
        StatusCode::SERVICE_UNAVAILABLE,
        "Access could not be checked; please try again later",
    )
}

/// A denial body in the form the client wants.
pub(crate) fn respond(headers: &HeaderMap, status: StatusCode, detail: &str) -> Response {
    match negotiate(headers) {
        Wants::Json => {
            let body = serde_json::json!({ "status": status.as_u16(), "detail": detail });
            (
                status,
                [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
                body.to_string(),
            )
                .into_response()
        }
        Wants::Text => (
            status,
            [(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            )],
            detail.to_owned(),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wants(accept: &[&str], content_type: Option<&str>) -> Wants {
        let mut headers = HeaderMap::new();
        for value in accept {
            headers.append(ACCEPT, value.parse().unwrap());
        }
        if let Some(value) = content_type {
            headers.insert(CONTENT_TYPE, value.parse().unwrap());
        }
        negotiate(&headers)
    }

    #[test]
    fn browsers_get_text_and_api_clients_json() {
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert_eq!(wants(&[browser], None), Wants::Text);
        assert_eq!(wants(&["application/json"], None), Wants::Json);
        assert_eq!(wants(&["application/problem+json"], None), Wants::Json);
        assert_eq!(
            wants(&["text/html;q=0.5, application/json"], None),
            Wants::Json
        );
        assert_eq!(
            wants(&["application/json;q=0.2, text/html"], None),
            Wants::Text
        );
        assert_eq!(wants(&[], None), Wants::Text);
        assert_eq!(wants(&["*/*"], None), Wants::Text);
    }

    #[test]
    fn a_json_request_without_preference_gets_json() {
        assert_eq!(wants(&[], Some("application/json")), Wants::Json);
        assert_eq!(wants(&["*/*"], Some("application/json")), Wants::Json);
        assert_eq!(wants(&["text/html"], Some("application/json")), Wants::Text);
    }
}
