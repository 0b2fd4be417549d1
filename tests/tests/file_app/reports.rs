//! Reports, in office hours only: a controller whose own rule calls a custom predicate.

use authz_runtime::{Context, Error, Predicate, Verdict, allow_only};

pub(crate) struct Reports;

#[allow_only(all(not_anonymous(), office_hours()))]
impl Reports {
    pub(crate) async fn list() -> &'static str {
        "the reports"
    }
}

/// Met from 9 to 17 by the `x-hour` header, which a real app would read from a clock.
pub(crate) struct OfficeHours;

pub(crate) fn office_hours() -> OfficeHours {
    OfficeHours
}

impl Predicate for OfficeHours {
    async fn evaluate(&self, ctx: &mut Context<'_>) -> Result<Verdict, Error> {
        let hour: Option<u32> = ctx
            .parts()
            .headers
            .get("x-hour")
            .and_then(|hour| hour.to_str().ok()?.parse().ok());
        Ok(Verdict::met_if(
            hour.is_some_and(|hour| (9..17).contains(&hour)),
            "Reports are open during office hours",
        ))
    }
}
