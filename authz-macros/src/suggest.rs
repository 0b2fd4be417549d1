//! "Did you mean …?" for misspelled built-ins and combinators.

/// Every name the language reserves: the built-in predicates and the combinators.
pub(crate) const RESERVED: &[&str] = &[
    "not_anonymous",
    "is_anonymous",
    "is_user",
    "in_group",
    "in_all_groups",
    "in_any_group",
    "has_permission",
    "has_all_permissions",
    "has_any_permission",
    "any",
    "all",
    "not",
];

/// The reserved name that `name` looks like a misspelling of, if any.
///
/// A differently cased spelling (`Any`, `In_Group`) always counts; otherwise the edit distance
/// must be small for the name's length, so that `is_month` or `owns_post` stay custom predicates
/// while `has_permision` and `in_groups` are caught.
pub(crate) fn misspelling_of(name: &str) -> Option<&'static str> {
    let lower = name.to_lowercase();
    if let Some(exact) = RESERVED.iter().find(|reserved| **reserved == lower) {
        return Some(exact);
    }
    // Boolean words people reach for: closer in spelling to the wrong combinator (`and` is one
    // letter from `any`), so they are matched by meaning first.
    match lower.as_str() {
        "and" => return Some("all"),
        "or" => return Some("any"),
        _ => {}
    }
    let allowed = if lower.chars().count() <= 4 { 1 } else { 2 };
    RESERVED
        .iter()
        .map(|reserved| (distance(&lower, reserved), *reserved))
        .filter(|(distance, _)| *distance <= allowed)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, reserved)| reserved)
}

/// The closest of `choices` to `name`, when it is close enough to be a likely typo.
pub(crate) fn closest<'a>(name: &str, choices: &[&'a str]) -> Option<&'a str> {
    choices
        .iter()
        .map(|choice| (distance(name, choice), *choice))
        .filter(|(distance, choice)| *distance <= 2.max(choice.len() / 3))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, choice)| choice)
}

/// Optimal string alignment distance: insertions, deletions, substitutions and transpositions.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catches_typos_and_case() {
        assert_eq!(misspelling_of("has_permision"), Some("has_permission"));
        assert_eq!(misspelling_of("in_groups"), Some("in_group"));
        assert_eq!(misspelling_of("Any"), Some("any"));
        assert_eq!(misspelling_of("NOT"), Some("not"));
        assert_eq!(misspelling_of("and"), Some("all"));
        assert_eq!(misspelling_of("Or"), Some("any"));
    }

    #[test]
    fn leaves_custom_predicates_alone() {
        for name in [
            "is_month",
            "owns_post",
            "is_admin",
            "author_of",
            "is_weekday",
            "order",
        ] {
            assert_eq!(misspelling_of(name), None, "{name}");
        }
    }
}
