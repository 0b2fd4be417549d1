use authz_runtime::{Context, Error, Predicate, Verdict, require};

struct IsMonth(u32);

fn is_month(month: u32) -> IsMonth {
    IsMonth(month)
}

impl Predicate for IsMonth {
    async fn evaluate(&self, _ctx: &mut Context<'_>) -> Result<Verdict, Error> {
        Ok(Verdict::met_if(
            self.0 == 7,
            "The current month must be July",
        ))
    }
}

#[require(is_month(msg = "Only in July", 7))]
async fn travel() {}

fn main() {}
