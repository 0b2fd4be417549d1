//! Helpers for test suites. Enabled by the `testing` feature: never ship it, since its
//! authenticator believes whatever the client says.

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;

use axum::http::HeaderName;
use axum::http::request::Parts;

use crate::credentials::{RequestCredentials, Shared};
use crate::{Authenticator, Context, CredentialsStore, Error, Grants, Predicate, Verdict};

/// The header [`TestAuthenticator`] reads by default.
pub const TEST_USER_HEADER: &str = "x-test-user";

/// Takes the user name from a request header (`x-test-user` by default), so that a test can act
/// as any user. A request without the header is anonymous.
///
/// ```
/// use authz_runtime::testing::{TEST_USER_HEADER, TestAuthenticator};
///
/// let authenticator = TestAuthenticator::default();
/// let request = axum::http::Request::builder().header(TEST_USER_HEADER, "rms").body(()).unwrap();
/// # let _ = (authenticator, request);
/// ```
#[derive(Debug, Clone)]
pub struct TestAuthenticator {
    header: HeaderName,
}

impl TestAuthenticator {
    /// Reads the user from `header` (lowercase) instead.
    pub fn with_header(header: &'static str) -> Self {
        Self {
            header: HeaderName::from_static(header),
        }
    }
}

impl Default for TestAuthenticator {
    fn default() -> Self {
        Self::with_header(TEST_USER_HEADER)
    }
}

impl Authenticator for TestAuthenticator {
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

impl TestAuthenticator {
    fn user<'r>(&self, request: &'r Parts) -> Result<Option<&'r str>, Error> {
        let Some(value) = request.headers.get(&self.header) else {
            return Ok(None);
        };
        let user = value
            .to_str()
            .map_err(|_| Error::authenticator("the test user header is not visible ASCII"))?;
        Ok(Some(user))
    }
}

/// A request with a fixed user and grants, to evaluate predicates without a server: unit
/// tests of your rules, and benchmarks. Credentials are found on the first evaluation and
/// kept, as in a real request. Its authenticator and store answer at once, as a header
/// authenticator and a warm cache do; [`answering_later`](Self::answering_later) makes them
/// answer after an await instead, as a database does.
///
/// ```
/// use authz_runtime::{Grants, predicate};
/// use authz_runtime::testing::TestRequest;
///
/// # tokio_test_block_on(async {
/// let rule = predicate!(any(is_user("root"), has_permission("manage")));
/// let mut rms = TestRequest::new(Some("rms"), Grants::new(["admins"], ["manage"]));
/// assert!(rms.evaluate(&rule).await.unwrap().is_met());
///
/// let mut guido = TestRequest::new(Some("guido"), Grants::default()).answering_later();
/// let denial = match guido.evaluate(&rule).await.unwrap() {
///     authz_runtime::Verdict::Unmet(denial) => denial,
///     met => panic!("{met:?}"),
/// };
/// assert_eq!(
///     denial.message(),
///     "At least one of the following predicates must be met: \
///      The current user must be \"root\", The user must have the \"manage\" permission"
/// );
/// assert_eq!(denial.decided_by(), r#"any(is_user("root"), has_permission("manage"))"#);
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
pub struct TestRequest {
    parts: Parts,
    user: Option<String>,
    grants: Arc<Grants>,
    credentials: RequestCredentials,
}

impl TestRequest {
    /// A `GET /` request from `user` (anonymous when `None`) holding `grants`.
    pub fn new(user: Option<&str>, grants: Grants) -> Self {
        let (parts, ()) = axum::http::Request::new(()).into_parts();
        let user = user.map(str::to_owned);
        let grants = Arc::new(grants);
        let credentials = Self::credentials(&user, &grants, false);
        Self {
            parts,
            user,
            grants,
            credentials,
        }
    }

    fn credentials(user: &Option<String>, grants: &Arc<Grants>, later: bool) -> RequestCredentials {
        let shared = Shared {
            authenticator: Arc::new(FixedUser {
                user: user.clone(),
                later,
            }),
            store: Arc::new(FixedGrants {
                grants: grants.clone(),
                later,
            }),
            denials: Default::default(),
        };
        RequestCredentials::new(Arc::new(shared))
    }

    /// The same request, whose authenticator and store answer only after an await, as a
    /// database does, and have been asked nothing yet: the evaluation's waiting path.
    pub fn answering_later(mut self) -> Self {
        self.credentials = Self::credentials(&self.user, &self.grants, true);
        self
    }

    /// Replaces the request's head (method, URI, headers), for predicates that read it.
    pub fn with_parts(mut self, parts: Parts) -> Self {
        self.parts = parts;
        self
    }

    /// Evaluates `predicate` without an async runtime, when it needs no waiting: once the
    /// credentials are loaded, for the built-in predicates and custom ones that do not wait.
    /// `None` if the evaluation would wait. Benchmarks and allocation counts use it.
    pub fn evaluate_now<P: Predicate + ?Sized>(
        &mut self,
        predicate: &P,
    ) -> Option<Result<Verdict, Error>> {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match std::pin::pin!(self.evaluate(predicate)).poll(&mut cx) {
            std::task::Poll::Ready(verdict) => Some(verdict),
            std::task::Poll::Pending => None,
        }
    }

    /// Evaluates `predicate` on this request.
    pub async fn evaluate<P: Predicate + ?Sized>(
        &mut self,
        predicate: &P,
    ) -> Result<Verdict, Error> {
        predicate
            .evaluate(&mut Context::new(&mut self.parts, &self.credentials, &()))
            .await
    }
}

/// The fixed user, told at once or after an await.
struct FixedUser {
    user: Option<String>,
    later: bool,
}

impl Authenticator for FixedUser {
    async fn authenticate(&self, _: &Parts) -> Result<Option<String>, Error> {
        YieldOnce(false).await;
        Ok(self.user.clone())
    }

    fn authenticate_now<'r>(&self, _: &'r Parts) -> Option<Result<Option<Cow<'r, str>>, Error>> {
        (!self.later).then(|| Ok(self.user.clone().map(Cow::Owned)))
    }
}

/// The fixed grants, told at once or after an await.
struct FixedGrants {
    grants: Arc<Grants>,
    later: bool,
}

impl CredentialsStore for FixedGrants {
    async fn load(&self, _: &str) -> Result<Option<Arc<Grants>>, Error> {
        YieldOnce(false).await;
        Ok(Some(self.grants.clone()))
    }

    fn load_now(&self, _: &str) -> Option<Result<Option<Arc<Grants>>, Error>> {
        (!self.later).then(|| Ok(Some(self.grants.clone())))
    }
}

/// A future that is pending once, waking itself, then ready: an answer after an await, with no
/// runtime's timer.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}
