use authz_runtime::{Context, Error, Predicate, Verdict, require};

#[derive(Clone)]
struct Db;

struct IsAuthor;

fn is_author() -> IsAuthor {
    IsAuthor
}

impl Predicate<Db> for IsAuthor {
    async fn evaluate(&self, _ctx: &mut Context<'_, Db>) -> Result<Verdict, Error> {
        Ok(Verdict::Met)
    }
}

#[require(is_author())]
async fn edit() -> &'static str {
    "editing"
}

fn main() {}
