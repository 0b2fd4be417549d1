//! Apps behind an authenticating proxy: the proxy names the user in a header.

use std::borrow::Cow;
use std::fmt;

use axum::http::HeaderName;
use axum::http::request::Parts;

use crate::{Authenticator, Error};

/// Takes the user from a header that an authenticating reverse proxy sets (`X-Remote-User`,
/// `X-Forwarded-User`, …).
///
/// **Only** for an app that nobody can reach except through that proxy, and only when the
/// proxy removes the header from incoming requests: anyone who can send the header directly
/// can be anyone.
///
/// What a request gets:
///
/// | the header | the user |
/// |---|---|
/// | absent | anonymous |
/// | empty or blank | anonymous |
/// | a name (UTF-8; surrounding whitespace trimmed) | that user |
/// | bytes that are not UTF-8 | an error: the request is refused with 503 |
/// | sent more than once | an error: the request is refused with 503 |
///
/// The last two are errors rather than anonymous because they mean the proxy is not doing
/// what the app relies on (a proxy that appends its header instead of replacing the client's
/// would otherwise let the client's copy decide).
///
/// ```
/// use authz_runtime::signin::TrustedHeaderAuthenticator;
///
/// let behind_proxy = TrustedHeaderAuthenticator::new("X-Remote-User").unwrap();
/// assert_eq!(behind_proxy.header(), "x-remote-user");
/// assert!(TrustedHeaderAuthenticator::new("x remote user").is_err());
/// ```
#[derive(Debug, Clone)]
pub struct TrustedHeaderAuthenticator {
    header: HeaderName,
}

/// A name that cannot be an HTTP header's, given to [`TrustedHeaderAuthenticator::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedHeaderError(String);

impl fmt::Display for TrustedHeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a valid HTTP header name for the trusted user header",
            self.0
        )
    }
}

impl std::error::Error for TrustedHeaderError {}

impl TrustedHeaderAuthenticator {
    /// Trusts the header `name`, in any case (header names are case-insensitive). An empty
    /// name, or one with spaces, colons or other characters a header name cannot hold, is an
    /// error here, when the app is set up, never while it serves.
    pub fn new(name: &str) -> Result<Self, TrustedHeaderError> {
        // `from_bytes` lowercases; it refuses what no header name may contain.
        HeaderName::from_bytes(name.as_bytes())
            .map(|header| Self { header })
            .map_err(|_| TrustedHeaderError(name.to_owned()))
    }

    /// The trusted header's name, lowercase.
    pub fn header(&self) -> &str {
        self.header.as_str()
    }

    fn user<'r>(&self, request: &'r Parts) -> Result<Option<&'r str>, Error> {
        let mut values = request.headers.get_all(&self.header).iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(Error::authenticator(format!(
                "the trusted user header `{}` was sent more than once",
                self.header
            )));
        }
        let user = std::str::from_utf8(value.as_bytes()).map_err(|_| {
            Error::authenticator(format!(
                "the trusted user header `{}` is not UTF-8",
                self.header
            ))
        })?;
        Ok(Some(user.trim()).filter(|user| !user.is_empty()))
    }
}

impl Authenticator for TrustedHeaderAuthenticator {
    async fn authenticate(&self, request: &Parts) -> Result<Option<String>, Error> {
        Ok(self.user(request)?.map(str::to_owned))
    }

    fn authenticate_now<'r>(
        &self,
        request: &'r Parts,
    ) -> Option<Result<Option<Cow<'r, str>>, Error>> {
        Some(self.user(request).map(|user| user.map(Cow::Borrowed)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderValue, Request};

    fn request(values: &[&[u8]]) -> Parts {
        let mut request = Request::new(());
        for value in values {
            request.headers_mut().append(
                "x-remote-user",
                HeaderValue::from_bytes(value).expect("a header value"),
            );
        }
        request.into_parts().0
    }

    fn user(values: &[&[u8]]) -> Result<Option<String>, Error> {
        let authenticator = TrustedHeaderAuthenticator::new("x-remote-user").unwrap();
        let parts = request(values);
        let now = authenticator
            .authenticate_now(&parts)
            .expect("synchronous")
            .map(|user| user.map(Cow::into_owned));
        // Both entry points agree.
        let later = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(authenticator.authenticate(&parts));
        assert_eq!(
            now.as_ref().map_err(ToString::to_string),
            later.as_ref().map_err(ToString::to_string)
        );
        now
    }

    #[test]
    fn a_present_header_names_the_user() {
        assert_eq!(user(&[b"rms"]).unwrap().as_deref(), Some("rms"));
        assert_eq!(user(&[b"  rms\t"]).unwrap().as_deref(), Some("rms"));
        assert_eq!(
            user(&["jos\u{e9}".as_bytes()]).unwrap().as_deref(),
            Some("jos\u{e9}")
        );
    }

    #[test]
    fn an_absent_or_empty_header_is_anonymous() {
        assert_eq!(user(&[]).unwrap(), None);
        assert_eq!(user(&[b""]).unwrap(), None);
        assert_eq!(user(&[b"   "]).unwrap(), None);
    }

    #[test]
    fn a_value_that_is_not_utf8_is_an_error() {
        let error = user(&[b"r\xffms"]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the authenticator failed: the trusted user header `x-remote-user` is not UTF-8"
        );
    }

    #[test]
    fn a_header_sent_twice_is_an_error() {
        let error = user(&[b"mallory", b"rms"]).unwrap_err();
        assert!(error.to_string().contains("sent more than once"), "{error}");
    }

    #[test]
    fn names_are_case_insensitive_and_invalid_ones_refused() {
        for name in ["X-Remote-User", "X-REMOTE-USER", "x-remote-user"] {
            let authenticator = TrustedHeaderAuthenticator::new(name).unwrap();
            assert_eq!(authenticator.header(), "x-remote-user");
            let parts = request(&[b"rms"]);
            assert_eq!(authenticator.user(&parts).unwrap(), Some("rms"), "{name}");
        }
        for name in [
            "",
            "x remote user",
            "x-remote-user:",
            "x-r\u{e9}mote",
            "a\nb",
        ] {
            assert_eq!(
                TrustedHeaderAuthenticator::new(name)
                    .unwrap_err()
                    .to_string(),
                format!("{name:?} is not a valid HTTP header name for the trusted user header")
            );
        }
    }
}
