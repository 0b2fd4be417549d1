//! A denial says which predicate of the rule decided it: the unmet leaf of an `all`, the `any`
//! whose children all failed, the `not` whose child was met, the member of a list, the custom
//! predicate. The same node reaches the application's denial response, and every guard's rule
//! can be listed as its tree.

mod support;

use authz_runtime::rule::{Kind, Message};
use authz_runtime::testing::{TestAuthenticator, TestRequest};
use authz_runtime::{
    AuthzLayer, Context, Denial, Denied, Error, Grants, MemoryStore, Predicate, Verdict,
    guarded_handlers, predicate, require,
};
use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use support::{block_on, get as request};

/// The denial of `rule` for `guido`, in `staff`, with the `read` permission.
fn denial_of<P: Predicate>(rule: &P) -> Denial {
    let mut guido = TestRequest::new(Some("guido"), Grants::new(["staff"], ["read"]));
    match block_on(guido.evaluate(rule)).expect("in-memory credentials never fail") {
        Verdict::Unmet(denial) => denial,
        Verdict::Met => panic!("expected a denial"),
    }
}

#[test]
fn all_is_decided_by_its_first_unmet_child() {
    let denial = denial_of(&predicate!(all(
        not_anonymous(),
        in_group("staff"),
        has_permission("manage"),
        in_group("admins")
    )));
    assert_eq!(denial.decided_by(), r#"has_permission("manage")"#);
    let node = denial.node().expect("a compiled rule names its node");
    assert_eq!(node.kind(), &Kind::HasPermission("manage"));
    assert_eq!(
        denial.message(),
        r#"The user must have the "manage" permission"#
    );
}

#[test]
fn a_restated_all_keeps_the_child_that_decided() {
    let denial = denial_of(&predicate!(
        all(in_group("staff"), in_group("admins")),
        msg = "Staff administrators only"
    ));
    assert_eq!(denial.decided_by(), r#"in_group("admins")"#);
    assert_eq!(denial.message(), "Staff administrators only");
}

#[test]
fn any_is_decided_by_itself() {
    let denial = denial_of(&predicate!(any(is_user("root"), in_group("admins"))));
    assert_eq!(
        denial.decided_by(),
        r#"any(is_user("root"), in_group("admins"))"#
    );
    assert!(matches!(denial.node().unwrap().kind(), Kind::Any(children) if children.len() == 2));
}

#[test]
fn not_is_decided_by_itself() {
    let denial = denial_of(&predicate!(all(not_anonymous(), not(in_group("staff")))));
    assert_eq!(denial.decided_by(), r#"not(in_group("staff"))"#);
    assert_eq!(denial.message(), "The condition must not be met");
}

#[test]
fn lists_are_decided_by_their_missing_member_or_by_themselves() {
    let all = denial_of(&predicate!(in_all_groups("staff", "admins", "ops")));
    assert_eq!(all.decided_by(), r#"in_group("admins")"#);
    assert_eq!(all.node().unwrap().kind(), &Kind::InGroup("admins"));

    let permissions = denial_of(&predicate!(has_all_permissions("read", "write")));
    assert_eq!(permissions.decided_by(), r#"has_permission("write")"#);

    let any = denial_of(&predicate!(in_any_group("admins", "ops")));
    assert_eq!(any.decided_by(), r#"in_any_group("admins", "ops")"#);
    assert_eq!(
        any.node().unwrap().kind(),
        &Kind::InAnyGroup(&["admins", "ops"])
    );
}

/// A custom predicate: met on weekdays, and this test's day is a Sunday.
struct Weekday;

fn weekday() -> Weekday {
    Weekday
}

impl Predicate for Weekday {
    async fn evaluate(&self, _: &mut Context<'_>) -> Result<Verdict, Error> {
        Ok(Verdict::unmet("It must be a weekday"))
    }
}

#[test]
fn a_custom_predicate_is_decided_by_its_call() {
    let denial = denial_of(&predicate!(all(in_group("staff"), weekday())));
    assert_eq!(denial.decided_by(), "weekday()");
    assert_eq!(denial.node().unwrap().kind(), &Kind::Custom(0));
    assert_eq!(denial.message(), "It must be a weekday");

    let restated = denial_of(&predicate!(all(
        in_group("staff"),
        weekday(msg = "Open on weekdays")
    )));
    assert_eq!(restated.decided_by(), "weekday()");
    assert_eq!(restated.message(), "Open on weekdays");
}

#[require(all(not_anonymous(), in_group("admins")), msg = "Administrators only")]
async fn admin_page() -> &'static str {
    "admin"
}

#[test]
fn the_denial_response_is_told_which_predicate_decided() {
    let store = MemoryStore::builder().group("staff", ["guido"]).build();
    let app: Router = Router::new().route("/admin", get(admin_page)).layer(
        AuthzLayer::new(TestAuthenticator::default(), store).with_denial_response(
            |denied: &Denied| {
                let rule = denied.rule.map_or("", |rule| rule.text());
                let leaf = denied.decided_by.map_or("", |node| node.text());
                Some(
                    (
                        denied.status,
                        format!("{} | {rule} | {leaf}", denied.message),
                    )
                        .into_response(),
                )
            },
        ),
    );
    let seen = block_on(request("/admin").user("guido").send(&app));
    assert_eq!(seen.status, StatusCode::FORBIDDEN);
    assert_eq!(
        seen.body,
        r#"Administrators only | all(not_anonymous(), in_group("admins")) | in_group("admins")"#
    );
}

#[test]
fn every_guard_lists_its_rule_as_a_tree() {
    let site = guarded_handlers()
        .into_iter()
        .find(|site| site.handler == "test_explanations::admin_page")
        .expect("the guard is registered");
    let root = site.rule.root();
    assert_eq!(root.message(), &Message::Restated("Administrators only"));
    let texts: Vec<&str> = site.rule.nodes().map(|node| node.text()).collect();
    assert_eq!(
        texts,
        [
            r#"all(not_anonymous(), in_group("admins"))"#,
            "not_anonymous()",
            r#"in_group("admins")"#
        ]
    );
    assert_eq!(site.rule.reads(), authz_runtime::rule::Reads::Grants);
}
