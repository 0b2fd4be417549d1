//! Custom predicates end to end: the seed's synchronous `is_month`, with a clock the test sets,
//! and an asynchronous object-level rule that reads the path and a database.

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use authz_runtime::testing::TestAuthenticator;
use authz_runtime::{AuthzLayer, Context, Error, MemoryStore, Predicate, Verdict, require};
use axum::Router;
use axum::extract::{Extension, Path};
use axum::http::StatusCode;
use axum::routing::{get, put};
use support::get as get_;

mod auth {
    use super::*;

    /// The month the test pretends it is.
    pub(crate) static MONTH: AtomicU32 = AtomicU32::new(1);

    /// Check that the current month is the specified one.
    pub(crate) struct IsMonth(u32);

    pub(crate) fn is_month(month: u32) -> IsMonth {
        IsMonth(month)
    }

    impl Predicate for IsMonth {
        async fn evaluate(&self, _ctx: &mut Context<'_>) -> Result<Verdict, Error> {
            Ok(Verdict::met_if(
                MONTH.load(Ordering::SeqCst) == self.0,
                format!("The current month must be {}", self.0),
            ))
        }
    }

    /// The blog's posts and their authors: the "database".
    #[derive(Clone, Default)]
    pub(crate) struct Posts(pub(crate) Arc<HashMap<i64, &'static str>>);

    /// Only the author of the post in the path may edit it.
    pub(crate) struct OwnsPost;

    pub(crate) fn owns_post() -> OwnsPost {
        OwnsPost
    }

    /// How many times `unreachable_database` was asked.
    pub(crate) static DATABASE_CALLS: AtomicUsize = AtomicUsize::new(0);

    /// A check whose database is down: it always fails.
    pub(crate) struct UnreachableDatabase;

    pub(crate) fn unreachable_database() -> UnreachableDatabase {
        UnreachableDatabase
    }

    impl Predicate for UnreachableDatabase {
        async fn evaluate(&self, _ctx: &mut Context<'_>) -> Result<Verdict, Error> {
            DATABASE_CALLS.fetch_add(1, Ordering::SeqCst);
            Err(Error::predicate("the database is down"))
        }
    }

    /// The request carries an `x-ticket` header: a check of the request alone.
    pub(crate) struct HasTicket;

    pub(crate) fn has_ticket() -> HasTicket {
        HasTicket
    }

    impl Predicate for HasTicket {
        async fn evaluate(&self, ctx: &mut Context<'_>) -> Result<Verdict, Error> {
            Ok(Verdict::met_if(
                ctx.parts().headers.contains_key("x-ticket"),
                "The request must carry a ticket",
            ))
        }
    }

    impl Predicate for OwnsPost {
        async fn evaluate(&self, ctx: &mut Context<'_>) -> Result<Verdict, Error> {
            let Ok(Path(id)) = ctx.extract::<Path<i64>>().await else {
                return Ok(Verdict::unmet("The post must exist"));
            };
            let Ok(Extension(posts)) = ctx.extract::<Extension<Posts>>().await else {
                return Err(Error::predicate("the posts table is not configured"));
            };
            // Stands for a query: the author lookup is async in real code.
            tokio::task::yield_now().await;
            let author = posts.0.get(&id).copied();
            let user = ctx.user().await?;
            Ok(Verdict::met_if(
                author.is_some() && user == author,
                format!("Only the author of post {id} can edit it"),
            ))
        }
    }
}

use auth::{Posts, has_ticket, is_month, owns_post};

#[require(all(any(is_month(4), auth::is_month(10)), has_permission("release")))]
async fn release() -> &'static str {
    "released"
}

#[require(any(owns_post(), has_permission("manage")))]
async fn edit_post(Path(id): Path<i64>) -> String {
    format!("editing post {id}")
}

#[require(crate::auth::owns_post(msg = "Authors only"))]
async fn edit_post_strict(Path(id): Path<i64>) -> String {
    format!("editing post {id}")
}

#[require(any(has_permission("manage"), auth::unreachable_database()))]
async fn managers_first() -> &'static str {
    "managed"
}

#[require(all(in_group("admins"), auth::unreachable_database()))]
async fn admins_first() -> &'static str {
    "unreachable"
}

#[require(owns_post())]
async fn broken() -> &'static str {
    "unreachable"
}

// Guards of both kinds on handlers that take nothing else: whichever comes last, each runs in
// its turn, top to bottom.
#[require(in_group("admins"))]
#[require(has_ticket())]
async fn built_in_then_custom() -> &'static str {
    "both"
}

#[require(has_ticket())]
#[require(in_group("admins"))]
async fn custom_then_built_in() -> &'static str {
    "both"
}

fn app() -> Router {
    let store = MemoryStore::builder()
        .group("release-managers", ["mark"])
        .group("admins", ["rms"])
        .permission("release", ["release-managers"])
        .permission("manage", ["admins"])
        .user("linus")
        .build();
    let posts = Posts(Arc::new(HashMap::from([(1, "linus"), (2, "guido")])));
    Router::new()
        .route("/release", get(release))
        .route("/posts/{id}", put(edit_post))
        .route("/strict/{id}", put(edit_post_strict))
        .route("/broken", get(broken))
        .route("/managers-first", get(managers_first))
        .route("/admins-first", get(admins_first))
        .route("/built-in-then-custom", get(built_in_then_custom))
        .route("/custom-then-built-in", get(custom_then_built_in))
        .layer(Extension(posts))
        .layer(AuthzLayer::new(TestAuthenticator::default(), store))
}

#[tokio::test]
async fn seasonal_release_only_in_april_and_october() {
    let app = app();
    for month in 1..=12 {
        auth::MONTH.store(month, Ordering::SeqCst);
        let seen = get_("/release").user("mark").send(&app).await;
        if month == 4 || month == 10 {
            assert_eq!(
                (seen.status, seen.body.as_str()),
                (StatusCode::OK, "released")
            );
        } else {
            assert_eq!(seen.status, StatusCode::FORBIDDEN, "month {month}");
            assert_eq!(
                seen.body,
                "At least one of the following predicates must be met: The current month must \
                 be 4, The current month must be 10"
            );
        }
    }
    auth::MONTH.store(4, Ordering::SeqCst);
    let linus = get_("/release").user("linus").send(&app).await;
    assert_eq!(
        (linus.status, linus.body.as_str()),
        (
            StatusCode::FORBIDDEN,
            "The user must have the \"release\" permission"
        )
    );
    let anonymous = get_("/release").send(&app).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn guards_of_both_kinds_run_top_to_bottom_whichever_is_last() {
    let app = app();
    const GROUP: &str = "The current user must belong to the group \"admins\"";
    const TICKET: &str = "The request must carry a ticket";
    for (path, first) in [
        ("/built-in-then-custom", GROUP),
        ("/custom-then-built-in", TICKET),
    ] {
        // Who calls, whether with a ticket, and what they see: the first guard decides when
        // neither is met, and either guard alone is not enough.
        for (user, ticket, status, body) in [
            ("rms", true, StatusCode::OK, "both"),
            ("linus", false, StatusCode::FORBIDDEN, first),
            ("rms", false, StatusCode::FORBIDDEN, TICKET),
            ("linus", true, StatusCode::FORBIDDEN, GROUP),
        ] {
            let mut call = get_(path).user(user);
            if ticket {
                call = call.header("x-ticket", "1");
            }
            let seen = call.send(&app).await;
            assert_eq!(
                (seen.status, seen.body.as_str()),
                (status, body),
                "{path}: {user}, ticket {ticket}"
            );
        }
        let anonymous = get_(path).header("x-ticket", "1").send(&app).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{path}");
    }
}

#[tokio::test]
async fn only_the_author_or_a_manager_edits_a_post() {
    let app = app();
    let author = get_("/posts/1")
        .method("PUT")
        .user("linus")
        .send(&app)
        .await;
    assert_eq!(
        (author.status, author.body.as_str()),
        (StatusCode::OK, "editing post 1")
    );

    let other = get_("/posts/2")
        .method("PUT")
        .user("linus")
        .send(&app)
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    assert_eq!(
        other.body,
        "At least one of the following predicates must be met: Only the author of post 2 can \
         edit it, The user must have the \"manage\" permission"
    );

    let manager = get_("/posts/2").method("PUT").user("rms").send(&app).await;
    assert_eq!(manager.status, StatusCode::OK);

    let missing = get_("/posts/99")
        .method("PUT")
        .user("linus")
        .send(&app)
        .await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);

    let anonymous = get_("/posts/1").method("PUT").send(&app).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    let strict = get_("/strict/2")
        .method("PUT")
        .user("linus")
        .send(&app)
        .await;
    assert_eq!(
        (strict.status, strict.body.as_str()),
        (StatusCode::FORBIDDEN, "Authors only")
    );
}

#[tokio::test]
async fn a_failing_custom_predicate_refuses_with_503() {
    let app = app();
    // `/broken` has no path parameter: the predicate reports the post as missing.
    let seen = get_("/broken").user("linus").send(&app).await;
    assert_eq!(
        (seen.status, seen.body.as_str()),
        (StatusCode::FORBIDDEN, "The post must exist")
    );

    // Without the posts extension the predicate cannot decide: never a grant.
    let bare = Router::new()
        .route("/posts/{id}", put(edit_post))
        .layer(AuthzLayer::new(
            TestAuthenticator::default(),
            MemoryStore::default(),
        ));
    let seen = get_("/posts/1")
        .method("PUT")
        .user("linus")
        .send(&bare)
        .await;
    assert_eq!(seen.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        seen.body,
        "Access could not be checked; please try again later"
    );
}

#[tokio::test]
async fn combinators_stop_before_a_child_that_would_fail() {
    let app = app();
    let calls = || auth::DATABASE_CALLS.load(Ordering::SeqCst);
    let before = calls();

    // `any` stops at its first met child: a manager never reaches the broken check.
    let manager = get_("/managers-first").user("rms").send(&app).await;
    assert_eq!(
        (manager.status, manager.body.as_str()),
        (StatusCode::OK, "managed")
    );
    // `all` stops at its first unmet child: a non-admin is refused with that child's message.
    let outsider = get_("/admins-first").user("linus").send(&app).await;
    assert_eq!(
        (outsider.status, outsider.body.as_str()),
        (
            StatusCode::FORBIDDEN,
            "The current user must belong to the group \"admins\""
        )
    );
    assert_eq!(calls(), before, "the failing check was never asked");

    // Where the failing check must decide, the request is refused with 503, never let through.
    let linus = get_("/managers-first").user("linus").send(&app).await;
    assert_eq!(linus.status, StatusCode::SERVICE_UNAVAILABLE);
    let admin = get_("/admins-first").user("rms").send(&app).await;
    assert_eq!(admin.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(calls(), before + 2);
}
