//! `#[allow_only]` names custom predicates from where the attribute is written, as `#[require]`
//! does: `self::` and `super::` paths mean the module's parent, and an item of the module with
//! the same name does not shadow the one meant. Every module below has a `gate` of its own that
//! would let everyone in; the `gate` its attribute means lets nobody in. Also: two modules in one
//! parent, nested modules, two attributes on one module, and the audit registry of all of them.

use authz_runtime::testing::TestAuthenticator;
use authz_runtime::{
    AuthzLayer, Context, Error, MemoryStore, Predicate, Verdict, allow_only, guarded_handlers,
};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use tower::ServiceExt;

/// A gate, open or closed as built.
pub struct Gate(bool);

impl Predicate for Gate {
    async fn evaluate(&self, _ctx: &mut Context<'_>) -> Result<Verdict, Error> {
        Ok(Verdict::met_if(self.0, "The gate must be open"))
    }
}

/// The gate the attributes below mean: closed.
fn gate() -> Gate {
    Gate(false)
}

#[allow_only(self::gate())]
mod by_self {
    /// Open, and not what `self::gate()` in the attribute means.
    #[allow(dead_code)]
    fn gate() -> super::Gate {
        super::Gate(true)
    }

    pub async fn home() -> &'static str {
        "by self"
    }
}

#[allow_only(gate())]
mod shadowing {
    /// Open, and not what `gate()` in the attribute means.
    #[allow(dead_code)]
    fn gate() -> super::Gate {
        super::Gate(true)
    }

    pub async fn home() -> &'static str {
        "shadowing"
    }
}

mod outer {
    /// Open: `super::gate()` written here means the crate's, not this one.
    #[allow(dead_code)]
    fn gate() -> super::Gate {
        super::Gate(true)
    }

    #[authz_runtime::allow_only(super::gate())]
    pub mod by_super {
        #[allow(dead_code)]
        fn gate() -> crate::Gate {
            crate::Gate(true)
        }

        pub async fn home() -> &'static str {
            "by super"
        }

        pub mod deeper {
            pub async fn trail() -> &'static str {
                "trail"
            }
        }
    }

    /// A second module in the same parent.
    #[authz_runtime::allow_only(super::gate(), msg = "The sibling is closed")]
    pub mod sibling {
        pub async fn home() -> &'static str {
            "sibling"
        }
    }
}

#[allow_only(is_anonymous())]
mod lobby {
    /// Closed: what `self::gate()` in the nested attribute means.
    fn gate() -> super::Gate {
        super::Gate(false)
    }

    pub async fn home() -> &'static str {
        "lobby"
    }

    #[authz_runtime::allow_only(self::gate())]
    pub mod vault {
        #[allow(dead_code)]
        fn gate() -> crate::Gate {
            crate::Gate(true)
        }

        pub async fn home() -> &'static str {
            "vault"
        }
    }
}

#[allow_only(is_anonymous())]
#[allow_only(all(is_anonymous(), self::gate()))]
mod twice {
    #[allow(dead_code)]
    fn gate() -> super::Gate {
        super::Gate(true)
    }

    pub async fn both() -> &'static str {
        "both"
    }
}

async fn status(app: &Router, uri: &str) -> StatusCode {
    let request = Request::get(uri).body(Body::empty()).unwrap();
    app.clone().oneshot(request).await.unwrap().status()
}

fn rules_of(handler: &str) -> Vec<(&'static str, &'static str)> {
    guarded_handlers()
        .into_iter()
        .filter(|site| site.handler.ends_with(handler))
        .map(|site| (site.attribute, site.rule.text()))
        .collect()
}

#[tokio::main]
async fn main() {
    let app = Router::new()
        .route("/by-self", get(by_self::home))
        .route("/shadowing", get(shadowing::home))
        .route("/by-super", get(outer::by_super::home))
        .route("/by-super/deeper", get(outer::by_super::deeper::trail))
        .route("/sibling", get(outer::sibling::home))
        .route("/lobby", get(lobby::home))
        .route("/vault", get(lobby::vault::home))
        .route("/twice", get(twice::both))
        .layer(AuthzLayer::new(
            TestAuthenticator::default(),
            MemoryStore::builder().build(),
        ));

    assert_eq!(status(&app, "/lobby").await, StatusCode::OK);
    for closed in [
        "/by-self",
        "/shadowing",
        "/by-super",
        "/by-super/deeper",
        "/sibling",
        "/vault",
        "/twice",
    ] {
        assert_eq!(
            status(&app, closed).await,
            StatusCode::UNAUTHORIZED,
            "{closed}"
        );
    }

    assert_eq!(
        rules_of("::by_self::home"),
        [("allow_only", "self::gate()")]
    );
    assert_eq!(
        rules_of("::outer::by_super::deeper::trail"),
        [("allow_only", "super::gate()")]
    );
    assert_eq!(
        rules_of("::outer::sibling::home"),
        [("allow_only", "super::gate()")]
    );
    assert_eq!(
        rules_of("::lobby::vault::home"),
        [
            ("allow_only", "is_anonymous()"),
            ("allow_only", "self::gate()")
        ]
    );
    assert_eq!(
        rules_of("::twice::both"),
        [
            ("allow_only", "is_anonymous()"),
            ("allow_only", "all(is_anonymous(), self::gate())")
        ]
    );
}
