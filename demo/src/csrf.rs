//! CSRF protection for every form: a signed double-submit token. The token lives in a cookie
//! (`demo_csrf`, `SameSite=Strict`) and in each form; a POST is accepted only when both are
//! there, equal, and signed with the app's secret, so another site can neither read nor plant
//! one.

use axum::extract::{Request, State};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

const COOKIE_NAME: &str = "demo_csrf";

/// Signs and checks CSRF tokens.
#[derive(Clone)]
pub struct Csrf {
    key: Hmac<Sha256>,
}

/// The request's CSRF token, for forms to embed.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

impl Csrf {
    /// Tokens signed with `secret`.
    pub fn new(secret: &[u8]) -> Self {
        let key = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
        Self { key }
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

/// Makes sure every request has a token (from its cookie, or a new one set in the response).
pub async fn middleware(State(csrf): State<Csrf>, mut request: Request, next: Next) -> Response {
    let existing = cookie(request.headers()).filter(|token| csrf.genuine(token));
    let (token, fresh) = match existing {
        Some(token) => (token, false),
        None => (csrf.issue().unwrap_or_default(), true),
    };
    request.extensions_mut().insert(CsrfToken(token.clone()));
    let mut response = next.run(request).await;
    if fresh
        && let Ok(value) = HeaderValue::from_str(&format!(
            "{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict"
        ))
    {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}
