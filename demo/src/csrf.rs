//! CSRF protection for every form: a signed double-submit token. The token lives in a cookie
//! (`demo_csrf`, `HttpOnly`, `SameSite=Strict`, and `Secure` when the demo is set to) and in
//! each form; a state-changing request is accepted only when both are there, equal, and signed
//! with the app's secret, so another site can neither read nor plant one.
//!
//! The check is the middleware's, not each handler's: every request to the pages with a
//! method other than GET, HEAD, OPTIONS or TRACE must carry the token, in the form's `csrf`
//! field or in an `X-CSRF-Token` header, or it is refused with 403 before any handler runs. So
//! a new form route cannot forget it. The JSON API (`/api`) is outside this middleware: its
//! clients send bearer tokens, which another site cannot make a browser send.

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::pages::{Visitor, message};

const COOKIE_NAME: &str = "demo_csrf";

/// The header a script may send the token in instead of a form field.
pub const HEADER: HeaderName = HeaderName::from_static("x-csrf-token");

/// The largest form body the middleware reads to find the token (the posts' text included).
const MAX_FORM: usize = 1 << 20;

/// Signs and checks CSRF tokens.
#[derive(Clone)]
pub struct Csrf {
    key: Hmac<Sha256>,
    secure: bool,
}

/// The request's CSRF token, for forms to embed.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

impl Csrf {
    /// Tokens signed with `secret`, in a cookie without `Secure`.
    pub fn new(secret: &[u8]) -> Self {
        let key = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
        Self { key, secure: false }
    }

    /// Whether the cookie is marked `Secure` (sent over HTTPS only).
    #[must_use]
    pub fn with_secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    fn sign(&self, nonce: &str) -> String {
        let mut mac = self.key.clone();
        mac.update(b"demo-csrf\0");
        mac.update(nonce.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    fn issue(&self) -> Option<String> {
        let nonce = crate::db::random_token(18).ok()?;
        Some(format!("{nonce}.{}", self.sign(&nonce)))
    }

    fn genuine(&self, token: &str) -> bool {
        let Some((nonce, signature)) = token.split_once('.') else {
            return false;
        };
        let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        let mut mac = self.key.clone();
        mac.update(b"demo-csrf\0");
        mac.update(nonce.as_bytes());
        mac.verify_slice(&signature).is_ok()
    }

    /// Whether a form's `token` matches the request's cookie and is genuine.
    pub fn verify(&self, headers: &HeaderMap, token: &str) -> bool {
        let Some(cookie) = cookie(headers) else {
            return false;
        };
        // Both compared in constant time: the signature check, and the equality through it.
        self.genuine(token) && self.genuine(&cookie) && same(cookie.as_bytes(), token.as_bytes())
    }

    fn set_cookie(&self, token: &str) -> Option<HeaderValue> {
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict{secure}"
        ))
        .ok()
    }
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|header| header.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.to_owned())
}

/// Whether a request with `method` may change something, and so needs the token.
fn changes_state(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| {
            media
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// The token a request carries: its `X-CSRF-Token` header, or its form's `csrf` field. The
/// body is read for that and put back for the handler.
async fn submitted_token(request: Request) -> Result<(Option<String>, Request), Response> {
    if let Some(token) = request
        .headers()
        .get(HEADER)
        .and_then(|value| value.to_str().ok())
    {
        let token = token.to_owned();
        return Ok((Some(token), request));
    }
    if !is_form(request.headers()) {
        return Ok((None, request));
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_FORM).await else {
        return Err((StatusCode::PAYLOAD_TOO_LARGE, "The form is too large").into_response());
    };
    let token = form_urlencoded::parse(&bytes)
        .find(|(name, _)| name == "csrf")
        .map(|(_, value)| value.into_owned());
    Ok((token, Request::from_parts(parts, Body::from(bytes))))
}

/// Makes sure every request has a token (from its cookie, or a new one set in the response),
/// and refuses every state-changing request whose token is missing or wrong.
///
/// Runs inside [`AuthzLayer`](authz_runtime::AuthzLayer), so that the refusal page can show
/// who is signed in.
pub async fn middleware(State(csrf): State<Csrf>, mut request: Request, next: Next) -> Response {
    let existing = cookie(request.headers()).filter(|token| csrf.genuine(token));
    let (token, fresh) = match existing {
        Some(token) => (token, false),
        None => (csrf.issue().unwrap_or_default(), true),
    };
    request.extensions_mut().insert(CsrfToken(token.clone()));
    let mut response = if changes_state(request.method()) {
        match submitted_token(request).await {
            Ok((Some(submitted), request)) if csrf.verify(request.headers(), &submitted) => {
                next.run(request).await
            }
            Ok((_, request)) => refused(request).await,
            Err(response) => response,
        }
    } else {
        next.run(request).await
    };
    if fresh && let Some(value) = csrf.set_cookie(&token) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

/// The page for a request without a valid token.
async fn refused(request: Request) -> Response {
    let (mut parts, _) = request.into_parts();
    let visitor = Visitor::from_request_parts(&mut parts, &())
        .await
        .unwrap_or_default();
    message(
        StatusCode::FORBIDDEN,
        "Request refused",
        "The form's CSRF token is missing or invalid. Reload the page and try again.",
        &visitor,
    )
}
