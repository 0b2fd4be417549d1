//! Where groups and permissions come from.

mod memory;

use std::future::Future;
use std::sync::Arc;

pub use memory::{MemoryStore, MemoryStoreBuilder};

use crate::future::BoxFuture;
use crate::{Error, Grants};

/// Looks up a user's groups and the permissions those groups grant, together, in one
/// round trip.
///
/// Return `Ok(None)` for a user the store does not know (they get no groups), and an error when
/// the store cannot answer: the request is then refused with 503, never let through.
///
/// ```
/// use std::sync::Arc;
/// use authz_runtime::{CredentialsStore, Error, Grants};
///
/// /// Everyone named `admin` is in the `admins` group with the `manage` permission.
/// struct Fixed;
///
/// impl CredentialsStore for Fixed {
///     async fn load(&self, user: &str) -> Result<Option<Arc<Grants>>, Error> {
///         Ok((user == "admin").then(|| Arc::new(Grants::new(["admins"], ["manage"]))))
///     }
/// }
/// ```
pub trait CredentialsStore: Send + Sync + 'static {
    /// The grants of `user`, or `None` when the store has no such user.
    fn load(&self, user: &str) -> impl Future<Output = Result<Option<Arc<Grants>>, Error>> + Send;

    /// The same answer without waiting, when the store has it at hand (in memory, in a cache):
    /// it spares the future `load` returns. The default, `None`, means "ask `load`".
    fn load_now(&self, user: &str) -> Option<Result<Option<Arc<Grants>>, Error>> {
        let _ = user;
        None
    }

    /// Whether a signed-in user the store does not know counts as anonymous. When true, the
    /// user's row is looked up (through [`load`](Self::load), once per request) before any
    /// predicate is decided, so a deleted user's live session stops working at once. Default:
    /// false, the authenticator's word is final and unknown users merely have no groups.
    fn unknown_users_are_anonymous(&self) -> bool {
        false
    }
}

/// The object-safe side of [`CredentialsStore`], which the layer stores.
pub(crate) trait DynStore: Send + Sync + 'static {
    fn load<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<Option<Arc<Grants>>, Error>>;

    fn load_now(&self, user: &str) -> Option<Result<Option<Arc<Grants>>, Error>>;

    fn unknown_users_are_anonymous(&self) -> bool;
}

impl<S: CredentialsStore> DynStore for S {
    fn load<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<Option<Arc<Grants>>, Error>> {
        Box::pin(CredentialsStore::load(self, user))
    }

    fn load_now(&self, user: &str) -> Option<Result<Option<Arc<Grants>>, Error>> {
        CredentialsStore::load_now(self, user)
    }

    fn unknown_users_are_anonymous(&self) -> bool {
        CredentialsStore::unknown_users_are_anonymous(self)
    }
}
