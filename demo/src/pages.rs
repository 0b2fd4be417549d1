//! The demo's HTML, rendered with minijinja from the templates in `demo/templates/`.

use std::sync::LazyLock;

use authz_runtime::{Authz, Identity, predicate};
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};
use minijinja::Environment;

use crate::csrf::CsrfToken;

/// Who is looking at a page, and the CSRF token of the page's forms: what the header of every
/// page needs (it shows the signed-in user and a sign-out form, which needs the token, and
/// only the links to the sides the visitor may use).
#[derive(Debug, Clone, Default)]
pub(crate) struct Visitor {
    /// The signed-in user, if any.
    pub(crate) user: Option<String>,
    /// The request's CSRF token.
    pub(crate) csrf: String,
    /// Which links of the header lead somewhere the visitor may go.
    pub(crate) may: May,
}

/// The header's links that the visitor may follow, asked of the same rules as the handlers'.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub(crate) struct May {
    /// Start a release: the `release` permission (the month is the release page's to explain).
    pub(crate) release: bool,
    /// The admin side: `#[allow_only(in_group("admin"))]`.
    pub(crate) admin: bool,
    /// Users and groups: `#[allow_only(has_permission("manage_users"))]`.
    pub(crate) manage_users: bool,
}

impl Visitor {
    /// The visitor of `request`, known to be `user`, shown no links but the home page's: for
    /// the pages that are rendered where nothing can be asked (a denial).
    pub(crate) fn of(request: &Parts, user: Option<String>) -> Self {
        let csrf = request
            .extensions
            .get::<CsrfToken>()
            .map(|CsrfToken(token)| token.clone())
            .unwrap_or_default();
        Self {
            user,
            csrf,
            may: May::default(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Identity(user) = Identity::from_request_parts(parts, state).await?;
        let mut authz = Authz::from_request_parts(parts, state).await?;
        // One lookup of the visitor's grants for the three, shared with the page's guards.
        let may = May {
            release: authz.is_met(&predicate!(has_permission("release"))).await?,
            admin: authz.is_met(&predicate!(in_group("admin"))).await?,
            manage_users: authz
                .is_met(&predicate!(has_permission("manage_users")))
                .await?,
        };
        Ok(Self {
            may,
            ..Self::of(parts, user)
        })
    }
}

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut templates = Environment::new();
    for (name, source) in [
        ("base.html", include_str!("../templates/base.html")),
        ("home.html", include_str!("../templates/home.html")),
        ("post.html", include_str!("../templates/post.html")),
        ("edit.html", include_str!("../templates/edit.html")),
        ("login.html", include_str!("../templates/login.html")),
        (
            "forbidden.html",
            include_str!("../templates/forbidden.html"),
        ),
        ("message.html", include_str!("../templates/message.html")),
        (
            "admin_home.html",
            include_str!("../templates/admin_home.html"),
        ),
        ("manage.html", include_str!("../templates/manage.html")),
        ("policies.html", include_str!("../templates/policies.html")),
    ] {
        // The templates ship inside the binary; one that does not parse fails every test.
        if let Err(error) = templates.add_template(name, source) {
            tracing::error!(template = name, %error, "a demo template does not parse");
        }
    }
    templates
});

/// The page `name` rendered for `visitor` with `context`, with `status`.
pub(crate) fn render(
    status: StatusCode,
    name: &str,
    visitor: &Visitor,
    context: minijinja::Value,
) -> Response {
    let context = minijinja::context! {
        user => &visitor.user,
        csrf => &visitor.csrf,
        may => minijinja::value::Serde(visitor.may),
        ..context
    };
    let rendered = TEMPLATES
        .get_template(name)
        .and_then(|template| template.render(context));
    match rendered {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(template = name, %error, "rendering a page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page could not be rendered",
            )
                .into_response()
        }
    }
}

/// A page with a heading and a sentence.
pub(crate) fn message(
    status: StatusCode,
    heading: &str,
    text: &str,
    visitor: &Visitor,
) -> Response {
    render(
        status,
        "message.html",
        visitor,
        minijinja::context! { heading, text },
    )
}
