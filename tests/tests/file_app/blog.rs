//! The blog's drafts: signed-in users only, and of those the writers, nested.

#[authz_runtime::allow_only(not_anonymous(), msg = "Sign in to see the drafts")]
pub(crate) mod drafts {
    use authz_runtime::{allow_only, require};

    pub(crate) struct Drafts;

    #[allow_only(in_group("writers"))]
    impl Drafts {
        pub(crate) async fn list() -> &'static str {
            "the drafts"
        }

        #[require(has_permission("publish"))]
        pub(crate) async fn publish() -> &'static str {
            "published"
        }
    }
}
