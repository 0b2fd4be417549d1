//! Signing in: authenticators for browsers (a signed ticket in a cookie), API clients (a bearer
//! token) and apps behind an authenticating proxy (a trusted header); password hashing; and
//! the check that keeps `came_from` from being an open redirect. Behind the `sign-in` feature.

mod bearer;
mod came_from;
mod password;
mod ticket;
mod trusted_header;

pub use bearer::BearerAuthenticator;
pub use came_from::safe_came_from;
pub use password::{hash_password, verify_password, warm_up};
pub use ticket::{TicketAuthenticator, TicketError};
pub use trusted_header::{TrustedHeaderAuthenticator, TrustedHeaderError};
