//! The demo's routes: each guarded as the seeds guard theirs.

use authz_runtime::signin::{BearerAuthenticator, TicketAuthenticator, safe_came_from};
use authz_runtime::{AuthzLayer, Denied, Error, Identity, Wants, require};
use axum::Router;
use axum::extract::{Extension, Form, Path, Query};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use minijinja::value::Serde;

use crate::auth::{Clock, is_author, is_month};
use crate::csrf::{Csrf, CsrfToken};
use crate::db::{Demo, DemoError};
use crate::pages::{message, render};

/// The whole app on `demo`'s database, with the seasonal release's month read from `clock`.
pub async fn app(demo: Demo, clock: Clock) -> Result<Router, DemoError> {
    let secret = demo.secret().await?;
    let tickets =
        TicketAuthenticator::new(&secret).map_err(|error| DemoError::Other(error.to_string()))?;
    let csrf = Csrf::new(&secret);

    let pages = Router::new()
        .route("/", get(home))
        .route("/posts/{id}", get(show_post))
        .route("/posts/{id}/edit", get(edit_form).post(edit_post))
        .route("/posts/{id}/delete", post(remove_post))
        .route("/release", get(release_page).post(release))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/admin", get(admin::home))
        .route("/manage", get(manage::page))
        .route("/manage/{*change}", post(manage::change))
        .layer(
            AuthzLayer::new(tickets.clone(), demo.store.clone())
                .with_login_url("/login")
                .with_denial_response(forbidden_view),
        )
        .layer(middleware::from_fn_with_state(
            csrf.clone(),
            crate::csrf::middleware,
        ));

    let token_demo = demo.clone();
    let api_tokens = BearerAuthenticator::new(move |token: String| {
        let demo = token_demo.clone();
        async move { demo.token_user(&token).await.map_err(Error::authenticator) }
    });
    let api = Router::new()
        .route("/posts", get(api::posts))
        .route("/posts/{id}", axum::routing::delete(api::remove_post))
        .route("/me", get(api::me))
        .layer(AuthzLayer::new(api_tokens, demo.store.clone()).with_json_denials());

    Ok(pages
        .nest("/api", api)
        .layer(Extension(demo))
        .layer(Extension(clock))
        .layer(Extension(tickets))
        .layer(Extension(csrf)))
}

/// The demo's own 403 page (Pyramid's forbidden view): the rule's message, and a way to sign
/// in as someone else. 401s keep the default: browsers go to the sign-in page.
fn forbidden_view(denied: &Denied) -> Option<Response> {
    if denied.status != StatusCode::FORBIDDEN || denied.wants != Wants::Html {
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
    Some(render(
        StatusCode::FORBIDDEN,
        "forbidden.html",
        minijinja::context! { message => &denied.message, login, user => &denied.user },
    ))
}

fn see_other(location: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, location.to_owned())]).into_response()
}

fn failed(error: DemoError) -> Response {
    tracing::error!(%error, "a demo request failed");
    message(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "The request could not be completed.",
        None,
    )
}

fn csrf_rejected(user: Option<&str>) -> Response {
    message(
        StatusCode::FORBIDDEN,
        "Request refused",
        "The form's CSRF token is missing or invalid. Reload the page and try again.",
        user,
    )
}

async fn home(
    Identity(user): Identity,
    Extension(demo): Extension<Demo>,
    Extension(CsrfToken(csrf)): Extension<CsrfToken>,
) -> Response {
    match demo.posts().await {
        Ok(posts) => render(
            StatusCode::OK,
            "home.html",
            minijinja::context! { posts => Serde(&posts), user, csrf },
        ),
        Err(error) => failed(error),
    }
}

async fn show_post(
    Path(id): Path<i64>,
    Identity(user): Identity,
    Extension(demo): Extension<Demo>,
    Extension(CsrfToken(csrf)): Extension<CsrfToken>,
) -> Response {
    post_page("post.html", &demo, id, user, csrf).await
}

/// A page about post `id`, or 404.
async fn post_page(
    template: &str,
    demo: &Demo,
    id: i64,
    user: Option<String>,
    csrf: String,
) -> Response {
    match demo.post(id).await {
        Ok(Some(post)) => render(
            StatusCode::OK,
            template,
            minijinja::context! { post => Serde(&post), user, csrf },
        ),
        Ok(None) => message(StatusCode::NOT_FOUND, "No such post", "", user.as_deref()),
        Err(error) => failed(error),
    }
}

#[require(any(is_author(), has_permission("manage")))]
async fn edit_form(
    Path(id): Path<i64>,
    Identity(user): Identity,
    Extension(demo): Extension<Demo>,
    Extension(CsrfToken(csrf)): Extension<CsrfToken>,
) -> Response {
    post_page("edit.html", &demo, id, user, csrf).await
}

#[derive(Deserialize)]
struct EditForm {
    #[serde(default)]
    csrf: String,
    title: String,
    body: String,
}

#[require(any(is_author(), has_permission("manage")))]
async fn edit_post(
    Path(id): Path<i64>,
    Identity(user): Identity,
    headers: HeaderMap,
    Extension(demo): Extension<Demo>,
    Extension(csrf): Extension<Csrf>,
    Form(form): Form<EditForm>,
) -> Response {
    if !csrf.verify(&headers, &form.csrf) {
        return csrf_rejected(user.as_deref());
    }
    match demo.edit_post(id, &form.title, &form.body).await {
        Ok(_) => see_other(&format!("/posts/{id}")),
        Err(error) => failed(error),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

#[require(
    any(is_user("root"), has_permission("manage")),
    msg = "Only administrators can remove blog posts"
)]
async fn remove_post(
    Path(id): Path<i64>,
    Identity(user): Identity,
    headers: HeaderMap,
    Extension(demo): Extension<Demo>,
    Extension(csrf): Extension<Csrf>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !csrf.verify(&headers, &form.csrf) {
        return csrf_rejected(user.as_deref());
    }
    match demo.remove_post(id).await {
        Ok(_) => see_other("/"),
        Err(error) => failed(error),
    }
}

async fn release_page(
    Identity(user): Identity,
    Extension(CsrfToken(csrf)): Extension<CsrfToken>,
) -> Response {
    render(
        StatusCode::OK,
        "message.html",
        minijinja::context! {
            heading => "Release",
            text => "Anyone granted the release permission may release, if and only if it is \
                     April or October.",
            action => "/release",
            button => "Release now",
            user,
            csrf,
        },
    )
}

#[require(all(any(is_month(4), is_month(10)), has_permission("release")))]
async fn release(
    Identity(user): Identity,
    headers: HeaderMap,
    Extension(csrf): Extension<Csrf>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !csrf.verify(&headers, &form.csrf) {
        return csrf_rejected(user.as_deref());
    }
    message(
        StatusCode::OK,
        "Released",
        &format!(
            "The release was started by {}.",
            user.as_deref().unwrap_or("?")
        ),
        user.as_deref(),
    )
}

#[derive(Deserialize)]
struct CameFrom {
    came_from: Option<String>,
}

async fn login_form(
    Query(query): Query<CameFrom>,
    Identity(user): Identity,
    Extension(CsrfToken(csrf)): Extension<CsrfToken>,
) -> Response {
    let came_from = safe_came_from(query.came_from.as_deref().unwrap_or("/")).to_owned();
    render(
        StatusCode::OK,
        "login.html",
        minijinja::context! { came_from, user, csrf, name => "" },
    )
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    came_from: String,
    user: String,
    password: String,
}

async fn login(
    headers: HeaderMap,
    Extension(demo): Extension<Demo>,
    Extension(csrf): Extension<Csrf>,
    Extension(tickets): Extension<TicketAuthenticator>,
    Extension(CsrfToken(token)): Extension<CsrfToken>,
    Form(form): Form<LoginForm>,
) -> Response {
    if !csrf.verify(&headers, &form.csrf) {
        return csrf_rejected(None);
    }
    let came_from = safe_came_from(&form.came_from).to_owned();
    match demo.check_password(&form.user, &form.password).await {
        Ok(true) => (
            StatusCode::SEE_OTHER,
            [(SET_COOKIE, tickets.issue(&form.user))],
            [(LOCATION, came_from)],
        )
            .into_response(),
        // The same answer for an unknown user and a wrong password.
        Ok(false) => render(
            StatusCode::UNAUTHORIZED,
            "login.html",
            minijinja::context! {
                error => "Unknown user name or wrong password",
                came_from,
                name => form.user,
                csrf => token,
            },
        ),
        Err(error) => failed(error),
    }
}

async fn logout(
    headers: HeaderMap,
    Extension(csrf): Extension<Csrf>,
    Extension(tickets): Extension<TicketAuthenticator>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !csrf.verify(&headers, &form.csrf) {
        return csrf_rejected(None);
    }
    (
        StatusCode::SEE_OTHER,
        [(SET_COOKIE, tickets.clear())],
        [(LOCATION, "/".to_owned())],
    )
        .into_response()
}

/// The Pyramid seed's admin side: only the `admin` group.
#[authz_runtime::allow_only(in_group("admin"))]
mod admin {
    use authz_runtime::Identity;
    use axum::extract::Extension;
    use axum::http::StatusCode;
    use axum::response::Response;

    use crate::csrf::CsrfToken;
    use crate::pages::render;

    pub(crate) async fn home(
        Identity(user): Identity,
        Extension(CsrfToken(csrf)): Extension<CsrfToken>,
    ) -> Response {
        render(
            StatusCode::OK,
            "admin_home.html",
            minijinja::context! { user, csrf },
        )
    }
}

/// Managing users, groups, memberships and permissions through the store's admin API.
#[authz_runtime::allow_only(has_permission("manage_users"))]
mod manage {
    use authz_runtime::Identity;
    use axum::extract::{Extension, Form, Path};
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::Response;
    use serde::{Deserialize, Serialize};

    use super::{csrf_rejected, failed, see_other};
    use minijinja::value::Serde;

    use crate::csrf::{Csrf, CsrfToken};
    use crate::db::{Demo, DemoError};
    use crate::pages::render;

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

    async fn show(
        demo: &Demo,
        user: Option<String>,
        csrf: String,
        error: Option<String>,
    ) -> Response {
        let status = if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        };
        match tables(demo).await {
            Ok((users, groups)) => render(
                status,
                "manage.html",
                minijinja::context! { users => Serde(&users), groups => Serde(&groups), user, csrf, error },
            ),
            Err(error) => failed(error),
        }
    }

    pub(crate) async fn page(
        Identity(user): Identity,
        Extension(demo): Extension<Demo>,
        Extension(CsrfToken(csrf)): Extension<CsrfToken>,
    ) -> Response {
        show(&demo, user, csrf, None).await
    }

    #[derive(Deserialize)]
    pub(crate) struct Change {
        #[serde(default)]
        csrf: String,
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
    // An axum handler: each argument is an extractor.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn change(
        Path(change): Path<String>,
        Identity(user): Identity,
        headers: HeaderMap,
        Extension(demo): Extension<Demo>,
        Extension(csrf): Extension<Csrf>,
        Extension(CsrfToken(token)): Extension<CsrfToken>,
        Form(form): Form<Change>,
    ) -> Response {
        if !csrf.verify(&headers, &form.csrf) {
            return csrf_rejected(user.as_deref());
        }
        match apply(&demo, &change, &form).await {
            Ok(()) => see_other("/manage"),
            Err(error) => show(&demo, user, token, Some(error.to_string())).await,
        }
    }

    async fn apply(demo: &Demo, change: &str, form: &Change) -> Result<(), DemoError> {
        let store = &demo.store;
        match (change, form.action.as_str()) {
            ("users", _) => demo.add_user(&form.name, &form.password).await?,
            ("users/delete", _) => store.delete_user(&form.name).await?,
            ("groups", _) => store.create_group(&form.name).await?,
            ("groups/delete", _) => store.delete_group(&form.name).await?,
            ("members", "remove") => {
                store
                    .remove_user_from_group(&form.user, &form.group)
                    .await?
            }
            ("members", _) => store.add_user_to_group(&form.user, &form.group).await?,
            ("grants", "revoke") => {
                store
                    .revoke_permission(&form.permission, &form.group)
                    .await?
            }
            ("grants", _) => {
                if !store.permissions().await?.contains(&form.permission) {
                    store.create_permission(&form.permission).await?;
                }
                store
                    .grant_permission(&form.permission, &form.group)
                    .await?
            }
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
