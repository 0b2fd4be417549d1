//! Router-level protection: one compiled predicate guarding every route of a `Router`.

mod layer;
mod service;

pub use layer::RequireLayer;
pub use service::{RequireFuture, RequireService};
