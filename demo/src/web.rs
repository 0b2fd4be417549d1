//! The demo's routes: each guarded as the seeds guard theirs.

use std::time::Duration;

use authz_runtime::routing::{delete, get, post};
use authz_runtime::signin::{
    BearerAuthenticator, PasswordChecks, SignInThrottle, TicketAuthenticator, safe_came_from,
};
use authz_runtime::sql::SqlError;
use authz_runtime::{Authz, AuthzLayer, Denied, Error, Refused, predicate, public, require};
use axum::Router;
use axum::extract::{Extension, Form, FromRef, Path, Query};
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::header::{LOCATION, RETRY_AFTER, SET_COOKIE};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use minijinja::value::Serde;

use crate::auth::{Clock, is_author, is_month};
use crate::client::ClientAddress;
use crate::csrf::Csrf;
use crate::db::{Demo, DemoError};
use crate::pages::{Visitor, message, render};

/// How the demo is served.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where `is_month` reads the month.
    pub clock: Clock,
    /// Whether the sign-in ticket and CSRF cookies are `Secure`, sent by browsers over HTTPS
    /// only: set it whenever the demo is reached over HTTPS (behind a TLS-terminating proxy).
    pub secure_cookies: bool,
    /// How many password checks run at once, and how long the others wait.
    pub password_checks: PasswordChecks,
    /// How many sign-in attempts a name and a client address may make.
    pub sign_in_throttle: SignInThrottle,
    /// How long a request may take, its body included, once its headers are in: past it the
    /// client gets `503 Service Unavailable` (the server could not answer in time; the client
    /// did nothing wrong, which `408` would say), with the security headers of every page.
    pub request_timeout: Duration,
}

impl Settings {
    /// The month from `clock`, cookies without `Secure` (for `http://127.0.0.1`).
    pub fn new(clock: Clock) -> Self {
        Self {
            clock,
            secure_cookies: false,
            password_checks: PasswordChecks::new(),
            sign_in_throttle: SignInThrottle::new(),
            request_timeout: Duration::from_secs(30),
        }
    }

    /// How long a request may take (default 30 s, longer than any of the demo's pages and a
    /// password check under load take).
    #[must_use]
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Other bounds on password checks.
    #[must_use]
    pub fn with_password_checks(mut self, checks: PasswordChecks) -> Self {
        self.password_checks = checks;
        self
    }

    /// Other limits on sign-in attempts.
    #[must_use]
    pub fn with_sign_in_throttle(mut self, throttle: SignInThrottle) -> Self {
        self.sign_in_throttle = throttle;
        self
    }

    /// Whether the cookies are `Secure`.
    #[must_use]
    pub fn with_secure_cookies(mut self, secure: bool) -> Self {
        self.secure_cookies = secure;
        self
    }
}

/// The whole app on `demo`'s database.
pub async fn app(demo: Demo, settings: Settings) -> Result<Router, DemoError> {
    let secret = demo.secret().await?;
    let tickets = TicketAuthenticator::new(&secret)
        .map_err(|error| DemoError::Other(error.to_string()))?
        .with_secure(settings.secure_cookies)
        // A ticket names the account and its session generation, checked against the
        // store's cached lookup: signing out, a new password or removing the user ends it.
        .with_sessions(demo.store.clone());
    let csrf = Csrf::new(&secret, tickets.cookie_name()).with_secure(settings.secure_cookies);
    // The dummy hash checked for unknown users, made now rather than on the first sign-in
    // with an unknown name, which would take longer than any other and so tell.
    tokio::task::spawn_blocking(authz_runtime::signin::warm_up)
        .await
        .map_err(|error| DemoError::Other(error.to_string()))?;

    // Every route goes through `authz_runtime::routing`, which takes only guarded handlers and
    // those marked `#[public]`: a forgotten attribute does not compile (and the demo's
    // `clippy.toml` forbids axum's own routing functions). The CSRF middleware runs inside the
    // authz layer (layers added later wrap earlier ones), so that its refusal page knows who
    // is signed in.
    let pages = Router::new()
        .route("/", get(home))
        .route("/posts/{id}", get(show_post))
        .route("/posts/{id}/edit", get(edit_form).merge(post(edit_post)))
        .route("/posts/{id}/delete", post(remove_post))
        .route("/release", get(release_page).merge(post(release)))
        .route("/login", get(login_form).merge(post(login)))
        .route("/logout", post(logout))
        .route("/admin", get(admin::home))
        .route("/admin/policies", get(admin::policies))
        .route("/manage", get(manage::page))
        .route("/manage/{*change}", post(manage::change))
        .layer(middleware::from_fn_with_state(
            csrf.clone(),
            crate::csrf::middleware,
        ))
        .layer(
            AuthzLayer::new(tickets.clone(), demo.store.clone())
                .with_login_url("/login")
                .with_denial_response(forbidden_view),
        );

    let token_demo = demo.clone();
    let api_tokens = BearerAuthenticator::new(move |token: String| {
        let demo = token_demo.clone();
        async move { demo.token_user(&token).await.map_err(Error::authenticator) }
    });
    // Outside the CSRF middleware: API clients authenticate with a bearer token, never a
    // cookie, so another site cannot make a browser send their requests.
    let api = Router::new()
        .route("/posts", get(api::posts))
        .route("/posts/{id}", delete(api::remove_post))
        .route("/me", get(api::me))
        .layer(AuthzLayer::new(api_tokens, demo.store.clone()).with_json_denials());

    // On every answer, unless its handler sets its own. The policy lets a page load only what
    // the site serves and its one inline stylesheet (in `base.html`, allowed by its hash, taken
    // from the template so that it follows any change): no inline script runs. No other site may
    // frame a page, receive its forms, or read its addresses in `Referer`. Every page shows
    // who is signed in and every API answer is for a token's user, so none may be stored.
    let stylesheet = include_str!("../templates/base.html")
        .split_once("<style>")
        .and_then(|(_, rest)| rest.split_once("</style>"))
        .map_or("", |(css, _)| css);
    let policy = HeaderValue::try_from(format!(
        "default-src 'self'; style-src 'sha256-{}'; frame-ancestors 'none'; \
         form-action 'self'; base-uri 'none'",
        STANDARD.encode(Sha256::digest(stylesheet)),
    ))
    .map_err(|error| DemoError::Other(error.to_string()))?;
    let security_headers = [
        (CONTENT_SECURITY_POLICY, policy),
        (X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (REFERRER_POLICY, HeaderValue::from_static("same-origin")),
        (CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ];

    let state = AppState {
        demo: demo.clone(),
        clock: settings.clock,
    };
    let app = pages
        .nest("/api", api)
        .layer(Extension(demo))
        .layer(Extension(tickets))
        .layer(Extension(SignInLimits {
            checks: settings.password_checks,
            throttle: settings.sign_in_throttle,
        }))
        // Inside the headers below, so that a request cut short gets them too.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            settings.request_timeout,
        ));
    let app = security_headers
        .into_iter()
        .fold(app, |app, (name, value)| {
            app.layer(SetResponseHeaderLayer::if_not_present(name, value))
        });
    Ok(app.with_state(state))
}

/// The router's state: what the demo's custom predicates read, each the part it needs
/// (`is_author` the database, `is_month` the clock), through axum's `FromRef`.
#[derive(Clone)]
pub struct AppState {
    demo: Demo,
    clock: Clock,
}

impl FromRef<AppState> for Demo {
    fn from_ref(state: &AppState) -> Self {
        state.demo.clone()
    }
}

impl FromRef<AppState> for Clock {
    fn from_ref(state: &AppState) -> Self {
        state.clock.clone()
    }
}

/// The demo's own 403 page (Pyramid's forbidden view): the rule's message, and a way to sign
/// in as someone else. 401s keep the default: browsers go to the sign-in page. The page's
/// header has the sign-out form, whose CSRF token comes from the refused request.
fn forbidden_view(denied: &Denied) -> Option<Response> {
    if denied.status != StatusCode::FORBIDDEN || denied.wants != authz_runtime::Wants::Html {
        return None;
    }
    let login = format!(
        "/login?came_from={}",
        denied
            .login_redirect
            .as_deref()
            .and_then(|redirect| redirect.split_once("came_from="))
            .map_or("%2F", |(_, came_from)| came_from)
    );
    let visitor = Visitor::of(&denied.request, denied.user.clone());
    Some(render(
        StatusCode::FORBIDDEN,
        "forbidden.html",
        &visitor,
        minijinja::context! { message => &denied.message, login },
    ))
}

fn see_other(location: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, location.to_owned())]).into_response()
}

fn failed(error: DemoError, visitor: &Visitor) -> Response {
    tracing::error!(%error, "a demo request failed");
    message(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "The request could not be completed.",
        visitor,
    )
}

#[public]
async fn home(visitor: Visitor, mut authz: Authz, Extension(demo): Extension<Demo>) -> Response {
    let actions = match post_actions(&mut authz).await {
        Ok(actions) => actions,
        Err(refused) => return refused.into_response(),
    };
    match demo.posts().await {
        Ok(posts) => render(
            StatusCode::OK,
            "home.html",
            &visitor,
            minijinja::context! { posts => Serde(&posts), ..actions },
        ),
        Err(error) => failed(error, &visitor),
    }
}

/// What the post pages offer the visitor, asked of the rules of `edit_post` and `remove_post`:
/// `may_manage` (editing any post; the author of a post may edit it too) and `may_remove`.
async fn post_actions(authz: &mut Authz) -> Result<minijinja::Value, Refused> {
    Ok(minijinja::context! {
        may_manage => authz.is_met(&predicate!(has_permission("manage"))).await?,
        may_remove => authz
            .is_met(&predicate!(any(is_user("root"), has_permission("manage"))))
            .await?,
    })
}

#[public]
async fn show_post(
    Path(id): Path<i64>,
    visitor: Visitor,
    mut authz: Authz,
    Extension(demo): Extension<Demo>,
) -> Response {
    match post_actions(&mut authz).await {
        Ok(actions) => post_page("post.html", &demo, id, &visitor, actions).await,
        Err(refused) => refused.into_response(),
    }
}

/// A page about post `id`, or 404.
async fn post_page(
    template: &str,
    demo: &Demo,
    id: i64,
    visitor: &Visitor,
    extra: minijinja::Value,
) -> Response {
    match demo.post(id).await {
        Ok(Some(post)) => render(
            StatusCode::OK,
            template,
            visitor,
            minijinja::context! { post => Serde(&post), ..extra },
        ),
        Ok(None) => message(StatusCode::NOT_FOUND, "No such post", "", visitor),
        Err(error) => failed(error, visitor),
    }
}

#[require(any(is_author(), has_permission("manage")), state = Demo)]
async fn edit_form(
    Path(id): Path<i64>,
    visitor: Visitor,
    Extension(demo): Extension<Demo>,
) -> Response {
    post_page("edit.html", &demo, id, &visitor, minijinja::context! {}).await
}

// The forms' `csrf` field is the CSRF middleware's, checked before any handler runs.
#[derive(Deserialize)]
struct EditForm {
    title: String,
    body: String,
}

#[require(any(is_author(), has_permission("manage")), state = Demo)]
async fn edit_post(
    Path(id): Path<i64>,
    visitor: Visitor,
    Extension(demo): Extension<Demo>,
    Form(form): Form<EditForm>,
) -> Response {
    match demo.edit_post(id, &form.title, &form.body).await {
        Ok(_) => see_other(&format!("/posts/{id}")),
        Err(error) => failed(error, &visitor),
    }
}

#[require(
    any(is_user("root"), has_permission("manage")),
    msg = "Only administrators can remove blog posts"
)]
async fn remove_post(
    Path(id): Path<i64>,
    visitor: Visitor,
    Extension(demo): Extension<Demo>,
) -> Response {
    match demo.remove_post(id).await {
        Ok(_) => see_other("/"),
        Err(error) => failed(error, &visitor),
    }
}

#[public]
async fn release_page(visitor: Visitor) -> Response {
    render(
        StatusCode::OK,
        "message.html",
        &visitor,
        minijinja::context! {
            heading => "Release",
            text => "Anyone granted the release permission may release, if and only if it is \
                     April or October.",
            action => "/release",
            button => "Release now",
        },
    )
}

#[require(all(any(is_month(4), is_month(10)), has_permission("release")), state = Clock)]
async fn release(visitor: Visitor) -> Response {
    message(
        StatusCode::OK,
        "Released",
        &format!(
            "The release was started by {}.",
            visitor.user.as_deref().unwrap_or("?")
        ),
        &visitor,
    )
}

#[derive(Deserialize)]
struct CameFrom {
    came_from: Option<String>,
}

#[public]
async fn login_form(Query(query): Query<CameFrom>, visitor: Visitor) -> Response {
    let came_from = safe_came_from(query.came_from.as_deref().unwrap_or("/")).to_owned();
    render(
        StatusCode::OK,
        "login.html",
        &visitor,
        minijinja::context! { came_from, name => "" },
    )
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    came_from: String,
    user: String,
    password: String,
}

/// What bounds sign-ins: how many passwords are checked at once, and how many attempts a
/// name and an address may make.
#[derive(Clone)]
struct SignInLimits {
    checks: PasswordChecks,
    throttle: SignInThrottle,
}

#[public]
async fn login(
    visitor: Visitor,
    ClientAddress(address): ClientAddress,
    Extension(demo): Extension<Demo>,
    Extension(tickets): Extension<TicketAuthenticator>,
    Extension(SignInLimits { checks, throttle }): Extension<SignInLimits>,
    Form(form): Form<LoginForm>,
) -> Response {
    let came_from = safe_came_from(&form.came_from).to_owned();
    let form_again = |status, error: String| {
        render(
            status,
            "login.html",
            &visitor,
            minijinja::context! { error, came_from => &came_from, name => &form.user },
        )
    };
    // Counted before the password is looked at, known name or not, so that neither the
    // answer nor its timing tells which names exist.
    if let Err(throttled) = throttle.check(&form.user, address) {
        let seconds = throttled.retry_after.as_secs().max(1);
        let page = form_again(
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many sign-in attempts: try again in {seconds} seconds"),
        );
        return with_retry_after(page, seconds);
    }
    let stored = match demo.stored_password(&form.user).await {
        Ok(stored) => stored,
        Err(error) => return failed(error, &visitor),
    };
    match checks.verify(&form.password, stored.as_deref()).await {
        Ok(true) => match tickets.sign_in(&form.user).await {
            Ok(Some(ticket)) => (
                StatusCode::SEE_OTHER,
                [(SET_COOKIE, ticket)],
                [(LOCATION, came_from)],
            )
                .into_response(),
            // Removed between the password check and now.
            Ok(None) => form_again(
                StatusCode::UNAUTHORIZED,
                "Unknown user name or wrong password".to_owned(),
            ),
            Err(error) => failed(DemoError::Other(error.to_string()), &visitor),
        },
        // The same answer for an unknown user and a wrong password; whoever is signed in
        // already stays so, and the header says who.
        Ok(false) => {
            tracing::info!(
                target: "demo::signin",
                user = form.user,
                address = address.map(tracing::field::display),
                "sign-in failed"
            );
            form_again(
                StatusCode::UNAUTHORIZED,
                "Unknown user name or wrong password".to_owned(),
            )
        }
        Err(busy) => {
            let seconds = busy.retry_after.as_secs().max(1);
            let page = form_again(
                StatusCode::SERVICE_UNAVAILABLE,
                "Too many sign-ins at once: try again in a moment".to_owned(),
            );
            with_retry_after(page, seconds)
        }
    }
}

/// `response` with `Retry-After: seconds`.
fn with_retry_after(mut response: Response, seconds: u64) -> Response {
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// Signs the visitor out, ending every session of theirs: the tickets are stateless but for
/// the account's session generation, which this moves on, so a copy of this browser's ticket
/// stops working too, and so do the user's other browsers.
#[public]
async fn logout(
    visitor: Visitor,
    Extension(demo): Extension<Demo>,
    Extension(tickets): Extension<TicketAuthenticator>,
) -> Response {
    let clear = [(SET_COOKIE, tickets.clear())];
    if let Some(user) = &visitor.user {
        match demo.store.end_sessions(user).await {
            Ok(()) => tracing::info!(target: "demo::signin", user, "signed out everywhere"),
            // Removed meanwhile: no session of theirs is left to end.
            Err(SqlError::NotFound { .. }) => {}
            // The cookie goes, but a copy of the ticket would still work: say so.
            Err(error) => {
                let mut page = failed(DemoError::Store(error), &visitor);
                page.headers_mut().insert(SET_COOKIE, tickets.clear());
                return page;
            }
        }
    }
    (StatusCode::SEE_OTHER, clear, [(LOCATION, "/".to_owned())]).into_response()
}

/// The Pyramid seed's admin side: only the `admin` group.
#[authz_runtime::allow_only(in_group("admin"))]
mod admin {
    use axum::http::StatusCode;
    use axum::response::Response;

    use crate::pages::{Visitor, render};

    pub(crate) async fn home(visitor: Visitor) -> Response {
        render(
            StatusCode::OK,
            "admin_home.html",
            &visitor,
            minijinja::context! {},
        )
    }

    /// Every guarded handler of the demo with its rule: who may call what.
    pub(crate) async fn policies(visitor: Visitor) -> Response {
        render(
            StatusCode::OK,
            "policies.html",
            &visitor,
            minijinja::context! {
                policies => minijinja::value::Serde(crate::policies::inventory()),
            },
        )
    }
}

/// Managing users, groups, memberships and permissions through the store's admin API.
#[authz_runtime::allow_only(has_permission("manage_users"))]
mod manage {
    use axum::extract::{Extension, Form, Path};
    use axum::http::StatusCode;
    use axum::response::Response;
    use serde::{Deserialize, Serialize};

    use super::{failed, see_other};
    use minijinja::value::Serde;

    use crate::db::{Demo, DemoError};
    use crate::pages::{Visitor, render};

    #[derive(Serialize)]
    struct UserRow {
        name: String,
        groups: Vec<String>,
    }

    #[derive(Serialize)]
    struct GroupRow {
        name: String,
        members: Vec<String>,
        permissions: Vec<String>,
    }

    async fn tables(demo: &Demo) -> Result<(Vec<UserRow>, Vec<GroupRow>), DemoError> {
        let mut users = Vec::new();
        for name in demo.store.users().await? {
            let groups = demo.store.user_groups(&name).await?;
            users.push(UserRow { name, groups });
        }
        let mut groups = Vec::new();
        for name in demo.store.groups().await? {
            let members = demo.store.group_members(&name).await?;
            let permissions = demo.store.group_permissions(&name).await?;
            groups.push(GroupRow {
                name,
                members,
                permissions,
            });
        }
        Ok((users, groups))
    }

    async fn show(demo: &Demo, visitor: &Visitor, error: Option<String>) -> Response {
        let status = if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        };
        match tables(demo).await {
            Ok((users, groups)) => render(
                status,
                "manage.html",
                visitor,
                minijinja::context! { users => Serde(&users), groups => Serde(&groups), error },
            ),
            Err(error) => failed(error, visitor),
        }
    }

    pub(crate) async fn page(visitor: Visitor, Extension(demo): Extension<Demo>) -> Response {
        show(&demo, &visitor, None).await
    }

    #[derive(Deserialize)]
    pub(crate) struct Change {
        #[serde(default)]
        name: String,
        #[serde(default)]
        password: String,
        #[serde(default)]
        user: String,
        #[serde(default)]
        group: String,
        #[serde(default)]
        permission: String,
        #[serde(default)]
        action: String,
    }

    /// Every change of the page, `POST /manage/{change}`: one guarded handler, so that no
    /// change can be added without the module's rule.
    pub(crate) async fn change(
        Path(change): Path<String>,
        visitor: Visitor,
        Extension(demo): Extension<Demo>,
        Form(form): Form<Change>,
    ) -> Response {
        match apply(&demo, &change, &form).await {
            Ok(()) => see_other("/manage"),
            Err(error) => show(&demo, &visitor, Some(error.to_string())).await,
        }
    }

    async fn apply(demo: &Demo, change: &str, form: &Change) -> Result<(), DemoError> {
        let store = &demo.store;
        match (change, form.action.as_str()) {
            ("users", _) => demo.add_user(&form.name, &form.password).await?,
            ("users/delete", _) => store.delete_user(&form.name).await?,
            ("groups", _) => store.create_group(&form.name).await?,
            ("groups/delete", _) => store.delete_group(&form.name).await?,
            ("members", "remove") => demo.remove_member(&form.user, &form.group).await?,
            ("members", _) => store.add_user_to_group(&form.user, &form.group).await?,
            ("grants", "revoke") => demo.revoke(&form.permission, &form.group).await?,
            ("grants", _) => demo.grant(&form.permission, &form.group).await?,
            _ => {
                return Err(DemoError::Other(format!(
                    "there is no change named {change:?}"
                )));
            }
        }
        Ok(())
    }
}

/// The JSON API, for clients with a bearer token.
mod api {
    use authz_runtime::{Identity, require};
    use axum::Json;
    use axum::extract::{Extension, Path};
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};
    use serde_json::json;

    use crate::db::Demo;

    fn failure(error: crate::db::DemoError) -> Response {
        tracing::error!(%error, "an API request failed");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"status": 500, "detail": "The request could not be completed"})),
        )
            .into_response()
    }

    #[require(not_anonymous())]
    pub(super) async fn posts(Extension(demo): Extension<Demo>) -> Response {
        match demo.posts().await {
            Ok(posts) => Json(posts).into_response(),
            Err(error) => failure(error),
        }
    }

    #[require(
        any(is_user("root"), has_permission("manage")),
        msg = "Only administrators can remove blog posts"
    )]
    pub(super) async fn remove_post(
        Path(id): Path<i64>,
        Extension(demo): Extension<Demo>,
    ) -> Response {
        match demo.remove_post(id).await {
            Ok(true) => Json(json!({"removed": id})).into_response(),
            Ok(false) => (
                StatusCode::NOT_FOUND,
                Json(json!({"status": 404, "detail": format!("There is no post {id}")})),
            )
                .into_response(),
            Err(error) => failure(error),
        }
    }

    #[require(not_anonymous())]
    pub(super) async fn me(Identity(user): Identity) -> Response {
        Json(json!({ "user": user })).into_response()
    }
}
