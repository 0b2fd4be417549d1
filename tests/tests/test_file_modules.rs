//! Route modules in their own files, guarded as a whole by `#[allow_only]` on a controller's
//! `impl`, nested in an `#[allow_only]` module: real requests meet the rules outer first, the
//! sign-in page stays open, and the registry lists every handler.

mod file_app;
mod support;

use axum::http::StatusCode;
use support::get;

#[tokio::test]
async fn controllers_in_files_are_guarded_as_a_whole() {
    let app = file_app::app();
    let cases = [
        (
            "/admin",
            None,
            StatusCode::UNAUTHORIZED,
            "The current user must belong to the group \"admin\"",
        ),
        (
            "/admin",
            Some("rms"),
            StatusCode::FORBIDDEN,
            "The current user must belong to the group \"admin\"",
        ),
        ("/admin", Some("root"), StatusCode::OK, "admin home"),
        ("/admin/login", None, StatusCode::OK, "admin sign-in"),
        (
            "/admin/users",
            Some("rms"),
            StatusCode::FORBIDDEN,
            "The current user must belong to the group \"admin\"",
        ),
        ("/admin/users", Some("root"), StatusCode::OK, "the users"),
        (
            "/admin/audit/3",
            Some("rms"),
            StatusCode::FORBIDDEN,
            "The current user must belong to the group \"admin\"",
        ),
        (
            "/admin/audit/3",
            Some("root"),
            StatusCode::FORBIDDEN,
            "Only even audit entries can be read",
        ),
        (
            "/admin/audit/4",
            Some("root"),
            StatusCode::OK,
            "audit entry 4",
        ),
        // Outer module first, then the controller, then the handler's own rule.
        (
            "/drafts",
            None,
            StatusCode::UNAUTHORIZED,
            "Sign in to see the drafts",
        ),
        (
            "/drafts",
            Some("root"),
            StatusCode::FORBIDDEN,
            "The current user must belong to the group \"writers\"",
        ),
        ("/drafts", Some("rms"), StatusCode::OK, "the drafts"),
        (
            "/drafts/publish",
            None,
            StatusCode::UNAUTHORIZED,
            "Sign in to see the drafts",
        ),
        (
            "/drafts/publish",
            Some("root"),
            StatusCode::FORBIDDEN,
            "The current user must belong to the group \"writers\"",
        ),
        (
            "/drafts/publish",
            Some("linus"),
            StatusCode::OK,
            "published",
        ),
    ];
    for (path, user, status, body) in cases {
        let call = get(path).accept("text/plain");
        let seen = match user {
            Some(user) => call.user(user),
            None => call,
        }
        .send(&app)
        .await;
        assert_eq!(
            (seen.status, seen.body.as_str()),
            (status, body),
            "{path} for {user:?}"
        );
    }
    assert_eq!(file_app::admin::Admin::title(), "Admin");

    // A controller's own rule with a custom predicate.
    let reports = |user: Option<&str>, hour: Option<&str>| {
        let mut call = get("/reports").accept("text/plain");
        if let Some(user) = user {
            call = call.user(user);
        }
        if let Some(hour) = hour {
            call = call.header("x-hour", hour);
        }
        call.send(&app)
    };
    let seen = reports(None, Some("10")).await;
    assert_eq!(seen.status, StatusCode::UNAUTHORIZED);
    let seen = reports(Some("rms"), Some("20")).await;
    assert_eq!(
        (seen.status, seen.body.as_str()),
        (
            StatusCode::FORBIDDEN,
            "Reports are open during office hours"
        )
    );
    let seen = reports(Some("rms"), Some("10")).await;
    assert_eq!(
        (seen.status, seen.body.as_str()),
        (StatusCode::OK, "the reports")
    );
}

#[test]
fn the_registry_lists_every_handler_of_the_controllers() {
    let mut sites: Vec<(String, &str, String)> = authz_runtime::guarded_handlers()
        .into_iter()
        .filter(|site| site.handler.contains("file_app"))
        .map(|site| {
            (
                site.handler.to_owned(),
                site.attribute,
                site.rule.text().to_owned(),
            )
        })
        .collect();
    sites.sort();
    let expected = [
        (
            "file_app::admin::Admin::audit",
            "allow_only",
            r#"in_group("admin")"#,
        ),
        ("file_app::admin::Admin::audit", "require", "even_entry()"),
        (
            "file_app::admin::Admin::home",
            "allow_only",
            r#"in_group("admin")"#,
        ),
        (
            "file_app::admin::Admin::users",
            "allow_only",
            r#"in_group("admin")"#,
        ),
        (
            "file_app::admin::Admin::users",
            "require",
            r#"has_permission("manage_users")"#,
        ),
        (
            "file_app::blog::drafts::Drafts::list",
            "allow_only",
            "not_anonymous()",
        ),
        (
            "file_app::blog::drafts::Drafts::list",
            "allow_only",
            r#"in_group("writers")"#,
        ),
        (
            "file_app::blog::drafts::Drafts::publish",
            "allow_only",
            "not_anonymous()",
        ),
        (
            "file_app::blog::drafts::Drafts::publish",
            "allow_only",
            r#"in_group("writers")"#,
        ),
        (
            "file_app::blog::drafts::Drafts::publish",
            "require",
            r#"has_permission("publish")"#,
        ),
        (
            "file_app::reports::Reports::list",
            "allow_only",
            "all(not_anonymous(), office_hours())",
        ),
    ];
    let mut expected: Vec<(String, &str, String)> = expected
        .into_iter()
        .map(|(handler, attribute, rule)| {
            (
                format!("test_file_modules::{handler}"),
                attribute,
                rule.to_owned(),
            )
        })
        .collect();
    expected.sort();
    assert_eq!(sites, expected);
}
