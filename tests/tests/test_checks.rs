//! Checks inside handlers: `Authz::is_met` answers as the attribute decides, `Authz::require`
//! refuses with the very response a guard sends, and any number of checks cost one lookup.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use authz_runtime::testing::TestAuthenticator;
use authz_runtime::{
    Authz, AuthzLayer, CredentialsStore, Error, Grants, MemoryStore, Refused, predicate, require,
};
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use support::{Seen, get as get_};

/// For each rule: a handler guarded by it, one that refuses with `Authz::require` of the same
/// rule, and one that reports `Authz::is_met`.
macro_rules! checked {
    ($($name:ident: [$($rule:tt)*];)*) => {
        $(
            mod $name {
                use super::*;

                #[require($($rule)*)]
                pub(super) async fn guarded() -> &'static str {
                    "let through"
                }

                pub(super) async fn required(mut authz: Authz) -> Result<&'static str, Refused> {
                    authz.require(&predicate!($($rule)*)).await?;
                    Ok("let through")
                }

                pub(super) async fn asked(mut authz: Authz) -> Result<&'static str, Refused> {
                    let met = authz.is_met(&predicate!($($rule)*)).await?;
                    Ok(if met { "met" } else { "unmet" })
                }
            }
        )*

        /// Every rule's three routes, under `/<rule>/guarded`, `/required` and `/asked`.
        fn rules() -> (Vec<&'static str>, Router) {
            let mut router = Router::new();
            $(
                router = router
                    .route(concat!("/", stringify!($name), "/guarded"), get($name::guarded))
                    .route(concat!("/", stringify!($name), "/required"), get($name::required))
                    .route(concat!("/", stringify!($name), "/asked"), get($name::asked));
            )*
            (vec![$(stringify!($name)),*], router)
        }
    };
}

checked! {
    not_anonymous: [not_anonymous()];
    is_anonymous: [is_anonymous()];
    is_user: [is_user("rms")];
    in_group: [in_group("admins")];
    has_permission: [has_permission("manage")];
    in_any_group: [in_any_group("admins", "developers")];
    in_all_groups: [in_all_groups("admins", "developers")];
    has_any_permission: [has_any_permission("manage", "commit")];
    has_all_permissions: [has_all_permissions("manage", "commit")];
    all_not: [all(in_group("developers"), not(is_user("guido")))];
    any_msg: [
        any(is_user("root"), has_permission("manage")),
        msg = "Only administrators can remove blog posts"
    ];
    any_failed: [any(in_group("admins"), has_permission("commit"), msg = "Not you: {failed_predicates}")];
    not_group: [not(in_group("trolls"))];
}

fn store() -> MemoryStore {
    MemoryStore::builder()
        .group("admins", ["rms"])
        .group("developers", ["rms", "linus", "guido"])
        .group("trolls", ["troll"])
        .permission("manage", ["admins"])
        .permission("commit", ["developers"])
        .build()
}

const VISITORS: [Option<&str>; 6] = [
    None,
    Some("rms"),
    Some("linus"),
    Some("guido"),
    Some("troll"),
    Some("stranger"),
];

async fn visit(app: &Router, path: &str, user: Option<&str>, accept: &str) -> Seen {
    let call = get_(path).accept(accept);
    match user {
        Some(user) => call.user(user),
        None => call,
    }
    .send(app)
    .await
}

#[tokio::test]
async fn is_met_answers_as_the_attribute_decides() {
    let (names, routes) = rules();
    let app = routes.layer(AuthzLayer::new(TestAuthenticator::default(), store()));
    let mut met = 0;
    for name in names {
        for user in VISITORS {
            let guarded = visit(&app, &format!("/{name}/guarded"), user, "text/plain").await;
            let asked = visit(&app, &format!("/{name}/asked"), user, "text/plain").await;
            assert_eq!(
                asked.status,
                StatusCode::OK,
                "{name} for {user:?}: {asked:?}"
            );
            let expected = if guarded.status == StatusCode::OK {
                met += 1;
                "met"
            } else {
                "unmet"
            };
            assert_eq!(asked.body, expected, "{name} for {user:?}: {guarded:?}");
        }
    }
    // Both answers occur, so the comparison is not of one constant with another.
    assert!(met > 10 && met < 13 * VISITORS.len() - 10, "{met} met");
}

#[tokio::test]
async fn require_refuses_with_the_guards_response() {
    let (names, routes) = rules();
    let plain = routes
        .clone()
        .layer(AuthzLayer::new(TestAuthenticator::default(), store()));
    let with_login = routes
        .layer(AuthzLayer::new(TestAuthenticator::default(), store()).with_login_url("/login"));
    for app in [&plain, &with_login] {
        for name in &names {
            for user in VISITORS {
                for accept in ["text/html", "application/json", "text/plain"] {
                    let guarded = visit(app, &format!("/{name}/guarded"), user, accept).await;
                    let required = visit(app, &format!("/{name}/required"), user, accept).await;
                    // The login redirect comes back to the page that was asked for.
                    let location = guarded.location.replace("guarded", "required");
                    assert_eq!(
                        (
                            guarded.status,
                            &guarded.content_type,
                            &location,
                            &guarded.body
                        ),
                        (
                            required.status,
                            &required.content_type,
                            &required.location,
                            &required.body
                        ),
                        "{name} for {user:?}, accepting {accept}"
                    );
                }
            }
        }
    }
    // The messages are the rule's: a sample, as the user sees it.
    let seen = visit(&plain, "/any_msg/required", Some("guido"), "text/plain").await;
    assert_eq!(seen.status, StatusCode::FORBIDDEN);
    assert_eq!(seen.body, "Only administrators can remove blog posts");
    let seen = visit(&plain, "/any_failed/required", Some("troll"), "text/plain").await;
    assert_eq!(
        seen.body,
        "Not you: The current user must belong to the group \"admins\", \
         The user must have the \"commit\" permission"
    );
    let seen = visit(&with_login, "/in_group/required", None, "text/html").await;
    assert_eq!(seen.status, StatusCode::SEE_OTHER);
    assert_eq!(seen.location, "/login?came_from=%2Fin%5Fgroup%2Frequired");
}

/// A store that counts its lookups and answers after an await, as a database does.
#[derive(Clone, Default)]
struct Counting {
    loads: Arc<AtomicUsize>,
}

impl CredentialsStore for Counting {
    async fn load(&self, user: &str) -> Result<Option<Arc<Grants>>, Error> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        tokio::task::yield_now().await;
        Ok((user == "rms").then(|| Arc::new(Grants::new(["admins"], ["manage"]))))
    }
}

#[require(in_group("admins"))]
async fn many_checks(mut authz: Authz) -> Result<String, Refused> {
    let mut answers = Vec::new();
    for rule in [
        &predicate!(has_permission("manage")) as &dyn CheckRule,
        &predicate!(in_group("developers")),
        &predicate!(any(is_user("root"), has_permission("publish"))),
    ] {
        answers.push(rule.ask(&mut authz).await?);
    }
    authz.require(&predicate!(not_anonymous())).await?;
    Ok(format!("{answers:?}"))
}

/// A way to keep predicates of several types in one list, for the test above.
trait CheckRule: Sync {
    fn ask<'a>(
        &'a self,
        authz: &'a mut Authz,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<bool, Refused>> + Send + 'a>>;
}

impl<P: authz_runtime::Predicate> CheckRule for P {
    fn ask<'a>(
        &'a self,
        authz: &'a mut Authz,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<bool, Refused>> + Send + 'a>>
    {
        Box::pin(authz.is_met(self))
    }
}

#[tokio::test]
async fn any_number_of_checks_cost_one_lookup() {
    let store = Counting::default();
    let app = Router::new()
        .route("/many", get(many_checks))
        .layer(AuthzLayer::new(TestAuthenticator::default(), store.clone()));
    let seen = get_("/many").user("rms").send(&app).await;
    assert_eq!(seen.status, StatusCode::OK, "{seen:?}");
    assert_eq!(seen.body, "[true, false, false]");
    assert_eq!(store.loads.load(Ordering::SeqCst), 1);

    let seen = get_("/many").user("guido").send(&app).await;
    assert_eq!(seen.status, StatusCode::FORBIDDEN);
    assert_eq!(store.loads.load(Ordering::SeqCst), 2);
}

/// A store that cannot answer.
#[derive(Clone)]
struct Down;

impl CredentialsStore for Down {
    async fn load(&self, _: &str) -> Result<Option<Arc<Grants>>, Error> {
        Err(Error::store(std::io::Error::other("connection refused")))
    }
}

async fn ask_only(mut authz: Authz) -> Result<&'static str, Refused> {
    let met = authz.is_met(&predicate!(in_group("admins"))).await?;
    Ok(if met { "met" } else { "unmet" })
}

async fn ask_who(authz: Authz) -> Result<String, Refused> {
    Ok(format!("{:?}", authz.user().await?))
}

#[tokio::test]
async fn a_failure_to_tell_is_a_refusal_never_an_answer() {
    let app = Router::new()
        .route("/ask", get(ask_only))
        .route("/who", get(ask_who))
        .layer(AuthzLayer::new(TestAuthenticator::default(), Down));
    let seen = get_("/ask").user("rms").send(&app).await;
    assert_eq!(seen.status, StatusCode::SERVICE_UNAVAILABLE, "{seen:?}");
    // Who the user is needs no store: it is told.
    let seen = get_("/who").user("rms").send(&app).await;
    assert_eq!(
        (seen.status, seen.body.as_str()),
        (StatusCode::OK, "Some(\"rms\")")
    );
    let seen = get_("/who").send(&app).await;
    assert_eq!((seen.status, seen.body.as_str()), (StatusCode::OK, "None"));
}

#[tokio::test]
async fn without_the_layer_the_extractor_refuses_as_a_guard_does() {
    let app = Router::new()
        .route("/ask", get(ask_only))
        .route("/guarded", get(in_group::guarded));
    let asked = get_("/ask").user("rms").send(&app).await;
    let guarded = get_("/guarded").user("rms").send(&app).await;
    assert_eq!(asked.status, guarded.status);
    assert!(asked.status.is_server_error(), "{asked:?}");
}
