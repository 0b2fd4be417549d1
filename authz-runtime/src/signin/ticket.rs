//! A signed ticket in a cookie, like Pyramid's `AuthTktAuthenticationPolicy`: the user name,
//! the account and its session generation, and an expiry, signed with HMAC-SHA-256 under the
//! application's secret.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::HeaderValue;
use axum::http::header::COOKIE;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::store::DynStore;
use crate::{Account, Authenticator, CredentialsStore, Error, Grants};

/// Signs users in with a cookie holding `expiry.user.account.signature`. A ticket that is
/// missing, malformed, tampered with or expired is simply anonymous.
///
/// **Sessions that can be ended.** With [`with_sessions`](Self::with_sessions), a ticket names
/// the account it was made for (its key and session generation, see [`Account`]) and is
/// checked against the store's cached lookup of the user at every request: it is refused once
/// the user is deleted, re-created under the same name, or their sessions are ended (sign-out,
/// a new password, [`SqlStore::end_sessions`]). Tickets otherwise stay stateless: nothing is
/// stored per session, and the check is the lookup the guards make anyway.
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
///
/// [`SqlStore::end_sessions`]: crate::sql::SqlStore::end_sessions
#[derive(Clone)]
pub struct TicketAuthenticator {
    key: Hmac<Sha256>,
    /// The cookie's name, when the application chose one.
    cookie: Option<String>,
    max_age: Duration,
    secure: bool,
    /// The store whose accounts tickets must still match, when sessions can be ended.
    sessions: Option<Arc<dyn DynStore>>,
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
            .field("sessions", &self.sessions.is_some())
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
            sessions: None,
        })
    }

    /// Tickets that end with their account's sessions: each names the account it was made
    /// for, and is accepted only while `store` (the app's credentials store, which must know
    /// accounts, as `SqlStore` does) says that name still belongs to that account at that
    /// session generation. Issue them with [`sign_in`](Self::sign_in). A ticket without an
    /// account, or for an account the store no longer has, is anonymous; a store that cannot
    /// answer refuses the request (503), as for the guards.
    ///
    /// The check is the store's lookup of the user, served from its cache and shared with
    /// the guards of the request: a signed-in request costs no query more than before. (With
    /// the store's cache turned off, it costs one.)
    ///
    /// ```
    /// use authz_runtime::signin::TicketAuthenticator;
    /// use authz_runtime::sql::SqlStore;
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let store = SqlStore::connect("sqlite::memory:").await?;
    /// store.migrate().await?;
    /// store.create_user("rms").await?;
    /// let tickets = TicketAuthenticator::new(b"a secret of at least thirty-two bytes!!")?
    ///     .with_sessions(store.clone());
    /// let set_cookie = tickets.sign_in("rms").await?.expect("rms has an account");
    /// let ticket = set_cookie.to_str()?.split(';').next().unwrap().split_once('=').unwrap().1;
    /// assert_eq!(tickets.session(ticket).await?.as_deref(), Some("rms"));
    ///
    /// store.end_sessions("rms").await?; // signed out everywhere
    /// assert_eq!(tickets.session(ticket).await?, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn with_sessions(mut self, store: impl CredentialsStore) -> Self {
        self.sessions = Some(Arc::new(store));
        self
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

    /// The `Set-Cookie` value signing `user` in until the ticket's max age has passed. The
    /// ticket names no account: with [`with_sessions`](Self::with_sessions) it is refused, so
    /// use [`sign_in`](Self::sign_in) there.
    pub fn issue(&self, user: &str) -> HeaderValue {
        self.issue_ticket(user, None)
    }

    /// The `Set-Cookie` value signing `user` in as the account `account`, until the ticket's
    /// max age has passed or the account's sessions are ended.
    pub fn issue_for(&self, user: &str, account: Account) -> HeaderValue {
        self.issue_ticket(user, Some(account))
    }

    /// The `Set-Cookie` value for a user who just proved who they are: with sessions, for
    /// their account as the store has it now (`None` when the store has no such user, or
    /// knows no accounts); without, as [`issue`](Self::issue).
    pub async fn sign_in(&self, user: &str) -> Result<Option<HeaderValue>, Error> {
        let Some(store) = &self.sessions else {
            return Ok(Some(self.issue(user)));
        };
        Ok(lookup(store.as_ref(), user)
            .await?
            .and_then(|grants| grants.account())
            .map(|account| self.issue_for(user, account)))
    }

    fn issue_ticket(&self, user: &str, account: Option<Account>) -> HeaderValue {
        let expires = now().saturating_add(self.max_age.as_secs());
        let ticket = self.ticket(user, account, expires);
        self.set_cookie(&ticket, self.max_age.as_secs())
    }

    /// The `Set-Cookie` value that signs the user out.
    pub fn clear(&self) -> HeaderValue {
        self.set_cookie("", 0)
    }

    /// The user a ticket names, if it is genuine and not expired. (Whether its session is
    /// still live is [`session`](Self::session)'s question.)
    pub fn verify(&self, ticket: &str) -> Option<String> {
        self.open(ticket).map(|(user, _)| user)
    }

    /// The user of a ticket whose session is live: genuine, not expired, and, with sessions,
    /// made for the account the store has under that name now.
    pub async fn session(&self, ticket: &str) -> Result<Option<String>, Error> {
        let Some((user, account)) = self.open(ticket) else {
            return Ok(None);
        };
        let Some(store) = &self.sessions else {
            return Ok(Some(user));
        };
        let grants = lookup(store.as_ref(), &user).await?;
        Ok(is_live(grants.as_deref(), account).then_some(user))
    }

    /// [`session`](Self::session), when the store answers without waiting.
    fn session_now(&self, ticket: &str) -> Option<Result<Option<String>, Error>> {
        let Some((user, account)) = self.open(ticket) else {
            return Some(Ok(None));
        };
        let Some(store) = &self.sessions else {
            return Some(Ok(Some(user)));
        };
        Some(
            store
                .load_now(&user)?
                .map(|grants| is_live(grants.as_deref(), account).then_some(user)),
        )
    }

    /// The user and account of a genuine ticket that has not expired.
    fn open(&self, ticket: &str) -> Option<(String, Option<Account>)> {
        let mut parts = ticket.splitn(4, '.');
        let (expires, user, account, signature) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let mut mac = self.key.clone();
        mac.update(signed_text(expires, user, account).as_bytes());
        // Constant time: `verify_slice` compares without stopping at the first difference.
        mac.verify_slice(&signature).ok()?;
        let expires: u64 = expires.parse().ok()?;
        if expires <= now() {
            return None;
        }
        let account = match account {
            "" => None,
            account => {
                let (id, generation) = account.split_once('-')?;
                Some(Account::new(id.parse().ok()?, generation.parse().ok()?))
            }
        };
        let user = String::from_utf8(URL_SAFE_NO_PAD.decode(user).ok()?).ok()?;
        Some((user, account))
    }

    fn ticket(&self, user: &str, account: Option<Account>, expires: u64) -> String {
        let user = URL_SAFE_NO_PAD.encode(user);
        let expires = expires.to_string();
        let account = account
            .map(|account| format!("{}-{}", account.id, account.generation))
            .unwrap_or_default();
        let mut mac = self.key.clone();
        mac.update(signed_text(&expires, &user, &account).as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{expires}.{user}.{account}.{signature}")
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

    /// The request's one ticket. Two tickets are none, whichever is valid: a browser sends
    /// one cookie per name, path and domain, so a second ticket was planted (by a sibling
    /// subdomain, say), and letting either one win would let the planter choose who the
    /// visitor is.
    fn ticket_of<'r>(&self, request: &'r Parts) -> Option<&'r str> {
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
        Some(ticket)
    }
}

/// The store's answer for `user`: from its cache when it has one, without a future.
async fn lookup(store: &dyn DynStore, user: &str) -> Result<Option<Arc<Grants>>, Error> {
    match store.load_now(user) {
        Some(grants) => grants,
        None => store.load(user).await,
    }
}

/// Whether a ticket made for `account` is live, given the store's answer for its user: the
/// name still belongs to that account, at that session generation.
fn is_live(grants: Option<&Grants>, account: Option<Account>) -> bool {
    account.is_some() && grants.and_then(Grants::account) == account
}

/// What the signature covers, with a purpose prefix so that no other signed value made with
/// the same secret can pass as a ticket.
fn signed_text(expires: &str, user: &str, account: &str) -> String {
    format!("authz-ticket\0{expires}.{user}.{account}")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default()
}

impl Authenticator for TicketAuthenticator {
    async fn authenticate(&self, request: &Parts) -> Result<Option<String>, Error> {
        match self.ticket_of(request) {
            Some(ticket) => self.session(ticket).await,
            None => Ok(None),
        }
    }

    fn authenticate_now<'r>(
        &self,
        request: &'r Parts,
    ) -> Option<Result<Option<Cow<'r, str>>, Error>> {
        let Some(ticket) = self.ticket_of(request) else {
            return Some(Ok(None));
        };
        Some(self.session_now(ticket)?.map(|user| user.map(Cow::Owned)))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    fn tickets() -> TicketAuthenticator {
        TicketAuthenticator::new(&[7; 32]).unwrap()
    }

    /// A request carrying these `Cookie` headers.
    fn request(cookies: &[&str]) -> Parts {
        let mut request = axum::http::Request::builder();
        for cookie in cookies {
            request = request.header(COOKIE, *cookie);
        }
        request.body(()).unwrap().into_parts().0
    }

    /// The user the authenticator sees in a request with the cookie `authz_ticket={ticket}`.
    fn user_of(tickets: &TicketAuthenticator, ticket: &str) -> Option<String> {
        let request = request(&[&format!("authz_ticket={ticket}")]);
        match tickets.authenticate_now(&request) {
            Some(user) => user.unwrap().map(Cow::into_owned),
            None => panic!("the accounts below answer at once"),
        }
    }

    /// Accounts by name, as a store that knows accounts keeps them; changed by the tests.
    #[derive(Clone, Default)]
    struct Accounts(Arc<Mutex<Vec<(String, Account)>>>);

    impl Accounts {
        fn set(&self, user: &str, account: Option<Account>) {
            let mut accounts = self.0.lock().unwrap();
            accounts.retain(|(name, _)| name != user);
            accounts.extend(account.map(|account| (user.to_owned(), account)));
        }
    }

    impl CredentialsStore for Accounts {
        async fn load(&self, user: &str) -> Result<Option<Arc<Grants>>, Error> {
            CredentialsStore::load_now(self, user).expect("answers at once")
        }

        fn load_now(&self, user: &str) -> Option<Result<Option<Arc<Grants>>, Error>> {
            let accounts = self.0.lock().unwrap();
            let account = accounts.iter().find(|(name, _)| name == user);
            Some(Ok(account.map(|(_, account)| {
                Arc::new(Grants::new(["staff"], ["read"]).with_account(*account))
            })))
        }
    }

    #[test]
    fn a_ticket_names_its_user_until_it_expires() {
        let tickets = tickets();
        let ticket = tickets.ticket("rms", None, now() + 60);
        assert_eq!(tickets.verify(&ticket).as_deref(), Some("rms"));
        assert_eq!(
            tickets.verify(&tickets.ticket("rms", None, now() - 1)),
            None
        );
        let account = Some(Account::new(3, 1));
        let ticket = tickets.ticket("rms", account, now() + 60);
        assert_eq!(tickets.open(&ticket), Some(("rms".to_owned(), account)));
    }

    #[test]
    fn a_tampered_ticket_is_anonymous() {
        let tickets = tickets();
        let ticket = tickets.ticket("guido", Some(Account::new(4, 0)), now() + 60);
        let fields: Vec<&str> = ticket.split('.').collect();
        let [expires, _, account, signature] = fields[..] else {
            panic!("{ticket}")
        };
        let root = URL_SAFE_NO_PAD.encode("root");
        let forged = format!("{expires}.{root}.{account}.{signature}");
        assert_eq!(tickets.verify(&forged), None);
        let extended = ticket.replacen(expires, &(now() + 999_999).to_string(), 1);
        assert_eq!(tickets.verify(&extended), None);
        let other_account = ticket.replacen(".4-0.", ".5-0.", 1);
        assert_eq!(tickets.verify(&other_account), None);
        let older_generation = ticket.replacen(".4-0.", ".4-1.", 1);
        assert_eq!(tickets.verify(&older_generation), None);
        let other = TicketAuthenticator::new(&[8; 32]).unwrap();
        assert_eq!(other.verify(&ticket), None);
        for garbage in ["", ".", "...", "x.y.z.w", "1.2", "1.2.3"] {
            assert_eq!(tickets.verify(garbage), None);
        }
    }

    #[test]
    fn two_ticket_cookies_are_anonymous_whichever_is_valid() {
        let tickets = tickets();
        let genuine = tickets.ticket("rms", None, now() + 60);
        let one = request(&[&format!("theme=dark; authz_ticket={genuine}")]);
        let user = tickets.authenticate_now(&one).unwrap().unwrap();
        assert_eq!(user.as_deref(), Some("rms"));
        let planted = tickets.ticket("mallory", None, now() + 60);
        for cookies in [
            vec![format!("authz_ticket={planted}; authz_ticket={genuine}")],
            vec![
                format!("authz_ticket={genuine}"),
                "authz_ticket=garbage".to_owned(),
            ],
        ] {
            let cookies: Vec<&str> = cookies.iter().map(String::as_str).collect();
            let request = request(&cookies);
            let user = tickets.authenticate_now(&request).unwrap().unwrap();
            assert_eq!(user, None, "{cookies:?}");
        }
    }

    #[test]
    fn with_sessions_a_ticket_lives_as_long_as_its_account_and_generation() {
        let accounts = Accounts::default();
        let tickets = tickets().with_sessions(accounts.clone());
        accounts.set("alice", Some(Account::new(1, 0)));
        let ticket = tickets.ticket("alice", Some(Account::new(1, 0)), now() + 60);
        assert_eq!(user_of(&tickets, &ticket).as_deref(), Some("alice"));

        // Her sessions are ended: the generation moves on.
        accounts.set("alice", Some(Account::new(1, 1)));
        assert_eq!(user_of(&tickets, &ticket), None);
        let fresh = tickets.ticket("alice", Some(Account::new(1, 1)), now() + 60);
        assert_eq!(user_of(&tickets, &fresh).as_deref(), Some("alice"));

        // Deleted, then a new `alice`: another account, none of the old tickets.
        accounts.set("alice", None);
        assert_eq!(user_of(&tickets, &fresh), None);
        accounts.set("alice", Some(Account::new(2, 1)));
        assert_eq!(user_of(&tickets, &fresh), None);

        // A ticket that names no account has no session to check.
        let stateless = tickets.ticket("alice", None, now() + 60);
        assert_eq!(user_of(&tickets, &stateless), None);
        assert_eq!(
            user_of(&self::tickets(), &stateless).as_deref(),
            Some("alice")
        );
    }

    #[tokio::test]
    async fn sign_in_issues_a_ticket_for_the_account_the_store_has_now() {
        let accounts = Accounts::default();
        let tickets = tickets().with_sessions(accounts.clone());
        assert_eq!(tickets.sign_in("bob").await.unwrap(), None, "no such user");
        accounts.set("bob", Some(Account::new(9, 4)));
        let set_cookie = tickets.sign_in("bob").await.unwrap().unwrap();
        let cookie = set_cookie.to_str().unwrap();
        let ticket = cookie
            .split(';')
            .next()
            .unwrap()
            .strip_prefix("authz_ticket=")
            .unwrap();
        assert_eq!(
            tickets.open(ticket),
            Some(("bob".to_owned(), Some(Account::new(9, 4))))
        );
        assert_eq!(
            tickets.session(ticket).await.unwrap().as_deref(),
            Some("bob")
        );
        accounts.set("bob", Some(Account::new(9, 5)));
        assert_eq!(tickets.session(ticket).await.unwrap(), None);
    }

    #[test]
    fn short_secrets_are_refused() {
        assert_eq!(
            TicketAuthenticator::new(b"short").unwrap_err().to_string(),
            "the ticket secret has 5 bytes; use at least 32 random bytes"
        );
    }
}
