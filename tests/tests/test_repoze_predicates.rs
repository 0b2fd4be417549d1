//! repoze.what's predicate test suite, ported: every built-in met and unmet, with its exact
//! default message, `msg` overrides, placeholders and compound messages.

mod support;

use authz_runtime::{Verdict, predicate};
use support::{evaluate, unmet_message};

const DEVELOPER: &[&str] = &["developers"];

#[test]
fn not_anonymous_is_met_by_any_authenticated_user() {
    let p = predicate!(not_anonymous());
    assert_eq!(evaluate(&p, Some("gustavo"), &[], &[]), Verdict::Met);
    assert_eq!(
        unmet_message(evaluate(&p, None, &[], &[])),
        "The current user must have been authenticated"
    );
}

#[test]
fn not_anonymous_with_custom_message() {
    let p = predicate!(not_anonymous(
        msg = "Only logged in users can read this post"
    ));
    assert_eq!(
        unmet_message(evaluate(&p, None, &[], &[])),
        "Only logged in users can read this post"
    );
}

#[test]
fn is_anonymous_is_met_only_without_a_user() {
    let p = predicate!(is_anonymous());
    assert_eq!(evaluate(&p, None, &[], &[]), Verdict::Met);
    assert_eq!(
        unmet_message(evaluate(&p, Some("gustavo"), &[], &[])),
        "The current user must be anonymous"
    );
}

#[test]
fn is_anonymous_with_custom_message() {
    let p = predicate!(is_anonymous(msg = "Only visitors may sign up"));
    assert_eq!(
        unmet_message(evaluate(&p, Some("gustavo"), &[], &[])),
        "Only visitors may sign up"
    );
}

#[test]
fn anonymous_users_have_no_groups_and_no_permissions() {
    let p = predicate!(in_group("developers"));
    assert_eq!(
        unmet_message(evaluate(&p, None, &[], &[])),
        "The current user must belong to the group \"developers\""
    );
    let p = predicate!(has_permission("edit-site"));
    assert_eq!(
        unmet_message(evaluate(&p, None, &[], &[])),
        "The user must have the \"edit-site\" permission"
    );
}

#[test]
fn is_user_compares_the_user_name() {
    let p = predicate!(is_user("gustavo"));
    assert_eq!(evaluate(&p, Some("gustavo"), &[], &[]), Verdict::Met);
    assert_eq!(
        unmet_message(evaluate(&p, Some("andreina"), &[], &[])),
        "The current user must be \"gustavo\""
    );
    assert_eq!(
        unmet_message(evaluate(&p, None, &[], &[])),
        "The current user must be \"gustavo\""
    );
}

#[test]
fn is_user_message_placeholder() {
    let p = predicate!(is_user("gustavo", msg = "Only {user_name} may enter"));
    assert_eq!(
        unmet_message(evaluate(&p, Some("andreina"), &[], &[])),
        "Only gustavo may enter"
    );
}

#[test]
fn in_group_checks_membership() {
    let p = predicate!(in_group("developers"));
    assert_eq!(evaluate(&p, Some("linus"), DEVELOPER, &[]), Verdict::Met);
    assert_eq!(
        unmet_message(evaluate(&p, Some("sballmer"), &["trolls"], &[])),
        "The current user must belong to the group \"developers\""
    );
}

#[test]
fn in_group_message_placeholder() {
    let p = predicate!(in_group("developers", msg = "Only {group_name} can commit"));
    assert_eq!(
        unmet_message(evaluate(&p, Some("guido"), &[], &[])),
        "Only developers can commit"
    );
}

#[test]
fn in_all_groups_needs_every_group() {
    let p = predicate!(in_all_groups("developers", "designers"));
    assert_eq!(
        evaluate(&p, Some("x"), &["developers", "designers", "php"], &[]),
        Verdict::Met
    );
    assert_eq!(
        unmet_message(evaluate(&p, Some("x"), DEVELOPER, &[])),
        "The current user must belong to the group \"designers\""
    );
    assert_eq!(
        unmet_message(evaluate(&p, Some("x"), &[], &[])),
        "The current user must belong to the group \"developers\""
    );
}

#[test]
fn in_all_groups_with_message() {
    let p = predicate!(in_all_groups(
        "developers",
        "designers",
        msg = "Needs {group_list}"
    ));
    assert_eq!(
        unmet_message(evaluate(&p, Some("x"), DEVELOPER, &[])),
        "Needs developers, designers"
    );
}

#[test]
fn in_any_group_needs_one_group() {
    let p = predicate!(in_any_group("developers", "designers"));
    assert_eq!(evaluate(&p, Some("x"), &["designers"], &[]), Verdict::Met);
    assert_eq!(evaluate(&p, Some("x"), DEVELOPER, &[]), Verdict::Met);
    assert_eq!(
        unmet_message(evaluate(&p, Some("x"), &["trolls"], &[])),
        "The member must belong to at least one of the following groups: developers, designers"
    );
}

#[test]
fn in_any_group_with_message_placeholders() {
    let p = predicate!(in_any_group(
        "developers",
        "designers",
        msg = "One of {group_list}; failed: {failed_predicates}"
    ));
    assert_eq!(
        unmet_message(evaluate(&p, Some("x"), &[], &[])),
        "One of developers, designers; failed: The current user must belong to the group \
         \"developers\", The current user must belong to the group \"designers\""
    );
}

#[test]
fn has_permission_checks_the_permission() {
    let p = predicate!(has_permission("edit-users"));
    assert_eq!(evaluate(&p, Some("x"), &[], &["edit-users"]), Verdict::Met);
    assert_eq!(
        unmet_message(evaluate(&p, Some("x"), &[], &["see-site"])),
        "The user must have the \"edit-users\" permission"
    );
    let p = predicate!(has_permission(
        "edit-users",
        msg = "{permission_name} is needed"
    ));
    assert_eq!(
        unmet_message(evaluate(&p, None, &[], &[])),
        "edit-users is needed"
    );
}

#[test]
fn has_all_permissions_reports_the_first_missing() {
    let p = predicate!(has_all_permissions("watch-tv", "eat-popcorn", "party"));
    assert_eq!(
        evaluate(&p, Some("x"), &[], &["watch-tv", "eat-popcorn", "party"]),
        Verdict::Met
    );
    assert_eq!(
        unmet_message(evaluate(&p, Some("x"), &[], &["watch-tv", "party"])),
        "The user must have the \"eat-popcorn\" permission"
    );
    let p = predicate!(has_all_permissions(
        "watch-tv",
        "party",
        msg = "All of {permission_list}"
    ));
    assert_eq!(
        unmet_message(evaluate(&p, Some("x"), &[], &["watch-tv"])),
        "All of watch-tv, party"
    );
}

#[test]
fn has_any_permission_needs_one() {
    let p = predicate!(has_any_permission("watch-tv", "eat-popcorn"));
    assert_eq!(evaluate(&p, Some("x"), &[], &["eat-popcorn"]), Verdict::Met);
    assert_eq!(
        unmet_message(evaluate(&p, Some("x"), &[], &["party"])),
        "The user must have at least one of the following permissions: watch-tv, eat-popcorn"
    );
    let p = predicate!(has_any_permission(
        "watch-tv",
        "eat-popcorn",
        msg = "One of {permission_list}; failed: {failed_predicates}"
    ));
    assert_eq!(
        unmet_message(evaluate(&p, Some("x"), &[], &["party"])),
        "One of watch-tv, eat-popcorn; failed: The user must have the \"watch-tv\" permission, \
         The user must have the \"eat-popcorn\" permission"
    );
}

#[test]
fn not_negates() {
    let p = predicate!(not(is_user("sballmer")));
    assert_eq!(evaluate(&p, Some("rms"), &[], &[]), Verdict::Met);
    assert_eq!(
        unmet_message(evaluate(&p, Some("sballmer"), &[], &[])),
        "The condition must not be met"
    );
    let p = predicate!(not(in_group("trolls"), msg = "Trolls are not welcome"));
    assert_eq!(
        unmet_message(evaluate(&p, Some("sballmer"), &["trolls"], &[])),
        "Trolls are not welcome"
    );
}

#[test]
fn all_reports_the_first_unmet_child() {
    let p = predicate!(all(
        not_anonymous(),
        in_group("admins"),
        has_permission("manage")
    ));
    assert_eq!(
        evaluate(&p, Some("rms"), &["admins"], &["manage"]),
        Verdict::Met
    );
    assert_eq!(
        unmet_message(evaluate(&p, None, &[], &[])),
        "The current user must have been authenticated"
    );
    assert_eq!(
        unmet_message(evaluate(&p, Some("rms"), &["admins"], &[])),
        "The user must have the \"manage\" permission"
    );
}

#[test]
fn all_honours_msg() {
    // repoze.what ignores `msg` on `All`; authz honours it.
    let p = predicate!(all(
        in_group("admins"),
        has_permission("manage"),
        msg = "Admins only"
    ));
    assert_eq!(
        unmet_message(evaluate(&p, Some("rms"), &[], &[])),
        "Admins only"
    );
}

#[test]
fn any_lists_every_failed_child() {
    let p = predicate!(any(is_user("root"), has_permission("manage")));
    assert_eq!(evaluate(&p, Some("root"), &[], &[]), Verdict::Met);
    assert_eq!(evaluate(&p, Some("rms"), &[], &["manage"]), Verdict::Met);
    assert_eq!(
        unmet_message(evaluate(&p, Some("rms"), &[], &[])),
        "At least one of the following predicates must be met: The current user must be \
         \"root\", The user must have the \"manage\" permission"
    );
}

#[test]
fn any_with_message_and_placeholder() {
    let p = predicate!(
        any(is_user("root"), has_permission("manage")),
        msg = "Only administrators can remove blog posts"
    );
    assert_eq!(
        unmet_message(evaluate(&p, Some("rms"), &[], &[])),
        "Only administrators can remove blog posts"
    );
    let p = predicate!(any(
        is_user("root"),
        in_group("admins"),
        msg = "{{admin}} needed: {failed_predicates}."
    ));
    assert_eq!(
        unmet_message(evaluate(&p, None, &[], &[])),
        "{admin} needed: The current user must be \"root\", The current user must belong to \
         the group \"admins\"."
    );
}

#[test]
fn nested_compound_messages() {
    let p = predicate!(any(
        all(in_group("developers"), not(in_group("trolls"))),
        any(is_user("root"), has_any_permission("manage", "edit-site"))
    ));
    assert_eq!(evaluate(&p, Some("linus"), DEVELOPER, &[]), Verdict::Met);
    assert_eq!(evaluate(&p, Some("x"), &[], &["edit-site"]), Verdict::Met);
    assert_eq!(
        unmet_message(evaluate(&p, Some("x"), &["developers", "trolls"], &[])),
        "At least one of the following predicates must be met: The condition must not be met, \
         At least one of the following predicates must be met: The current user must be \
         \"root\", The user must have at least one of the following permissions: manage, \
         edit-site"
    );
}

#[test]
fn denials_name_the_deciding_sub_predicate() {
    let p = predicate!(all(not_anonymous(), in_all_groups("admins", "developers")));
    let Verdict::Unmet(denial) = evaluate(&p, Some("rms"), &["admins"], &[]) else {
        panic!("expected unmet");
    };
    assert_eq!(denial.decided_by(), "in_group(\"developers\")");
    let p = predicate!(any(is_user("root"), has_permission("manage")));
    let Verdict::Unmet(denial) = evaluate(&p, Some("rms"), &[], &[]) else {
        panic!("expected unmet");
    };
    assert_eq!(
        denial.decided_by(),
        "any(is_user(\"root\"), has_permission(\"manage\"))"
    );
}
