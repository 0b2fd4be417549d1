//! The demo's HTML, rendered with minijinja from the templates in `demo/templates/`.

use std::sync::LazyLock;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::Environment;

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
    ] {
        // The templates ship inside the binary; one that does not parse fails every test.
        if let Err(error) = templates.add_template(name, source) {
            tracing::error!(template = name, %error, "a demo template does not parse");
        }
    }
    templates
});

/// The page `name` rendered with `context`, with `status`.
pub(crate) fn render(status: StatusCode, name: &str, context: minijinja::Value) -> Response {
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
    user: Option<&str>,
) -> Response {
    render(
        status,
        "message.html",
        minijinja::context! { heading, text, user },
    )
}
