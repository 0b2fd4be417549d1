//! CSRF protection for every form: a signed double-submit token bound to the session. A
//! random nonce lives in a cookie (`demo_csrf`, `HttpOnly`, `SameSite=Strict`; with `Secure`,
//! `__Host-demo_csrf`, which no sibling subdomain or plain-HTTP page can set), signed with the
//! app's secret. Each form carries the nonce with a second signature, over the nonce and the
//! request's sign-in ticket. A state-changing request is accepted only when the form's token
//! is the one for the cookie's nonce and the ticket the request carries: a token made beside
//! another session (an attacker's own cookie and token, planted beside a victim's ticket) does
//! not pass, and signing in or out, which changes the ticket, changes every form's token. The
//! nonce itself is replaced whenever a response signs in or out.
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

/// The cookie's name when it is `Secure`.
const SECURE_COOKIE_NAME: &str = "__Host-demo_csrf";

/// The header a script may send the token in instead of a form field.
pub const HEADER: HeaderName = HeaderName::from_static("x-csrf-token");

/// The largest form body the middleware reads to find the token (the posts' text included).
const MAX_FORM: usize = 1 << 20;

/// Signs and checks CSRF tokens.
#[derive(Clone)]
pub struct Csrf {
    key: Hmac<Sha256>,
    secure: bool,
    /// The sign-in ticket's cookie: what a token is bound to, and whose change renews it.
    session_cookie: String,
}

/// The request's CSRF token, for forms to embed.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

impl Csrf {
    /// Tokens signed with `secret`, bound to the session in the cookie `session_cookie` (the
    /// sign-in ticket's), in a cookie without `Secure`.
    pub fn new(secret: &[u8], session_cookie: &str) -> Self {
        let key = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
        Self {
            key,
            secure: false,
            session_cookie: session_cookie.to_owned(),
        }
    }

    /// Whether the cookie is marked `Secure` (sent over HTTPS only), and so `__Host-`.
    #[must_use]
    pub fn with_secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    fn cookie_name(&self) -> &'static str {
        if self.secure {
            SECURE_COOKIE_NAME
        } else {
            COOKIE_NAME
        }
    }

    /// The MAC over `parts`, each prefixed with its length so that no two lists sign alike.
    fn mac(&self, purpose: &[u8], parts: &[&str]) -> Hmac<Sha256> {
        let mut mac = self.key.clone();
        mac.update(purpose);
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac
    }

    fn signed(&self, purpose: &[u8], nonce: &str, session: &str) -> String {
        let mac = self.mac(purpose, &[nonce, session]);
        format!(
            "{nonce}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    }

    fn checks(&self, purpose: &[u8], token: &str, session: &str) -> Option<String> {
        let (nonce, signature) = token.split_once('.')?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        // Constant time: `verify_slice` compares without stopping at the first difference.
        let mac = self.mac(purpose, &[nonce, session]);
        mac.verify_slice(&signature).ok()?;
        Some(nonce.to_owned())
    }

    /// A new cookie value: a random nonce, signed.
    fn issue(&self) -> Option<String> {
        let nonce = crate::db::random_token(18).ok()?;
        Some(self.signed(b"demo-csrf-cookie\0", &nonce, ""))
    }

    /// The nonce of a genuine cookie value.
    fn nonce(&self, cookie: &str) -> Option<String> {
        self.checks(b"demo-csrf-cookie\0", cookie, "")
    }

    /// The token forms carry for the cookie's `nonce` in the request's `session`.
    fn form_token(&self, nonce: &str, session: &str) -> String {
        self.signed(b"demo-csrf-form\0", nonce, session)
    }

    /// Whether a form's `token` is the one for the request's cookie and its session.
    pub fn verify(&self, headers: &HeaderMap, token: &str) -> bool {
        let Some(nonce) = cookie(headers, self.cookie_name()).and_then(|c| self.nonce(&c)) else {
            return false;
        };
        let session = cookie(headers, &self.session_cookie).unwrap_or_default();
        self.checks(b"demo-csrf-form\0", token, &session)
            .is_some_and(|signed| same(signed.as_bytes(), nonce.as_bytes()))
    }

    fn set_cookie(&self, value: &str) -> Option<HeaderValue> {
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Strict{secure}",
            self.cookie_name()
        ))
        .ok()
    }

    /// Whether `response` signs in or out (sets the session's cookie).
    fn changes_session(&self, response: &Response) -> bool {
        response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .any(|value| {
                value
                    .split_once('=')
                    .is_some_and(|(name, _)| name == self.session_cookie)
            })
    }
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// The value of the request's cookie `wanted`.
fn cookie(headers: &HeaderMap, wanted: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|header| header.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == wanted)
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
    let existing = cookie(request.headers(), csrf.cookie_name())
        .and_then(|value| Some((csrf.nonce(&value)?, value)));
    let (nonce, cookie_value, fresh) = match existing {
        Some((nonce, value)) => (nonce, value, false),
        None => {
            let value = csrf.issue().unwrap_or_default();
            let nonce = csrf.nonce(&value).unwrap_or_default();
            (nonce, value, true)
        }
    };
    let session = cookie(request.headers(), &csrf.session_cookie).unwrap_or_default();
    let token = csrf.form_token(&nonce, &session);
    request.extensions_mut().insert(CsrfToken(token));
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
    // Signing in or out starts over with a new nonce, so that no token of the old session
    // (nor one an attacker saw before the victim signed in) outlives it.
    let value = if csrf.changes_session(&response) {
        csrf.issue()
    } else if fresh {
        Some(cookie_value)
    } else {
        None
    };
    if let Some(value) = value.and_then(|value| csrf.set_cookie(&value)) {
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
