//! The demo's own predicates (the seed's `is_month`, and "only the author") and the clock that
//! `is_month` reads. The demo's authenticators are authz's own (`authz_runtime::signin`), set
//! up in [`crate::web`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use authz_runtime::{Context, Error, Predicate, Verdict};
use axum::extract::Path;

use crate::db::Demo;

/// Where the current month comes from: the system clock, read at every check, or a month set
/// by tests. Clones share their month: [`Clock::set`] on one moves them all.
#[derive(Debug, Clone)]
pub struct Clock {
    /// The month set, 1–12; 0 while the clock follows `now`.
    fixed: Arc<AtomicU32>,
    /// The time, for a clock that follows it.
    now: fn() -> SystemTime,
}

/// Not a month: the clock reads the time.
const FOLLOWS_THE_TIME: u32 = 0;

impl Clock {
    /// A clock stuck at `month` (1–12) until [`Clock::set`] moves it.
    pub fn fixed(month: u32) -> Self {
        let clock = Self::system();
        clock.set(month);
        clock
    }

    /// The system clock, in UTC: each [`Clock::month`] reads the current time, so a server
    /// started in March allows April's releases once it is April.
    pub fn system() -> Self {
        Self::following(SystemTime::now)
    }

    /// A clock reading the time from `now` (tests move that time).
    fn following(now: fn() -> SystemTime) -> Self {
        Self {
            fixed: Arc::new(AtomicU32::new(FOLLOWS_THE_TIME)),
            now,
        }
    }

    /// Stops the clock at `month`.
    pub fn set(&self, month: u32) {
        self.fixed.store(month, Ordering::SeqCst);
    }

    /// The month, 1–12: the one set, or the current one.
    pub fn month(&self) -> u32 {
        match self.fixed.load(Ordering::SeqCst) {
            FOLLOWS_THE_TIME => {
                let days = (self.now)()
                    .duration_since(UNIX_EPOCH)
                    .map(|elapsed| elapsed.as_secs() / 86_400)
                    .unwrap_or_default();
                month_of_day(days)
            }
            month => month,
        }
    }
}

/// The month (1–12) of a day counted from 1970-01-01.
fn month_of_day(days: u64) -> u32 {
    let days = i64::try_from(days).unwrap_or(i64::MAX);
    crate::calendar::civil_from_days(days).1
}

/// Check that the current month is the specified one (the seed's `is_month`).
pub struct IsMonth(u32);

/// `is_month(4)`: met in April.
pub fn is_month(month: u32) -> IsMonth {
    IsMonth(month)
}

/// It reads the app's clock, its state: a rule that calls it says `state = Clock`.
impl Predicate<Clock> for IsMonth {
    async fn evaluate(&self, ctx: &mut Context<'_, Clock>) -> Result<Verdict, Error> {
        Ok(Verdict::met_if(
            ctx.state().month() == self.0,
            format!("The current month must be {}", self.0),
        ))
    }
}

/// Only the author of the post in the path may edit it.
pub struct IsAuthor;

/// `is_author()`: met when the signed-in user's account wrote the post `{id}` of the path.
pub fn is_author() -> IsAuthor {
    IsAuthor
}

/// It reads the demo's database, the app's state: a rule that calls it says `state = Demo`.
/// The author is an account, not a name: a new user of a deleted author's name is another
/// account (the store's lookup, which the guards share, says which).
impl Predicate<Demo> for IsAuthor {
    async fn evaluate(&self, ctx: &mut Context<'_, Demo>) -> Result<Verdict, Error> {
        let Ok(Path(id)) = ctx.extract::<Path<i64>>().await else {
            return Ok(Verdict::unmet("The post must exist"));
        };
        let post = ctx.state().post(id).await.map_err(Error::predicate)?;
        let account = ctx.grants().await?.account();
        let wrote_it = match (post.and_then(|post| post.author_id), account) {
            (Some(author), Some(account)) => author == account.id,
            _ => false,
        };
        Ok(Verdict::met_if(
            wrote_it,
            format!("Only the author of post {id} can edit it"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use super::{Clock, month_of_day};

    #[test]
    fn months_of_known_days() {
        assert_eq!(month_of_day(0), 1); // 1970-01-01
        assert_eq!(month_of_day(20_454), 1); // 2026-01-01
        assert_eq!(month_of_day(20_454 + 31 + 28 + 31), 4); // 2026-04-01
        assert_eq!(month_of_day(20_454 + 364), 12); // 2026-12-31
    }

    /// The month of `time`, counted the plain way (years, then months, from 1970), not with
    /// the clock's arithmetic.
    fn month_by_counting(time: SystemTime) -> u32 {
        let mut days = time.duration_since(UNIX_EPOCH).unwrap().as_secs() / 86_400;
        let leap = |year: u64| {
            (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
        };
        let mut year = 1970;
        while days >= if leap(year) { 366 } else { 365 } {
            days -= if leap(year) { 366 } else { 365 };
            year += 1;
        }
        let february = if leap(year) { 29 } else { 28 };
        let lengths = [31, february, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        let mut month = 1;
        for length in lengths {
            if days < length {
                break;
            }
            days -= length;
            month += 1;
        }
        month
    }

    #[test]
    fn the_system_clock_reports_the_month_at_the_time_it_is_asked() {
        let clock = Clock::system();
        // The month could change between two readings: the clock's must be one of them.
        let before = month_by_counting(SystemTime::now());
        let month = clock.month();
        let after = month_by_counting(SystemTime::now());
        assert!(
            month == before || month == after,
            "{month}, expected {before} (or {after})"
        );
    }

    /// Seconds since 1970 of the fake time that the clock below reads.
    static FAKE_NOW: AtomicU64 = AtomicU64::new(0);

    fn fake_now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(FAKE_NOW.load(Ordering::SeqCst))
    }

    #[test]
    fn a_clock_started_in_march_says_april_in_april() {
        const DAY: u64 = 86_400;
        let march_31 = (20_454 + 31 + 28 + 30) * DAY + 23 * 3600; // 2026-03-31 23:00 UTC
        FAKE_NOW.store(march_31, Ordering::SeqCst);
        let clock = Clock::following(fake_now);
        assert_eq!(clock.month(), 3);
        FAKE_NOW.store(march_31 + 2 * 3600, Ordering::SeqCst); // 2026-04-01 01:00
        assert_eq!(clock.month(), 4);
        assert_eq!(clock.month(), month_by_counting(fake_now()));
        // Set, it stays; its clones move with it.
        let copy = clock.clone();
        clock.set(10);
        assert_eq!((clock.month(), copy.month()), (10, 10));
        FAKE_NOW.store(march_31 + 40 * DAY, Ordering::SeqCst);
        assert_eq!(copy.month(), 10);
    }

    #[test]
    fn counting_agrees_with_the_clock_over_the_years() {
        for day in (0..25_000).step_by(7) {
            let time = UNIX_EPOCH + Duration::from_secs(day * 86_400);
            assert_eq!(month_of_day(day), month_by_counting(time), "day {day}");
        }
    }
}
