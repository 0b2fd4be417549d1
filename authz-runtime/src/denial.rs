//! Turning an unmet predicate or an error into a response: 401 for anonymous users, 403 for
//! signed-in ones, 503 when the check could not be made. Browsers are sent to sign in when a
//! login URL is set; JSON clients get JSON and never a redirect; the application may answer
//! itself (Pyramid's forbidden view).

use axum::http::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use crate::credentials::RequestCredentials;
use crate::denied::{Denied, Wants};
use crate::guard::Origin;
use crate::settings::Denials;
use crate::{Denial, Error};

/// The longest `came_from` carried to the sign-in page and back, in bytes. A page's path and
/// query is far shorter; a longer one is dropped rather than copied into a `Location` header
/// or the sign-in form, so that a crafted link cannot make the answers to it as large as the
/// link.
pub(crate) const MAX_CAME_FROM_LEN: usize = 2048;

/// JSON when the client prefers `application/json` (or any `+json` type) to HTML and plain
/// text; also when it names no preference but sent JSON itself. HTML when it prefers
/// `text/html`.
pub(crate) fn negotiate(headers: &HeaderMap) -> Wants {
    let mut json = 0.0f32;
    let mut html = 0.0f32;
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
            } else if media == "text/html" || media == "application/xhtml+xml" {
                html = html.max(quality);
            } else if media.starts_with("text/") {
                text = text.max(quality);
            }
        }
    }
    if json > 0.0 && json >= html && json >= text {
        return Wants::Json;
    }
    if html > 0.0 && html >= text {
        return Wants::Html;
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

/// The response for an unmet predicate: 401 when nobody is signed in, 403 otherwise. The
/// denial is logged with the handler, the user, the rule and the predicate that decided.
pub(crate) fn deny(
    parts: &Parts,
    user: Option<&str>,
    denial: &Denial,
    origin: &Origin<'_>,
    denials: &Denials,
) -> Response {
    let status = if user.is_some() {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::UNAUTHORIZED
    };
    tracing::info!(
        target: "authz",
        handler = origin.handler,
        rule = origin.rule_text,
        decided_by = denial.decided_by(),
        user = user.unwrap_or("<anonymous>"),
        status = status.as_u16(),
        method = %parts.method,
        path = parts.uri.path(),
        "access denied: {}",
        denial.message(),
    );
    let wants = if denials.json_only {
        Wants::Json
    } else {
        negotiate(&parts.headers)
    };
    let came_from = parts.uri.path_and_query().map_or_else(
        || parts.uri.path().to_owned(),
        |path| path.as_str().to_owned(),
    );
    // A path longer than any page's is not copied into `Location`: the user signs in and
    // starts from the home page.
    let too_long = came_from.len() > MAX_CAME_FROM_LEN;
    let came_from = if too_long { "/".to_owned() } else { came_from };
    let login_redirect = denials.login_url.as_ref().map(|login| {
        if too_long {
            return login.clone();
        }
        let separator = if login.contains('?') { '&' } else { '?' };
        let came_from = utf8_percent_encode(&came_from, NON_ALPHANUMERIC);
        format!("{login}{separator}came_from={came_from}")
    });
    let denied = Denied {
        status,
        user: user.map(str::to_owned),
        message: denial.message().to_owned(),
        wants,
        came_from,
        login_redirect,
        request: parts.clone(),
        rule: origin.rule,
        decided_by: denial.node(),
    };
    if let Some(response) = denials
        .responder
        .as_ref()
        .and_then(|respond| respond(&denied))
    {
        return response;
    }
    default_response(&denied)
}

/// Without the application's own response: browsers that are anonymous go to sign in (303
/// See Other) when a login URL is set; everyone else gets the message in the form they asked
/// for.
pub fn default_response(denied: &Denied) -> Response {
    if let (Wants::Html, StatusCode::UNAUTHORIZED, Some(login)) =
        (denied.wants, denied.status, &denied.login_redirect)
        && let Ok(location) = HeaderValue::from_str(login)
    {
        return (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response();
    }
    respond(denied.wants, denied.status, &denied.message)
}

/// The response when the check itself failed: 503 with a generic body; the cause goes to the
/// log only. JSON for clients that want it, and always under
/// [`with_json_denials`](crate::AuthzLayer::with_json_denials).
pub(crate) fn unavailable(parts: &Parts, error: &Error, handler: &str) -> Response {
    tracing::error!(
        target: "authz",
        handler,
        kind = ?error.kind(),
        method = %parts.method,
        path = parts.uri.path(),
        "access could not be checked, request refused: {error}",
    );
    // Without the layer (the error may be its absence) the client's `Accept` decides.
    let json_only = parts
        .extensions
        .get::<RequestCredentials>()
        .is_some_and(|credentials| credentials.denials().json_only);
    let wants = if json_only {
        Wants::Json
    } else {
        negotiate(&parts.headers)
    };
    respond(
        wants,
        StatusCode::SERVICE_UNAVAILABLE,
        "Access could not be checked; please try again later",
    )
}

/// A denial body in the form the client wants.
pub(crate) fn respond(wants: Wants, status: StatusCode, detail: &str) -> Response {
    let (content_type, body) = match wants {
        Wants::Json => (
            "application/json",
            serde_json::json!({ "status": status.as_u16(), "detail": detail }).to_string(),
        ),
        Wants::Html => {
            let title = status.canonical_reason().unwrap_or("Denied");
            (
                "text/html; charset=utf-8",
                format!(
                    "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{} {title}</title>\
                     </head><body><h1>{title}</h1><p>{}</p></body></html>\n",
                    status.as_u16(),
                    escape_html(detail)
                ),
            )
        }
        Wants::Text => ("text/plain; charset=utf-8", detail.to_owned()),
    };
    (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

/// `text` safe to place in HTML.
pub(crate) fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
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
    fn browsers_get_html_and_api_clients_json() {
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert_eq!(wants(&[browser], None), Wants::Html);
        assert_eq!(wants(&["application/json"], None), Wants::Json);
        assert_eq!(wants(&["application/problem+json"], None), Wants::Json);
        assert_eq!(
            wants(&["text/html;q=0.5, application/json"], None),
            Wants::Json
        );
        assert_eq!(
            wants(&["application/json;q=0.2, text/html"], None),
            Wants::Html
        );
        assert_eq!(wants(&["text/plain"], None), Wants::Text);
        assert_eq!(wants(&[], None), Wants::Text);
        assert_eq!(wants(&["*/*"], None), Wants::Text);
    }

    #[test]
    fn a_json_request_without_preference_gets_json() {
        assert_eq!(wants(&[], Some("application/json")), Wants::Json);
        assert_eq!(wants(&["*/*"], Some("application/json")), Wants::Json);
        assert_eq!(wants(&["text/html"], Some("application/json")), Wants::Html);
    }

    #[test]
    fn a_denial_shows_its_request_without_header_values() {
        let request = axum::http::Request::builder()
            .uri("/admin?tab=users")
            .header("cookie", "authz_ticket=secret-ticket")
            .header("authorization", "Bearer secret-token")
            .body(())
            .unwrap();
        let denied = Denied {
            status: StatusCode::FORBIDDEN,
            user: Some("guido".to_owned()),
            message: "Only admins".to_owned(),
            wants: Wants::Html,
            came_from: "/admin?tab=users".to_owned(),
            login_redirect: None,
            request: request.into_parts().0,
            rule: None,
            decided_by: None,
        };
        let debug = format!("{denied:?}");
        assert!(
            debug.contains(r#"headers: ["cookie", "authorization"]"#),
            "{debug}"
        );
        assert!(debug.contains("uri: /admin?tab=users"), "{debug}");
        assert!(!debug.contains("secret"), "{debug}");
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html("<script>\"x\" & 'y'</script>"),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }
}
