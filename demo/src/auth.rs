//! The demo's own predicates (the seed's `is_month`, and "only the author"), its clock, and its
//! authenticators.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use authz_runtime::{Context, Error, Predicate, Verdict};
use axum::extract::{Extension, Path};

use crate::db::Demo;

/// Where the current month comes from: the system clock, or a month set by tests.
#[derive(Debug, Clone)]
pub struct Clock(Arc<AtomicU32>);

impl Clock {
    /// A clock stuck at `month` (1–12) until [`Clock::set`] moves it.
    pub fn fixed(month: u32) -> Self {
        Self(Arc::new(AtomicU32::new(month)))
    }

    /// The current month of the system clock, in UTC.
    pub fn system() -> Self {
        let days = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs() / 86_400)
            .unwrap_or_default();
        Self::fixed(month_of_day(days))
    }

    /// Moves the clock to `month`.
    pub fn set(&self, month: u32) {
        self.0.store(month, Ordering::SeqCst);
    }

    /// The month, 1–12.
    pub fn month(&self) -> u32 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The month (1–12) of a day counted from 1970-01-01 (Howard Hinnant's civil-from-days).
fn month_of_day(days: u64) -> u32 {
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    month as u32
}

/// Check that the current month is the specified one (the seed's `is_month`).
pub struct IsMonth(u32);

/// `is_month(4)`: met in April.
pub fn is_month(month: u32) -> IsMonth {
    IsMonth(month)
}

impl Predicate for IsMonth {
    async fn evaluate(&self, ctx: &mut Context<'_>) -> Result<Verdict, Error> {
        let Ok(Extension(clock)) = ctx.extract::<Extension<Clock>>().await else {
            return Err(Error::predicate("the demo clock is not installed"));
        };
        Ok(Verdict::met_if(
            clock.month() == self.0,
            format!("The current month must be {}", self.0),
        ))
    }
}

/// Only the author of the post in the path may edit it.
pub struct IsAuthor;

/// `is_author()`: met when the signed-in user wrote the post `{id}` of the path.
pub fn is_author() -> IsAuthor {
    IsAuthor
}

impl Predicate for IsAuthor {
    async fn evaluate(&self, ctx: &mut Context<'_>) -> Result<Verdict, Error> {
        let Ok(Path(id)) = ctx.extract::<Path<i64>>().await else {
            return Ok(Verdict::unmet("The post must exist"));
        };
        let Ok(Extension(demo)) = ctx.extract::<Extension<Demo>>().await else {
            return Err(Error::predicate("the demo database is not installed"));
        };
        let post = demo.post(id).await.map_err(Error::predicate)?;
        let user = ctx.user().await?;
        Ok(Verdict::met_if(
            post.is_some_and(|post| Some(post.author.as_str()) == user),
            format!("Only the author of post {id} can edit it"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::month_of_day;

    #[test]
    fn months_of_known_days() {
        assert_eq!(month_of_day(0), 1); // 1970-01-01
        assert_eq!(month_of_day(20_454), 1); // 2026-01-01
        assert_eq!(month_of_day(20_454 + 31 + 28 + 31), 4); // 2026-04-01
        assert_eq!(month_of_day(20_454 + 364), 12); // 2026-12-31
    }
}
