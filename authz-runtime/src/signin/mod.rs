//! Signing in: authenticators for browsers (a signed ticket in a cookie), API clients (a bearer
//! token) and apps behind an authenticating proxy (a trusted header); password hashing, a
//! bounded number at once ([`PasswordChecks`]); throttling of sign-in attempts
//! ([`SignInThrottle`]); and the check that keeps `came_from` from being an open redirect.
//! Behind the `sign-in` feature.

mod bearer;
mod came_from;
mod hashing;
mod password;
mod throttle;
mod ticket;
mod trusted_header;

pub use bearer::BearerAuthenticator;
pub use came_from::safe_came_from;
pub use hashing::{Busy, PasswordChecks};
pub use password::{hash_password, verify_password, warm_up};
pub use throttle::{SignInThrottle, Throttled};
pub use ticket::{TicketAuthenticator, TicketError};
pub use trusted_header::{TrustedHeaderAuthenticator, TrustedHeaderError};
