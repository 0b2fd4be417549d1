//! Generates the corpus of the predicate-algebra property test: random predicate trees, each
//! compiled by `predicate!` and kept as source text for the reference evaluator. The trees
//! mix built-ins, combinators and custom predicates that answer at once or after an await.
//!
//! The generator is seeded, so the corpus is the same on every build.

use std::fmt::Write as _;
use std::path::PathBuf;

/// How many random predicates the corpus holds.
const CORPUS: usize = 160;

const USERS: &[&str] = &["u1", "u2", "u3"];
const GROUPS: &[&str] = &["g1", "g2", "g3", "g4"];
const PERMISSIONS: &[&str] = &["p1", "p2", "p3", "p4"];
const FLAGS: &[&str] = &["f1", "f2", "f3"];

/// xorshift64*: enough randomness for test inputs, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// One to three distinct names.
    fn names(&mut self, items: &[&str]) -> String {
        let mut chosen: Vec<&str> = Vec::new();
        for _ in 0..=self.below(3) {
            let name = self.pick(items);
            if !chosen.contains(&name) {
                chosen.push(name);
            }
        }
        chosen
            .iter()
            .map(|name| format!("{name:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A `msg` option now and then, naming the placeholders that `kind` allows.
fn msg(rng: &mut Rng, placeholders: &[&str]) -> String {
    if !rng.chance(25) {
        return String::new();
    }
    let mut text = format!("m{} {{{{lit}}}}", rng.below(100));
    for placeholder in placeholders {
        if rng.chance(60) {
            write!(text, " [{{{placeholder}}}]").unwrap();
        }
    }
    format!(", msg = {text:?}")
}

fn tree(rng: &mut Rng, depth: usize) -> String {
    let choice = if depth == 0 {
        rng.below(11)
    } else {
        rng.below(17)
    };
    match choice {
        // Custom predicates (`support::raised`): one answers at once, the other after an await.
        9 => format!("raised({:?}{})", rng.pick(FLAGS), msg(rng, &[])),
        10 => format!("raised_later({:?}{})", rng.pick(FLAGS), msg(rng, &[])),
        0 => format!("not_anonymous({})", msg(rng, &[]).trim_start_matches(", ")),
        1 => format!("is_anonymous({})", msg(rng, &[]).trim_start_matches(", ")),
        2 => format!("is_user({:?}{})", rng.pick(USERS), msg(rng, &["user_name"])),
        3 => format!(
            "in_group({:?}{})",
            rng.pick(GROUPS),
            msg(rng, &["group_name"])
        ),
        4 => format!(
            "in_all_groups({}{})",
            rng.names(GROUPS),
            msg(rng, &["group_list"])
        ),
        5 => format!(
            "in_any_group({}{})",
            rng.names(GROUPS),
            msg(rng, &["group_list", "failed_predicates"])
        ),
        6 => format!(
            "has_permission({:?}{})",
            rng.pick(PERMISSIONS),
            msg(rng, &["permission_name"])
        ),
        7 => format!(
            "has_all_permissions({}{})",
            rng.names(PERMISSIONS),
            msg(rng, &["permission_list"])
        ),
        8 => format!(
            "has_any_permission({}{})",
            rng.names(PERMISSIONS),
            msg(rng, &["permission_list", "failed_predicates"])
        ),
        11 | 12 => {
            let children: Vec<String> = (0..=rng.below(3)).map(|_| tree(rng, depth - 1)).collect();
            format!(
                "any({}{})",
                children.join(", "),
                msg(rng, &["failed_predicates"])
            )
        }
        13 | 14 => {
            let children: Vec<String> = (0..=rng.below(3)).map(|_| tree(rng, depth - 1)).collect();
            format!("all({}{})", children.join(", "), msg(rng, &[]))
        }
        _ => format!("not({}{})", tree(rng, depth - 1), msg(rng, &[])),
    }
}

fn main() {
    let mut rng = Rng(0x5EED_A117_2026_0001);
    let mut out = String::from(
        "/// The generated corpus: each predicate's source, and a function evaluating it.\n\
         pub(crate) fn corpus() -> Vec<(&'static str, Evaluate)> {\n    vec![\n",
    );
    for _ in 0..CORPUS {
        let depth = 1 + rng.below(4);
        let source = tree(&mut rng, depth);
        writeln!(
            out,
            "        ({source:?}, Box::new(|user, groups, permissions, flags| \
             support::evaluate_flagged(&authz_runtime::predicate!({source}), user, groups, permissions, flags))),"
        )
        .unwrap();
    }
    out.push_str("    ]\n}\n");
    let path = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("corpus.rs");
    std::fs::write(path, out).unwrap();
    println!("cargo::rerun-if-changed=build.rs");
}
