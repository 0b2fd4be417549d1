//! A signed ticket in a cookie, like Pyramid's `AuthTktAuthenticationPolicy`: the user name and
//! an expiry, signed with HMAC-SHA-256 under the application's secret.

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::HeaderValue;
use axum::http::header::COOKIE;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::{Authenticator, Error};

/// Signs users in with a cookie holding `expiry.user.signature`. A ticket that is missing,
/// malformed, tampered with or expired is simply anonymous.
///
/// The cookie is `HttpOnly`, `SameSite=Lax` and `Path=/`; `Secure` when configured (do so
/// whenever the site is served over HTTPS), and then named `__Host-authz_ticket`: browsers
/// accept a `__Host-` cookie only from the site itself over HTTPS, never from a sibling
/// subdomain or a plain-HTTP page, so none can be planted beside the genuine one. A request
/// with two ticket cookies is anonymous, whichever is valid.
///
/// ```
/// use std::time::Duration;
/// use authz_runtime::signin::TicketAuthenticator;
///
/// let tickets = TicketAuthenticator::new(b"a secret of at least thirty-two bytes!!")
///     .unwrap()
///     .with_max_age(Duration::from_secs(8 * 3600))
///     .with_secure(true);
/// let set_cookie = tickets.issue("rms"); // send as `Set-Cookie` after a good password
/// assert!(set_cookie.to_str().unwrap().starts_with("__Host-authz_ticket="));
/// assert!(set_cookie.to_str().unwrap().contains("HttpOnly; SameSite=Lax; Secure"));
/// ```
#[derive(Clone)]
pub struct TicketAuthenticator {
    key: Hmac<Sha256>,
    /// The cookie's name, when the application chose one.
    cookie: Option<String>,
    max_age: Duration,
    secure: bool,
}

/// A secret too short to sign tickets with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketError(usize);

impl fmt::Display for TicketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the ticket secret has {} bytes; use at least 32 random bytes",
            self.0
        )
    }
}

impl std::error::Error for TicketError {}

impl fmt::Debug for TicketAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TicketAuthenticator")
            .field("cookie", &self.cookie_name())
            .field("max_age", &self.max_age)
            .field("secure", &self.secure)
            .finish_non_exhaustive()
    }
}

impl TicketAuthenticator {
    /// Tickets signed with `secret` (at least 32 bytes), in the cookie `authz_ticket`, valid
    /// for 12 hours.
    pub fn new(secret: &[u8]) -> Result<Self, TicketError> {
        if secret.len() < 32 {
            return Err(TicketError(secret.len()));
        }
        let key = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| TicketError(secret.len()))?;
        Ok(Self {
            key,
            cookie: None,
            max_age: Duration::from_secs(12 * 3600),
            secure: false,
        })
    }

    /// The cookie's name (default `authz_ticket`, `__Host-authz_ticket` when `Secure`).
    #[must_use]
    pub fn with_cookie_name(mut self, name: &str) -> Self {
        self.cookie = Some(name.to_owned());
        self
    }

    /// The cookie's name, as requests send it.
    pub fn cookie_name(&self) -> &str {
        match (&self.cookie, self.secure) {
            (Some(name), _) => name,
            (None, true) => "__Host-authz_ticket",
            (None, false) => "authz_ticket",
        }
    }

    /// How long a ticket is valid after it is issued.
    #[must_use]
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// Whether the cookie is marked `Secure` (sent over HTTPS only).
    #[must_use]
    pub fn with_secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// The `Set-Cookie` value signing `user` in until the ticket's max age has passed.
    pub fn issue(&self, user: &str) -> HeaderValue {
        let expires = now().saturating_add(self.max_age.as_secs());
        let ticket = self.ticket(user, expires);
        self.set_cookie(&ticket, self.max_age.as_secs())
    }

    /// The `Set-Cookie` value that signs the user out.
    pub fn clear(&self) -> HeaderValue {
        self.set_cookie("", 0)
    }

    /// The user a ticket names, if it is genuine and not expired.
    pub fn verify(&self, ticket: &str) -> Option<String> {
        let mut parts = ticket.splitn(3, '.');
        let (expires, user, signature) = (parts.next()?, parts.next()?, parts.next()?);
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let mut mac = self.key.clone();
        mac.update(signed_text(expires, user).as_bytes());
        // Constant time: `verify_slice` compares without stopping at the first difference.
        mac.verify_slice(&signature).ok()?;
        let expires: u64 = expires.parse().ok()?;
        if expires <= now() {
            return None;
        }
        String::from_utf8(URL_SAFE_NO_PAD.decode(user).ok()?).ok()
    }

    fn ticket(&self, user: &str, expires: u64) -> String {
        let user = URL_SAFE_NO_PAD.encode(user);
        let expires = expires.to_string();
        let mut mac = self.key.clone();
        mac.update(signed_text(&expires, &user).as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{expires}.{user}.{signature}")
    }

    fn set_cookie(&self, value: &str, max_age: u64) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        let cookie = format!(
            "{}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}",
            self.cookie_name()
        );
        // The name is the application's and the value is base64 and digits: always valid.
        HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// The user of the request's one ticket. Two tickets are anonymous, whichever is valid:
    /// a browser sends one cookie per name, path and domain, so a second ticket was planted
    /// (by a sibling subdomain, say), and letting either one win would let the planter choose
    /// who the visitor is.
    fn user(&self, request: &Parts) -> Option<String> {
        let mut tickets = request
            .headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|header| header.to_str().ok())
            .flat_map(|header| header.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .filter(|(name, _)| *name == self.cookie_name())
            .map(|(_, ticket)| ticket);
        let ticket = tickets.next()?;
        if tickets.next().is_some() {
            tracing::warn!(
                target: "authz::signin",
                cookie = self.cookie_name(),
                "a request with two ticket cookies is anonymous"
            );
            return None;
        }
        self.verify(ticket)
    }
}

/// What the signature covers, with a purpose prefix so that no other signed value made with
/// the same secret can pass as a ticket.
fn signed_text(expires: &str, user: &str) -> String {
    format!("authz-ticket\0{expires}.{user}")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default()
}

impl Authenticator for TicketAuthenticator {
    async fn authenticate(&self, request: &Parts) -> Result<Option<String>, Error> {
        Ok(self.user(request))
    }

    fn authenticate_now<'r>(
        &self,
        request: &'r Parts,
    ) -> Option<Result<Option<Cow<'r, str>>, Error>> {
        Some(Ok(self.user(request).map(Cow::Owned)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tickets() -> TicketAuthenticator {
        TicketAuthenticator::new(&[7; 32]).unwrap()
    }

    #[test]
    fn a_ticket_names_its_user_until_it_expires() {
        let tickets = tickets();
        let ticket = tickets.ticket("rms", now() + 60);
        assert_eq!(tickets.verify(&ticket).as_deref(), Some("rms"));
        assert_eq!(tickets.verify(&tickets.ticket("rms", now() - 1)), None);
    }

    #[test]
    fn a_tampered_ticket_is_anonymous() {
        let tickets = tickets();
        let ticket = tickets.ticket("guido", now() + 60);
        let (expires, rest) = ticket.split_once('.').unwrap();
        let (_, signature) = rest.split_once('.').unwrap();
        let forged = format!("{expires}.{}.{signature}", URL_SAFE_NO_PAD.encode("root"));
        assert_eq!(tickets.verify(&forged), None);
        let extended = ticket.replacen(expires, &(now() + 999_999).to_string(), 1);
        assert_eq!(tickets.verify(&extended), None);
        let other = TicketAuthenticator::new(&[8; 32]).unwrap();
        assert_eq!(other.verify(&ticket), None);
        for garbage in ["", ".", "..", "x.y.z", "1.2"] {
            assert_eq!(tickets.verify(garbage), None);
        }
    }

    #[test]
    fn two_ticket_cookies_are_anonymous_whichever_is_valid() {
        let tickets = tickets();
        let genuine = tickets.ticket("rms", now() + 60);
        let request = |cookies: &[&str]| {
            let mut request = axum::http::Request::builder();
            for cookie in cookies {
                request = request.header(COOKIE, *cookie);
            }
            request.body(()).unwrap().into_parts().0
        };
        let one = request(&[&format!("theme=dark; authz_ticket={genuine}")]);
        assert_eq!(tickets.user(&one).as_deref(), Some("rms"));
        let planted = tickets.ticket("mallory", now() + 60);
        for cookies in [
            vec![format!("authz_ticket={planted}; authz_ticket={genuine}")],
            vec![
                format!("authz_ticket={genuine}"),
                "authz_ticket=garbage".to_owned(),
            ],
        ] {
            let cookies: Vec<&str> = cookies.iter().map(String::as_str).collect();
            assert_eq!(tickets.user(&request(&cookies)), None, "{cookies:?}");
        }
    }

    #[test]
    fn short_secrets_are_refused() {
        assert_eq!(
            TicketAuthenticator::new(b"short").unwrap_err().to_string(),
            "the ticket secret has 5 bytes; use at least 32 random bytes"
        );
    }
}
