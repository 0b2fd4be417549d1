//! Apps behind an authenticating proxy: the proxy names the user in a header.

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
/// ```
/// use authz_runtime::signin::TrustedHeaderAuthenticator;
///
/// let behind_proxy = TrustedHeaderAuthenticator::new("x-remote-user");
/// # let _ = behind_proxy;
/// ```
#[derive(Debug, Clone)]
pub struct TrustedHeaderAuthenticator {
    header: HeaderName,
}

impl TrustedHeaderAuthenticator {
    /// Trusts `header` (lowercase).
    pub fn new(header: &'static str) -> Self {
        Self {
            header: HeaderName::from_static(header),
        }
    }

    fn user(&self, request: &Parts) -> Result<Option<String>, Error> {
        match request.headers.get(&self.header) {
            None => Ok(None),
            Some(value) => {
                let user = value.to_str().map_err(|_| {
                    Error::authenticator("the trusted user header is not visible ASCII")
                })?;
                Ok(Some(user.trim().to_owned()).filter(|user| !user.is_empty()))
            }
        }
    }
}

impl Authenticator for TrustedHeaderAuthenticator {
    async fn authenticate(&self, request: &Parts) -> Result<Option<String>, Error> {
        self.user(request)
    }

    fn authenticate_now(&self, request: &Parts) -> Option<Result<Option<String>, Error>> {
        Some(self.user(request))
    }
}
