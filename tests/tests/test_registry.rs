//! The audit registry lists every guard with its handler, rule, message and source line.
// The handlers are only listed, never routed.
#![allow(dead_code)]

use authz_runtime::{allow_only, guarded_handlers, require};

#[require(
    any(is_user("root"), has_permission("manage")),
    msg = "Only administrators can remove blog posts"
)]
async fn remove_post() {}

#[allow_only(not_anonymous())]
mod admin {
    use authz_runtime::{public, require};

    #[require(in_group("admins"))]
    pub(crate) async fn home() {}

    #[public]
    pub(crate) async fn sign_in() {}

    #[authz_runtime::allow_only(has_permission("audit"))]
    pub(crate) mod audit {
        pub(crate) async fn log() {}
    }
}

fn rules_of(handler: &str) -> Vec<(&'static str, &'static str)> {
    guarded_handlers()
        .into_iter()
        .filter(|site| site.handler == handler)
        .map(|site| (site.attribute, site.rule.text()))
        .collect()
}

#[test]
fn lists_each_guard_in_the_order_it_runs() {
    assert_eq!(
        rules_of("test_registry::remove_post"),
        [(
            "require",
            r#"any(is_user("root"), has_permission("manage"))"#
        )]
    );
    assert_eq!(
        rules_of("test_registry::admin::home"),
        [
            ("allow_only", "not_anonymous()"),
            ("require", r#"in_group("admins")"#)
        ]
    );
    assert_eq!(
        rules_of("test_registry::admin::audit::log"),
        [
            ("allow_only", "not_anonymous()"),
            ("allow_only", r#"has_permission("audit")"#)
        ]
    );
    assert!(rules_of("test_registry::admin::sign_in").is_empty());
}

#[test]
fn records_message_and_source_position() {
    let site = guarded_handlers()
        .into_iter()
        .find(|site| site.handler == "test_registry::remove_post")
        .expect("remove_post is guarded");
    assert_eq!(
        site.message,
        Some("Only administrators can remove blog posts")
    );
    assert_eq!(site.file, "tests/tests/test_registry.rs");
    let line = include_str!("test_registry.rs")
        .lines()
        .position(|line| line.starts_with("async fn remove_post"))
        .expect("the handler is in this file")
        + 1;
    assert_eq!(site.line as usize, line);
}
