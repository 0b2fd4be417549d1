//! The client's address, as the server saw its connection: what sign-ins are throttled by.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

/// The address the request's connection came from: `None` when the server was not started
/// with connection info (`into_make_service_with_connect_info::<SocketAddr>()`). Behind a
/// reverse proxy this is the proxy's address; such a deployment should throttle at the proxy,
/// or read its forwarded header here.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientAddress(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let connection = parts.extensions.get::<ConnectInfo<SocketAddr>>();
        Ok(Self(connection.map(|ConnectInfo(address)| address.ip())))
    }
}
