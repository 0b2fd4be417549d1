//! The user's own predicates: synchronous and asynchronous, called by name or through a path,
//! with arguments of any type, with a trailing `msg`, alone and inside combinators.

use authz_runtime::{Context, Error, Predicate, Verdict, require};
use axum::Router;
use axum::extract::Path;
use axum::routing::get;

mod auth {
    use authz_runtime::{Context, Error, Predicate, Verdict};

    /// Synchronous in all but name: reads a clock.
    pub struct IsMonth(pub u32);

    pub fn is_month(month: u32) -> IsMonth {
        IsMonth(month)
    }

    impl Predicate for IsMonth {
        async fn evaluate(&self, _ctx: &mut Context<'_>) -> Result<Verdict, Error> {
            let current = 4;
            Ok(Verdict::met_if(
                current == self.0,
                format!("The current month must be {}", self.0),
            ))
        }
    }
}

use auth::is_month;

/// Asynchronous: awaits the user and a path parameter.
struct OwnsPost {
    field: &'static str,
}

fn owns_post(field: &'static str) -> OwnsPost {
    OwnsPost { field }
}

impl Predicate for OwnsPost {
    async fn evaluate(&self, ctx: &mut Context<'_>) -> Result<Verdict, Error> {
        let Ok(Path(id)) = ctx.extract::<Path<u64>>().await else {
            return Ok(Verdict::unmet(format!(
                "The {} must be a number",
                self.field
            )));
        };
        let user = ctx.user().await?;
        Ok(Verdict::met_if(
            user == Some(if id == 1 { "rms" } else { "linus" }),
            "Only the author can edit the post",
        ))
    }
}

/// A unit struct value, named without a call by a constructor function.
struct Weekday;

fn is_weekday() -> Weekday {
    Weekday
}

impl Predicate for Weekday {
    async fn evaluate(&self, _ctx: &mut Context<'_>) -> Result<Verdict, Error> {
        Ok(Verdict::Met)
    }
}

/// Takes several arguments of different types, and expressions as arguments.
struct Between(u32, u32, &'static str);

fn between(low: u32, high: u32, label: &'static str) -> Between {
    Between(low, high, label)
}

impl Predicate for Between {
    async fn evaluate(&self, _ctx: &mut Context<'_>) -> Result<Verdict, Error> {
        Ok(Verdict::met_if(self.0 <= self.1, self.2))
    }
}

const RELEASE_MONTH: u32 = 10;

#[require(is_month(4))]
async fn april() {}

#[require(crate::auth::is_month(4))]
async fn through_a_path() {}

#[require(auth::is_month(RELEASE_MONTH))]
async fn through_a_relative_path_with_a_constant() {}

#[require(is_month(4, msg = "Only in April"))]
async fn trailing_msg() {}

#[require(is_month(4), msg = "Only in April")]
async fn attribute_msg() {}

#[require(all(any(is_month(4), is_month(10)), has_permission("release")))]
async fn release() {}

#[require(any(owns_post("id"), has_permission("manage")))]
async fn edit_post(Path(id): Path<u64>) -> String {
    format!("editing {id}")
}

#[require(all(is_weekday(), not(is_month(8, msg = "Not in August"))))]
async fn office() {}

#[require(between(1 + 1, RELEASE_MONTH * 2, "In range"))]
async fn expressions_as_arguments() {}

#[require(self::is_weekday())]
async fn through_self() {}

fn main() {
    let _app: Router = Router::new()
        .route("/april", get(april))
        .route("/path", get(through_a_path))
        .route("/relative", get(through_a_relative_path_with_a_constant))
        .route("/trailing-msg", get(trailing_msg))
        .route("/attribute-msg", get(attribute_msg))
        .route("/release", get(release))
        .route("/posts/{id}", get(edit_post))
        .route("/office", get(office))
        .route("/expressions", get(expressions_as_arguments))
        .route("/self", get(through_self));
}
