//! The layer that makes a request's credentials available to guards.

mod layer;
mod service;

pub use layer::AuthzLayer;
pub use service::AuthzService;
