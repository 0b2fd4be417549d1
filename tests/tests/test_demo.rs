//! The demo over real HTTP, on SQLite, PostgreSQL and MariaDB: each test serves the demo on a
//! loopback port over its own database and drives it with a cookie-keeping client, as a
//! browser (HTML forms, the CSRF token, the sign-in ticket) or as an API client (bearer
//! tokens, JSON). It checks what a user sees: the status, where they are sent, and the page.

mod databases;

use std::time::Duration;

use authz_runtime::signin::TicketAuthenticator;
use authz_runtime::signin::{PasswordChecks, SignInThrottle};
use databases::TestDatabase;
use demo::auth::Clock;
use demo::db::Demo;
use demo::web::Settings;
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_TYPE, COOKIE, LOCATION, RETRY_AFTER, SET_COOKIE,
};
use serde_json::Value;

sql_suite!(
    signing_in_sends_the_user_back,
    administrators_see_who_may_call_what,
    a_signed_in_user_without_the_group_gets_the_demos_403_page,
    json_clients_get_json_denials_and_never_a_redirect,
    signing_out_clears_the_ticket,
    came_from_never_leaves_the_site,
    a_wrong_password_and_an_unknown_user_look_the_same,
    expired_tampered_and_foreign_tickets_are_anonymous,
    forms_without_a_valid_csrf_token_are_refused,
    releasing_needs_the_permission_in_april_or_october,
    only_the_author_or_a_manager_edits_a_post,
    only_administrators_remove_posts,
    either_branch_of_the_removal_rule_lets_a_user_remove,
    the_admin_pages_manage_users,
    the_admin_pages_change_groups_members_and_grants,
    a_user_with_an_empty_password_is_not_created_from_the_admin_page,
    signing_out_works_from_the_403_page_and_message_pages,
    cookies_are_secure_only_when_the_demo_is_set_to,
    a_failed_sign_in_still_shows_who_is_signed_in,
    pages_show_only_the_actions_the_visitor_may_take,
    sign_ins_are_throttled_per_name_known_or_not,
    sign_ins_are_throttled_per_client_address,
    password_checks_beyond_the_bound_are_refused_with_retry_after,
    a_planted_csrf_cookie_and_token_are_refused_beside_the_victims_ticket,
    signing_in_and_out_renews_the_csrf_token,
    two_ticket_cookies_are_anonymous,
);

const ROOT_PASSWORD: &str = "root-password";

/// What a browser sends in `Accept`.
const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// The demo served on a loopback port over the test's database.
struct Site {
    demo: Demo,
    clock: Clock,
    base: String,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Site {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Initializes the demo in `database` (administrator "root", the sample posts, the month set to
/// April) and serves it.
async fn serve(database: &TestDatabase) -> Site {
    serve_with(database, false).await
}

/// [`serve`], with `Secure` cookies or not.
async fn serve_with(database: &TestDatabase, secure_cookies: bool) -> Site {
    serve_configured(database, |settings| {
        settings.with_secure_cookies(secure_cookies)
    })
    .await
}

/// [`serve`], with the settings `configure` makes of the defaults.
async fn serve_configured(
    database: &TestDatabase,
    configure: impl FnOnce(Settings) -> Settings,
) -> Site {
    let demo = Demo::open(&database.url)
        .await
        .expect("the test database accepts connections");
    demo.initialize("root", Some(ROOT_PASSWORD))
        .await
        .expect("the demo initializes");
    let clock = Clock::fixed(4);
    let settings = configure(Settings::new(clock.clone()));
    let app = demo::web::app(demo.clone(), settings)
        .await
        .expect("the demo's app builds");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let address = listener.local_addr().expect("the port's address");
    let server = tokio::spawn(async move {
        // With the client's address, as `demo serve` has it: sign-ins are throttled by it.
        let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
        axum::serve(listener, app).await.expect("the demo serves");
    });
    Site {
        demo,
        clock,
        base: format!("http://{address}"),
        server,
    }
}

impl Site {
    /// The demo's tickets, made as the demo makes them: signed with its secret, for the
    /// account and session generation the store has now.
    async fn tickets(&self) -> TicketAuthenticator {
        let secret = self.demo.secret().await.expect("the ticket secret");
        TicketAuthenticator::new(&secret)
            .unwrap()
            .with_sessions(self.demo.store.clone())
    }

    /// The `authz_ticket=…` cookie of a session of `user`, made without the login form.
    async fn ticket(&self, user: &str) -> String {
        ticket_cookie(&self.tickets().await, user).await
    }

    /// Creates `name` with the password `"{name}-password"`, in `groups`.
    async fn user(&self, name: &str, groups: &[&str]) {
        self.demo
            .add_user(name, &password_of(name))
            .await
            .expect("the user is created");
        for group in groups {
            self.demo
                .store
                .add_user_to_group(name, group)
                .await
                .expect("the user joins the group");
        }
    }

    /// A new browser, with no cookies yet.
    fn browser(&self) -> Browser {
        Browser::new(&self.base)
    }

    /// The id of the first post by `author`.
    async fn post_by(&self, author: &str) -> i64 {
        self.demo
            .posts()
            .await
            .expect("the posts can be listed")
            .iter()
            .find(|post| post.author.as_deref() == Some(author))
            .unwrap_or_else(|| panic!("a post by {author}"))
            .id
    }

    /// An API client's request: no cookies, this `Accept`, and the bearer token if any.
    async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        accept: &str,
    ) -> Page {
        let mut request = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client")
            .request(method, format!("{}{path}", self.base))
            .header(ACCEPT, accept);
        if let Some(token) = token {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        Page::read(request.send().await.expect("the demo answers")).await
    }
}

/// Every test user's password.
fn password_of(name: &str) -> String {
    if name == "root" {
        ROOT_PASSWORD.to_owned()
    } else {
        format!("{name}-password")
    }
}

/// What a client sees of a response.
#[derive(Debug)]
struct Page {
    status: StatusCode,
    location: Option<String>,
    content_type: String,
    retry_after: Option<String>,
    set_cookies: Vec<String>,
    /// The body as sent (HTML-escaped in pages).
    body: String,
}

impl Page {
    async fn read(response: reqwest::Response) -> Self {
        let headers = response.headers();
        let header = |name| {
            headers
                .get(name)
                .map(|value: &reqwest::header::HeaderValue| value.to_str().unwrap().to_owned())
        };
        let location = header(LOCATION);
        let content_type = header(CONTENT_TYPE).unwrap_or_default();
        let retry_after = header(RETRY_AFTER);
        let set_cookies = headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|value| value.to_str().unwrap().to_owned())
            .collect();
        let status = response.status();
        let body = response.text().await.expect("the body arrives");
        Self {
            status,
            location,
            content_type,
            retry_after,
            set_cookies,
            body,
        }
    }

    /// The body with HTML's character references decoded: what the user reads.
    fn text(&self) -> String {
        unescape(&self.body)
    }

    /// The `value` of the first input named `name`.
    fn input(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('"')? + start;
        Some(unescape(&self.body[start..end]))
    }

    /// The form's CSRF token.
    fn csrf(&self) -> String {
        self.input("csrf")
            .unwrap_or_else(|| panic!("a CSRF token in the page: {}", self.body))
    }

    /// The `Set-Cookie` of the ticket, if the response sets one (`__Host-authz_ticket` when
    /// the demo's cookies are `Secure`).
    fn ticket_cookie(&self) -> Option<&str> {
        self.set_cookies
            .iter()
            .find(|cookie| {
                cookie.starts_with("authz_ticket=") || cookie.starts_with("__Host-authz_ticket=")
            })
            .map(String::as_str)
    }

    fn json(&self) -> Value {
        assert!(
            self.content_type.starts_with("application/json"),
            "a JSON answer: {self:?}"
        );
        serde_json::from_str(&self.body).expect("the body is JSON")
    }

    /// Asserts a `303 See Other` to `location`.
    #[track_caller]
    fn assert_see_other(&self, location: &str) {
        assert_eq!(
            (self.status, self.location.as_deref()),
            (StatusCode::SEE_OTHER, Some(location)),
            "{self:?}"
        );
    }

    /// Asserts `status` and that the page says `text` (compared after unescaping).
    #[track_caller]
    fn assert_says(&self, status: StatusCode, text: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert!(
            self.text().contains(text),
            "the page should say {text:?}: {}",
            self.body
        );
    }
}

/// Decodes the character references minijinja writes (`&quot;`, `&#x27;`, `&#x2f;`, …).
fn unescape(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(amp) = rest.find('&') {
        text.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.find(';').and_then(|semicolon| {
            let entity = &rest[1..semicolon];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => entity.strip_prefix('#').and_then(|number| {
                    let code = match number.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => number.parse().ok(),
                    };
                    code.and_then(char::from_u32)
                }),
            };
            c.map(|c| (c, semicolon + 1))
        });
        match decoded {
            Some((c, length)) => {
                text.push(c);
                rest = &rest[length..];
            }
            None => {
                text.push('&');
                rest = &rest[1..];
            }
        }
    }
    text.push_str(rest);
    text
}

/// `text` percent-encoded as a browser encodes a form's field (and a query's value).
fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                char::from(byte).to_string()
            }
            b' ' => "+".to_owned(),
            byte => format!("%{byte:02X}"),
        })
        .collect()
}

/// `application/x-www-form-urlencoded`, as a browser encodes a form (reqwest's `form`
/// feature is not enabled here).
fn form_encode(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A browser: keeps cookies, does not follow redirects, asks for HTML.
struct Browser {
    client: reqwest::Client,
    base: String,
}

impl Browser {
    fn new(base: &str) -> Self {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        Self {
            client,
            base: base.to_owned(),
        }
    }

    async fn get(&self, path: &str) -> Page {
        self.get_accepting(path, BROWSER_ACCEPT).await
    }

    async fn get_accepting(&self, path: &str, accept: &str) -> Page {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header(ACCEPT, accept)
            .send()
            .await
            .expect("the demo answers");
        Page::read(response).await
    }

    /// A GET with this `Cookie` header instead of the browser's cookies.
    async fn get_with_cookie(&self, path: &str, cookie: &str) -> Page {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header(ACCEPT, BROWSER_ACCEPT)
            .header(COOKIE, cookie)
            .send()
            .await
            .expect("the demo answers");
        Page::read(response).await
    }

    async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header(ACCEPT, BROWSER_ACCEPT)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form_encode(fields))
            .send()
            .await
            .expect("the demo answers");
        Page::read(response).await
    }

    /// The CSRF token of this browser's session, read from the sign-in form.
    async fn csrf_token(&self) -> String {
        let page = self.get("/login").await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        page.csrf()
    }

    /// Signs in through the form, with `came_from` as the page would carry it.
    async fn sign_in_from(&self, user: &str, password: &str, came_from: &str) -> Page {
        let csrf = self.csrf_token().await;
        self.post_form(
            "/login",
            &[
                ("csrf", &csrf),
                ("came_from", came_from),
                ("user", user),
                ("password", password),
            ],
        )
        .await
    }

    /// Signs in as `user` with their password; panics if that fails.
    async fn sign_in(&self, user: &str) {
        let page = self.sign_in_from(user, &password_of(user), "/").await;
        page.assert_see_other("/");
        assert!(page.ticket_cookie().is_some(), "a ticket: {page:?}");
    }
}

/// The `name=value` part of a `Set-Cookie` value.
fn cookie_pair(set_cookie: &str) -> &str {
    set_cookie.split(';').next().unwrap_or_default()
}

/// The `authz_ticket=…` cookie that `tickets` signs `user` in with.
async fn ticket_cookie(tickets: &TicketAuthenticator, user: &str) -> String {
    let set_cookie = tickets
        .sign_in(user)
        .await
        .unwrap()
        .expect("the user exists");
    cookie_pair(set_cookie.to_str().unwrap()).to_owned()
}

/// An anonymous browser is sent to sign in, and after signing in, back where it was going.
async fn signing_in_sends_the_user_back(database: &TestDatabase) {
    let site = serve(database).await;
    let browser = site.browser();

    let denied = browser.get("/admin").await;
    denied.assert_see_other("/login?came_from=%2Fadmin");

    let login = browser.get("/login?came_from=%2Fadmin").await;
    assert_eq!(login.status, StatusCode::OK, "{login:?}");
    assert_eq!(login.input("came_from").as_deref(), Some("/admin"));
    let signed_in = browser
        .post_form(
            "/login",
            &[
                ("csrf", &login.csrf()),
                ("came_from", &login.input("came_from").unwrap()),
                ("user", "root"),
                ("password", ROOT_PASSWORD),
            ],
        )
        .await;
    signed_in.assert_see_other("/admin");
    let ticket = signed_in.ticket_cookie().expect("a ticket cookie");
    assert!(
        ticket.contains("; HttpOnly") && ticket.contains("; SameSite=Lax"),
        "{ticket}"
    );
    assert!(
        cookie_pair(ticket).len() > "authz_ticket=".len(),
        "{ticket}"
    );

    let admin = browser.get("/admin").await;
    admin.assert_says(StatusCode::OK, "Welcome to the admin side, root");
    admin.assert_says(StatusCode::OK, "Signed in as <strong>root</strong>");
}

/// `/admin/policies`: every guarded handler with its rule, for administrators only.
async fn administrators_see_who_may_call_what(database: &TestDatabase) {
    let site = serve(database).await;
    site.user("visitor", &[]).await;
    let visitor = site.browser();
    visitor.sign_in("visitor").await;
    visitor.get("/admin/policies").await.assert_says(
        StatusCode::FORBIDDEN,
        "The current user must belong to the group \"admin\"",
    );

    let root = site.browser();
    root.sign_in("root").await;
    let page = root.get("/admin/policies").await;
    page.assert_says(StatusCode::OK, "Who may call what");
    for row in [
        "<td><code>demo::web::remove_post</code></td><td>require</td>",
        "<td><code>demo::web::admin::policies</code></td><td>allow_only</td>",
        "<td>Only administrators can remove blog posts</td>",
        r#"any(is_user("root"), has_permission("manage"))"#,
        r#"all(any(is_month(4), is_month(10)), has_permission("release"))"#,
    ] {
        page.assert_says(StatusCode::OK, row);
    }
    root.get("/admin").await.assert_says(
        StatusCode::OK,
        "<a href=\"/admin/policies\">Who may call what</a>",
    );
}

/// Signed in without the group, the demo's own 403 page: the rule's message, and a way out.
async fn a_signed_in_user_without_the_group_gets_the_demos_403_page(database: &TestDatabase) {
    let site = serve(database).await;
    site.user("visitor", &[]).await;
    let browser = site.browser();
    browser.sign_in("visitor").await;

    let forbidden = browser.get("/admin").await;
    assert_eq!(forbidden.location, None);
    assert!(
        forbidden.content_type.starts_with("text/html"),
        "{forbidden:?}"
    );
    forbidden.assert_says(
        StatusCode::FORBIDDEN,
        "The current user must belong to the group \"admin\"",
    );
    // The quotes of the message are escaped in the HTML, not written raw.
    assert!(
        !forbidden.body.contains("group \"admin\""),
        "{}",
        forbidden.body
    );
    forbidden.assert_says(
        StatusCode::FORBIDDEN,
        "You are signed in as <strong>visitor</strong>, who may not do this.",
    );
    forbidden.assert_says(
        StatusCode::FORBIDDEN,
        "<a href=\"/login?came_from=%2Fadmin\">Sign in as someone else</a>",
    );

    // The link leads to the sign-in form, which will send the next user back to /admin.
    let login = browser.get("/login?came_from=%2Fadmin").await;
    assert_eq!(login.status, StatusCode::OK);
    assert_eq!(login.input("came_from").as_deref(), Some("/admin"));
}

/// JSON clients get JSON denials (401 anonymous, 403 signed in), never a redirect; the API
/// answers bearer tokens.
async fn json_clients_get_json_denials_and_never_a_redirect(database: &TestDatabase) {
    let site = serve(database).await;
    site.user("visitor", &[]).await;
    let browser = site.browser();

    // A page's denial, for a client that asks for JSON: 401 in JSON, no redirect.
    let anonymous = browser.get_accepting("/admin", "application/json").await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{anonymous:?}");
    assert_eq!(anonymous.location, None);
    let json = anonymous.json();
    assert_eq!(json["status"], 401);
    assert!(
        json["detail"]
            .as_str()
            .is_some_and(|detail| !detail.is_empty()),
        "{json}"
    );

    // Signed in without the group, a JSON client gets a JSON 403, not the demo's page.
    let visitor_ticket = site.ticket("visitor").await;
    let forbidden = site
        .browser()
        .client
        .get(format!("{}/admin", site.base))
        .header(ACCEPT, "application/json")
        .header(COOKIE, &visitor_ticket)
        .send()
        .await
        .expect("the demo answers");
    let forbidden = Page::read(forbidden).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN, "{forbidden:?}");
    assert_eq!(
        forbidden.json(),
        serde_json::json!({
            "status": 403,
            "detail": "The current user must belong to the group \"admin\"",
        })
    );

    // The API.
    let root_token = site
        .demo
        .create_token("root", Duration::from_secs(3600))
        .await
        .expect("a token");
    let visitor_token = site
        .demo
        .create_token("visitor", Duration::from_secs(3600))
        .await
        .expect("a token");
    let (get, delete) = (reqwest::Method::GET, reqwest::Method::DELETE);
    let json_accept = "application/json";
    let root_post = site.post_by("root").await;

    let no_token = site.api(get.clone(), "/api/posts", None, json_accept).await;
    assert_eq!(no_token.status, StatusCode::UNAUTHORIZED, "{no_token:?}");
    assert_eq!(no_token.json()["status"], 401);

    let listed = site
        .api(get.clone(), "/api/posts", Some(&visitor_token), json_accept)
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{listed:?}");
    let posts = listed.json();
    let titles: Vec<&str> = posts
        .as_array()
        .expect("a list of posts")
        .iter()
        .filter_map(|post| post["title"].as_str())
        .collect();
    assert_eq!(titles, ["Notes from the editor", "Welcome"]);

    let me = site
        .api(get.clone(), "/api/me", Some(&visitor_token), json_accept)
        .await;
    assert_eq!(me.json(), serde_json::json!({ "user": "visitor" }));

    let path = format!("/api/posts/{root_post}");
    let refused = site
        .api(delete.clone(), &path, Some(&visitor_token), json_accept)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{refused:?}");
    assert_eq!(
        refused.json(),
        serde_json::json!({
            "status": 403,
            "detail": "Only administrators can remove blog posts",
        })
    );
    assert!(site.demo.post(root_post).await.unwrap().is_some());

    let removed = site
        .api(delete.clone(), &path, Some(&root_token), json_accept)
        .await;
    assert_eq!(removed.status, StatusCode::OK, "{removed:?}");
    assert_eq!(removed.json(), serde_json::json!({ "removed": root_post }));
    assert!(site.demo.post(root_post).await.unwrap().is_none());

    let wrong = site
        .api(get.clone(), "/api/posts", Some("not-a-token"), json_accept)
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{wrong:?}");
    assert_eq!(wrong.json()["status"], 401);

    // Even a client asking for HTML gets JSON from the API, and is never redirected.
    for (method, path, token, status) in [
        (get.clone(), "/api/posts", None, StatusCode::UNAUTHORIZED),
        (
            get,
            "/api/me",
            Some("not-a-token"),
            StatusCode::UNAUTHORIZED,
        ),
        (
            delete,
            path.as_str(),
            Some(visitor_token.as_str()),
            StatusCode::FORBIDDEN,
        ),
    ] {
        let page = site.api(method, path, token, BROWSER_ACCEPT).await;
        assert_eq!((page.status, page.location.as_deref()), (status, None));
        assert_eq!(page.json()["status"], status.as_u16());
    }
}

/// Signing out clears the ticket: the next visit to /admin is sent to sign in again.
async fn signing_out_clears_the_ticket(database: &TestDatabase) {
    let site = serve(database).await;
    let browser = site.browser();
    browser.sign_in("root").await;
    let admin = browser.get("/admin").await;
    admin.assert_says(StatusCode::OK, "Welcome to the admin side, root");

    let signed_out = browser
        .post_form("/logout", &[("csrf", &admin.csrf())])
        .await;
    signed_out.assert_see_other("/");
    let cleared = signed_out.ticket_cookie().expect("the ticket is cleared");
    assert_eq!(cookie_pair(cleared), "authz_ticket=", "{cleared}");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");

    browser
        .get("/admin")
        .await
        .assert_see_other("/login?came_from=%2Fadmin");
    let home = browser.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(!home.text().contains("Signed in as"), "{}", home.body);
}

/// `came_from` is honoured only when it is a path on this site.
async fn came_from_never_leaves_the_site(database: &TestDatabase) {
    // Root signs in once per payload: more often than the default throttle allows.
    let site = serve_configured(database, |settings| {
        settings.with_sign_in_throttle(SignInThrottle::new().per_name(100, Duration::from_secs(1)))
    })
    .await;
    let browser = site.browser();
    for payload in [
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "%2F%2Fevil.example",
        "/%2F%2Fevil.example",
        "/%5Cevil.example",
        "%252F%252Fevil.example",
        "/\t/evil.example",
        "http:evil.example",
        "  //evil.example",
        "/%2f%2fevil.example",
        "%2f%2fevil.example",
        "/%5cevil.example",
        "/%5Cevil.example",
        "HTTPS://EVIL.EXAMPLE",
        "HtTpS://evil.example/",
        "data:text/html,<script>alert(1)</script>",
        "DATA:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "/%0d%0aSet-Cookie:%20x=y",
        "/%0D%0ALocation:%20https://evil.example",
        "///evil.example",
        "////evil.example",
        "/%09/evil.example",
    ] {
        // Neither the sign-in form carries it...
        let login = browser
            .get(&format!("/login?came_from={}", encode(payload)))
            .await;
        assert_eq!(login.status, StatusCode::OK, "{payload:?}");
        assert_eq!(
            login.input("came_from").as_deref(),
            Some("/"),
            "{payload:?}"
        );
        // ...nor does a forged form send the user there.
        let signed_in = browser.sign_in_from("root", ROOT_PASSWORD, payload).await;
        assert_eq!(
            (signed_in.status, signed_in.location.as_deref()),
            (StatusCode::SEE_OTHER, Some("/")),
            "{payload:?}"
        );
        assert!(signed_in.ticket_cookie().is_some(), "{payload:?}");
    }
    let post = site.post_by("root").await;
    let good = format!("/posts/{post}");
    browser
        .sign_in_from("root", ROOT_PASSWORD, &good)
        .await
        .assert_see_other(&good);
}

/// A wrong password and an unknown user get the same page, and no ticket.
async fn a_wrong_password_and_an_unknown_user_look_the_same(database: &TestDatabase) {
    let site = serve(database).await;
    let browser = site.browser();
    let wrong_password = browser
        .sign_in_from("root", "not-the-password", "/admin")
        .await;
    let unknown_user = browser
        .sign_in_from("nobody-at-all", ROOT_PASSWORD, "/admin")
        .await;
    for page in [&wrong_password, &unknown_user] {
        page.assert_says(
            StatusCode::UNAUTHORIZED,
            "Unknown user name or wrong password",
        );
        assert_eq!(page.location, None);
        assert!(page.ticket_cookie().is_none(), "{page:?}");
        // The form is shown again, to try once more, still going back to /admin.
        assert_eq!(page.input("came_from").as_deref(), Some("/admin"));
    }
    assert_eq!(wrong_password.input("user").as_deref(), Some("root"));
    assert_eq!(unknown_user.input("user").as_deref(), Some("nobody-at-all"));
    let without_name = |page: &Page, name: &str| {
        page.body.replace(
            &format!("name=\"user\" value=\"{name}\""),
            "name=\"user\" value=\"\"",
        )
    };
    assert_eq!(
        without_name(&wrong_password, "root"),
        without_name(&unknown_user, "nobody-at-all")
    );
    assert_eq!(wrong_password.content_type, unknown_user.content_type);

    // Still anonymous.
    browser
        .get("/admin")
        .await
        .assert_see_other("/login?came_from=%2Fadmin");
}

/// Expired, tampered-with and foreign tickets are anonymous.
async fn expired_tampered_and_foreign_tickets_are_anonymous(database: &TestDatabase) {
    let site = serve(database).await;
    let browser = site.browser();
    site.user("visitor", &[]).await;
    let tickets = site.tickets().await;
    let anonymous = |page: Page, case: &str| {
        assert_eq!(
            (page.status, page.location.as_deref()),
            (StatusCode::SEE_OTHER, Some("/login?came_from=%2Fadmin")),
            "{case}: {page:?}"
        );
    };

    // A genuine ticket, made the same way, lets root in: the forgeries below fail for what
    // they change, nothing else.
    let genuine = ticket_cookie(&tickets, "root").await;
    browser
        .get_with_cookie("/admin", &genuine)
        .await
        .assert_says(StatusCode::OK, "Welcome to the admin side, root");

    let expired = ticket_cookie(&tickets.clone().with_max_age(Duration::ZERO), "root").await;
    anonymous(browser.get_with_cookie("/admin", &expired).await, "expired");
    // Genuine and fresh, but for no account (as tickets were before sessions could end).
    let accountless = cookie_pair(tickets.issue("root").to_str().unwrap()).to_owned();
    anonymous(
        browser.get_with_cookie("/admin", &accountless).await,
        "no account",
    );

    // root's user part on visitor's signature, and root's ticket with its signature altered.
    let value = |ticket: &str| ticket["authz_ticket=".len()..].to_owned();
    let root_parts: Vec<String> = value(&genuine).split('.').map(str::to_owned).collect();
    let other_parts: Vec<String> = value(&ticket_cookie(&tickets, "visitor").await)
        .split('.')
        .map(str::to_owned)
        .collect();
    assert_eq!((root_parts.len(), other_parts.len()), (4, 4));
    let swapped_user = format!(
        "authz_ticket={}.{}.{}.{}",
        other_parts[0], root_parts[1], other_parts[2], other_parts[3]
    );
    anonymous(
        browser.get_with_cookie("/admin", &swapped_user).await,
        "another user's signature",
    );
    let swapped_account = format!(
        "authz_ticket={}.{}.{}.{}",
        root_parts[0], root_parts[1], other_parts[2], root_parts[3]
    );
    anonymous(
        browser.get_with_cookie("/admin", &swapped_account).await,
        "another account",
    );
    let mut signature = root_parts[3].clone().into_bytes();
    signature[0] = if signature[0] == b'A' { b'B' } else { b'A' };
    let altered_signature = format!(
        "authz_ticket={}.{}.{}.{}",
        root_parts[0],
        root_parts[1],
        root_parts[2],
        String::from_utf8(signature).unwrap()
    );
    anonymous(
        browser.get_with_cookie("/admin", &altered_signature).await,
        "an altered signature",
    );
    let extended = format!(
        "authz_ticket={}.{}.{}.{}",
        root_parts[0].parse::<u64>().unwrap() + 3600,
        root_parts[1],
        root_parts[2],
        root_parts[3]
    );
    anonymous(
        browser.get_with_cookie("/admin", &extended).await,
        "an extended expiry",
    );

    let foreign = TicketAuthenticator::new(&[7u8; 32])
        .unwrap()
        .with_sessions(site.demo.store.clone());
    anonymous(
        browser
            .get_with_cookie("/admin", &ticket_cookie(&foreign, "root").await)
            .await,
        "another secret",
    );
    anonymous(
        browser
            .get_with_cookie("/admin", "authz_ticket=garbage")
            .await,
        "garbage",
    );
}

/// Every form needs the CSRF token of the browser's own session.
async fn forms_without_a_valid_csrf_token_are_refused(database: &TestDatabase) {
    let site = serve(database).await;
    let post = site.post_by("editor").await;
    let delete = format!("/posts/{post}/delete");
    let root = site.browser();
    root.sign_in("root").await;

    let refused = root.post_form(&delete, &[]).await;
    refused.assert_says(StatusCode::FORBIDDEN, "CSRF token is missing or invalid");
    root.get(&format!("/posts/{post}"))
        .await
        .assert_says(StatusCode::OK, "Notes from the editor");

    // A token of another session (another cookie) does not go with root's cookie.
    let other = site.browser();
    let others_token = other.csrf_token().await;
    let refused = root.post_form(&delete, &[("csrf", &others_token)]).await;
    refused.assert_says(StatusCode::FORBIDDEN, "CSRF token is missing or invalid");
    // Nor does a made-up one.
    let refused = root
        .post_form(&delete, &[("csrf", "nonce.signature")])
        .await;
    refused.assert_says(StatusCode::FORBIDDEN, "CSRF token is missing or invalid");
    root.get(&format!("/posts/{post}"))
        .await
        .assert_says(StatusCode::OK, "Notes from the editor");
    assert!(site.demo.post(post).await.unwrap().is_some());

    // Signing in needs the token too.
    let stranger = site.browser();
    stranger.csrf_token().await;
    let login = stranger
        .post_form(
            "/login",
            &[
                ("came_from", "/"),
                ("user", "root"),
                ("password", ROOT_PASSWORD),
            ],
        )
        .await;
    login.assert_says(StatusCode::FORBIDDEN, "CSRF token is missing or invalid");
    assert!(login.ticket_cookie().is_none(), "{login:?}");
    // A page's token without its cookie (what another site could post) is refused as well.
    let token = stranger.csrf_token().await;
    let cookieless = Browser::new(&site.base);
    let login = cookieless
        .post_form(
            "/login",
            &[
                ("csrf", &token),
                ("came_from", "/"),
                ("user", "root"),
                ("password", ROOT_PASSWORD),
            ],
        )
        .await;
    login.assert_says(StatusCode::FORBIDDEN, "CSRF token is missing or invalid");
    assert!(login.ticket_cookie().is_none(), "{login:?}");
    stranger
        .get("/admin")
        .await
        .assert_see_other("/login?came_from=%2Fadmin");

    // The edit form: without the token, nothing is changed, whoever may edit.
    let edit = format!("/posts/{post}/edit");
    let refused = root
        .post_form(&edit, &[("title", "Forged"), ("body", "Forged text")])
        .await;
    refused.assert_says(StatusCode::FORBIDDEN, "CSRF token is missing or invalid");
    // The refusal page still shows who is signed in, with a working sign-out form.
    refused.assert_says(StatusCode::FORBIDDEN, "Signed in as <strong>root</strong>");
    assert_eq!(refused.csrf(), root.csrf_token().await);
    let unchanged = site.demo.post(post).await.unwrap().expect("the post");
    assert_eq!(unchanged.title, "Notes from the editor");

    // The release form, in April, by someone who may release.
    site.clock.set(4);
    root.post_form("/release", &[])
        .await
        .assert_says(StatusCode::FORBIDDEN, "CSRF token is missing or invalid");
    let wrong = root.post_form("/release", &[("csrf", "wrong")]).await;
    wrong.assert_says(StatusCode::FORBIDDEN, "CSRF token is missing or invalid");
    assert!(!wrong.text().contains("started"), "{wrong:?}");
    let csrf = root.csrf_token().await;
    root.post_form("/release", &[("csrf", &csrf)])
        .await
        .assert_says(StatusCode::OK, "The release was started by root.");

    // The middleware checks every state-changing request to the pages, not only forms: a
    // body of another type, or none, needs the token too (in the `X-CSRF-Token` header).
    for (method, content_type, body) in [
        (
            reqwest::Method::POST,
            "application/json",
            r#"{"csrf": "x"}"#,
        ),
        (reqwest::Method::POST, "text/plain", "csrf=x"),
        (reqwest::Method::DELETE, "", ""),
        (reqwest::Method::PUT, "", ""),
    ] {
        let mut request = root
            .client
            .request(method.clone(), format!("{}{delete}", site.base))
            .header(ACCEPT, BROWSER_ACCEPT)
            .body(body);
        if !content_type.is_empty() {
            request = request.header(CONTENT_TYPE, content_type);
        }
        let refused = Page::read(request.send().await.expect("the demo answers")).await;
        refused.assert_says(StatusCode::FORBIDDEN, "CSRF token is missing or invalid");
    }
    assert!(site.demo.post(post).await.unwrap().is_some());
    let with_header = root
        .client
        .post(format!("{}{delete}", site.base))
        .header(ACCEPT, BROWSER_ACCEPT)
        .header("x-csrf-token", root.csrf_token().await)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .send()
        .await
        .expect("the demo answers");
    Page::read(with_header).await.assert_see_other("/");
    assert!(site.demo.post(post).await.unwrap().is_none());

    // The API is not under the CSRF check: its clients send bearer tokens, not cookies.
    let token = site
        .demo
        .create_token("root", Duration::from_secs(3600))
        .await
        .expect("a token");
    let other_post = site.post_by("root").await;
    let removed = site
        .api(
            reqwest::Method::DELETE,
            &format!("/api/posts/{other_post}"),
            Some(&token),
            "application/json",
        )
        .await;
    assert_eq!(removed.status, StatusCode::OK, "{removed:?}");

    // Signing out too: root stays signed in.
    let refused = root.post_form("/logout", &[]).await;
    refused.assert_says(StatusCode::FORBIDDEN, "CSRF token is missing or invalid");
    assert!(refused.ticket_cookie().is_none(), "{refused:?}");
    root.get("/admin")
        .await
        .assert_says(StatusCode::OK, "Welcome to the admin side, root");
}

/// A release needs the release permission, and April or October.
async fn releasing_needs_the_permission_in_april_or_october(database: &TestDatabase) {
    let site = serve(database).await;
    site.user("releaser", &["release-team"]).await;
    site.user("visitor", &[]).await;
    let releaser = site.browser();
    releaser.sign_in("releaser").await;
    let page = releaser.get("/release").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.csrf();

    for month in 1..=12 {
        site.clock.set(month);
        let released = releaser.post_form("/release", &[("csrf", &csrf)]).await;
        if month == 4 || month == 10 {
            released.assert_says(StatusCode::OK, "The release was started by releaser.");
        } else {
            released.assert_says(
                StatusCode::FORBIDDEN,
                "At least one of the following predicates must be met: \
                 The current month must be 4, The current month must be 10",
            );
            assert!(!released.text().contains("started"), "month {month}");
        }
    }

    site.clock.set(4);
    let visitor = site.browser();
    visitor.sign_in("visitor").await;
    let csrf = visitor.get("/release").await.csrf();
    visitor
        .post_form("/release", &[("csrf", &csrf)])
        .await
        .assert_says(
            StatusCode::FORBIDDEN,
            "The user must have the \"release\" permission",
        );
}

/// Only a post's author, or a user with the manage permission, may edit it.
async fn only_the_author_or_a_manager_edits_a_post(database: &TestDatabase) {
    let site = serve(database).await;
    site.demo
        .set_password("editor", &password_of("editor"))
        .await
        .expect("editor's password is set");
    let editors = site.post_by("editor").await;
    let roots = site.post_by("root").await;
    let editor = site.browser();
    editor.sign_in("editor").await;

    // Their own post.
    let form = editor.get(&format!("/posts/{editors}/edit")).await;
    form.assert_says(StatusCode::OK, &format!("Edit post {editors}"));
    assert_eq!(
        form.input("title").as_deref(),
        Some("Notes from the editor")
    );
    editor
        .post_form(
            &format!("/posts/{editors}/edit"),
            &[
                ("csrf", &form.csrf()),
                ("title", "Edited by the editor"),
                ("body", "The author's own words & <more>."),
            ],
        )
        .await
        .assert_see_other(&format!("/posts/{editors}"));
    let shown = editor.get(&format!("/posts/{editors}")).await;
    shown.assert_says(StatusCode::OK, "Edited by the editor");
    shown.assert_says(StatusCode::OK, "The author's own words & <more>.");
    assert!(!shown.body.contains("<more>"), "the text is escaped");

    // root's post: neither the form nor the change.
    let expected = format!(
        "At least one of the following predicates must be met: Only the author of post {roots} \
         can edit it, The user must have the \"manage\" permission"
    );
    editor
        .get(&format!("/posts/{roots}/edit"))
        .await
        .assert_says(StatusCode::FORBIDDEN, &expected);
    editor
        .post_form(
            &format!("/posts/{roots}/edit"),
            &[
                ("csrf", &form.csrf()),
                ("title", "Hijacked"),
                ("body", "Not the editor's to change."),
            ],
        )
        .await
        .assert_says(StatusCode::FORBIDDEN, &expected);
    let untouched = site.demo.post(roots).await.unwrap().expect("root's post");
    assert_eq!(untouched.title, "Welcome");

    // root has the manage permission: both posts.
    let root = site.browser();
    root.sign_in("root").await;
    for id in [roots, editors] {
        let form = root.get(&format!("/posts/{id}/edit")).await;
        form.assert_says(StatusCode::OK, &format!("Edit post {id}"));
        root.post_form(
            &format!("/posts/{id}/edit"),
            &[
                ("csrf", &form.csrf()),
                ("title", &format!("Managed {id}")),
                ("body", "Edited by a manager."),
            ],
        )
        .await
        .assert_see_other(&format!("/posts/{id}"));
        root.get(&format!("/posts/{id}"))
            .await
            .assert_says(StatusCode::OK, &format!("Managed {id}"));
    }
    // The author is unchanged, so editor may still edit their post.
    editor
        .get(&format!("/posts/{editors}/edit"))
        .await
        .assert_says(StatusCode::OK, &format!("Managed {editors}"));
}

/// Only administrators remove posts.
async fn only_administrators_remove_posts(database: &TestDatabase) {
    let site = serve(database).await;
    site.user("visitor", &[]).await;
    let post = site.post_by("editor").await;
    let delete = format!("/posts/{post}/delete");

    let visitor = site.browser();
    visitor.sign_in("visitor").await;
    let csrf = visitor.get("/").await.csrf();
    visitor
        .post_form(&delete, &[("csrf", &csrf)])
        .await
        .assert_says(
            StatusCode::FORBIDDEN,
            "Only administrators can remove blog posts",
        );
    visitor
        .get(&format!("/posts/{post}"))
        .await
        .assert_says(StatusCode::OK, "Notes from the editor");

    let root = site.browser();
    root.sign_in("root").await;
    let csrf = root.get("/").await.csrf();
    root.post_form(&delete, &[("csrf", &csrf)])
        .await
        .assert_see_other("/");
    root.get(&format!("/posts/{post}"))
        .await
        .assert_says(StatusCode::NOT_FOUND, "No such post");
    let home = root.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        !home.text().contains("Notes from the editor"),
        "{}",
        home.body
    );
    assert!(home.text().contains("Welcome"), "{}", home.body);
}

/// The admin pages need manage_users, for every change; root creates users there.
async fn the_admin_pages_manage_users(database: &TestDatabase) {
    let site = serve(database).await;
    site.user("visitor", &[]).await;

    let visitor = site.browser();
    visitor.sign_in("visitor").await;
    visitor.get("/manage").await.assert_says(
        StatusCode::FORBIDDEN,
        "The user must have the \"manage_users\" permission",
    );
    let csrf = visitor.get("/").await.csrf();

    // Every change is guarded, against users without the permission and anonymous ones alike
    // (who can get a CSRF token for their own session as easily as anyone).
    let anonymous = site.browser();
    let anonymous_csrf = anonymous.csrf_token().await;
    let changes: [(&str, &[(&str, &str)]); 6] = [
        (
            "/manage/users",
            &[("name", "sneaky"), ("password", "sneaky-password")],
        ),
        ("/manage/users/delete", &[("name", "root")]),
        ("/manage/groups", &[("name", "sneakers")]),
        ("/manage/groups/delete", &[("name", "admin")]),
        (
            "/manage/members",
            &[("user", "visitor"), ("group", "admin"), ("action", "add")],
        ),
        (
            "/manage/grants",
            &[
                ("permission", "manage_users"),
                ("group", "writers"),
                ("action", "grant"),
            ],
        ),
    ];
    for (path, fields) in changes {
        let mut anonymous_fields = vec![("csrf", anonymous_csrf.as_str())];
        anonymous_fields.extend_from_slice(fields);
        anonymous
            .post_form(path, &anonymous_fields)
            .await
            .assert_see_other(&format!("/login?came_from={}", encode(path)));
        let mut visitor_fields = vec![("csrf", csrf.as_str())];
        visitor_fields.extend_from_slice(fields);
        visitor.post_form(path, &visitor_fields).await.assert_says(
            StatusCode::FORBIDDEN,
            "The user must have the \"manage_users\" permission",
        );
    }
    let store = &site.demo.store;
    let users = store.users().await.unwrap();
    assert!(users.iter().any(|user| user == "root"), "{users:?}");
    assert!(!users.iter().any(|user| user == "sneaky"), "{users:?}");
    let groups = store.groups().await.unwrap();
    assert!(groups.iter().any(|group| group == "admin"), "{groups:?}");
    assert!(
        !groups.iter().any(|group| group == "sneakers"),
        "{groups:?}"
    );
    assert_eq!(
        store.user_groups("visitor").await.unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        store.group_permissions("writers").await.unwrap(),
        Vec::<String>::new()
    );

    let root = site.browser();
    root.sign_in("root").await;
    let manage = root.get("/manage").await;
    manage.assert_says(StatusCode::OK, "<td>visitor</td>");
    assert!(!manage.text().contains("<td>newcomer</td>"));
    let csrf = manage.csrf();
    let create = [
        ("csrf", csrf.as_str()),
        ("name", "newcomer"),
        ("password", "newcomer-password"),
    ];
    root.post_form("/manage/users", &create)
        .await
        .assert_see_other("/manage");
    root.get("/manage")
        .await
        .assert_says(StatusCode::OK, "<td>newcomer</td>");
    site.browser().sign_in("newcomer").await;

    root.post_form("/manage/users", &create).await.assert_says(
        StatusCode::UNPROCESSABLE_ENTITY,
        "a user named \"newcomer\" already exists",
    );

    let refused = root
        .post_form(
            "/manage/users",
            &[("name", "intruder"), ("password", "intruder-password")],
        )
        .await;
    refused.assert_says(StatusCode::FORBIDDEN, "CSRF token is missing or invalid");
    assert!(!site.demo.store.user_exists("intruder").await.unwrap());
    assert!(
        !root.get("/manage").await.text().contains("intruder"),
        "nothing was created"
    );
}

/// The removal rule's two branches, each alone: `has_permission("manage")` for a user who is
/// not root, and `is_user("root")` for a root without the permission.
async fn either_branch_of_the_removal_rule_lets_a_user_remove(database: &TestDatabase) {
    let site = serve(database).await;
    let store = &site.demo.store;
    store.create_group("moderators").await.unwrap();
    store
        .grant_permission("manage", "moderators")
        .await
        .unwrap();
    site.user("moderator", &["moderators"]).await;

    // A manager who is not root.
    let post = site.post_by("editor").await;
    let moderator = site.browser();
    moderator.sign_in("moderator").await;
    let csrf = moderator.get("/").await.csrf();
    moderator
        .post_form(&format!("/posts/{post}/delete"), &[("csrf", &csrf)])
        .await
        .assert_see_other("/");
    assert!(site.demo.post(post).await.unwrap().is_none());

    // root, out of the admin group: no permission at all, allowed by name alone.
    store.remove_user_from_group("root", "admin").await.unwrap();
    assert_eq!(
        store.user_groups("root").await.unwrap(),
        Vec::<String>::new()
    );
    let post = site.post_by("root").await;
    let root = site.browser();
    root.sign_in("root").await;
    // Without the group, the admin side is closed to root: the permissions are really gone.
    root.get("/admin").await.assert_says(
        StatusCode::FORBIDDEN,
        "The current user must belong to the group \"admin\"",
    );
    let csrf = root.get("/").await.csrf();
    root.post_form(&format!("/posts/{post}/delete"), &[("csrf", &csrf)])
        .await
        .assert_see_other("/");
    assert!(site.demo.post(post).await.unwrap().is_none());
}

/// root manages groups, memberships and grants from /manage, and sees the result there; the
/// new member then has what the grant gives.
async fn the_admin_pages_change_groups_members_and_grants(database: &TestDatabase) {
    let site = serve(database).await;
    site.user("visitor", &[]).await;
    let store = &site.demo.store;
    let root = site.browser();
    root.sign_in("root").await;
    let csrf = root.get("/manage").await.csrf();
    let change = |path: &'static str, fields: Vec<(&'static str, &'static str)>| {
        let csrf = csrf.clone();
        let root = &root;
        async move {
            let mut form = vec![("csrf", csrf.as_str())];
            form.extend(fields);
            root.post_form(path, &form).await
        }
    };

    change("/manage/groups", vec![("name", "reviewers")])
        .await
        .assert_see_other("/manage");
    change(
        "/manage/members",
        vec![
            ("user", "visitor"),
            ("group", "reviewers"),
            ("action", "add"),
        ],
    )
    .await
    .assert_see_other("/manage");
    change(
        "/manage/grants",
        vec![
            ("permission", "manage_users"),
            ("group", "reviewers"),
            ("action", "grant"),
        ],
    )
    .await
    .assert_see_other("/manage");
    change(
        "/manage/grants",
        vec![
            ("permission", "review"),
            ("group", "reviewers"),
            ("action", "grant"),
        ],
    )
    .await
    .assert_see_other("/manage");

    let page = root.get("/manage").await;
    page.assert_says(
        StatusCode::OK,
        "<tr><td>reviewers</td><td>visitor</td><td>manage_users, review</td>",
    );
    page.assert_says(StatusCode::OK, "<tr><td>visitor</td><td>reviewers</td>");
    assert_eq!(store.user_groups("visitor").await.unwrap(), ["reviewers"]);
    assert_eq!(
        store.group_permissions("reviewers").await.unwrap(),
        ["manage_users", "review"]
    );
    // The grant works: visitor may now open /manage.
    let visitor = site.browser();
    visitor.sign_in("visitor").await;
    visitor
        .get("/manage")
        .await
        .assert_says(StatusCode::OK, "Users and groups");

    // Mistakes are reported on the page, and change nothing.
    change(
        "/manage/members",
        vec![
            ("user", "root"),
            ("group", "reviewers"),
            ("action", "remove"),
        ],
    )
    .await
    .assert_says(
        StatusCode::UNPROCESSABLE_ENTITY,
        "\"root\" is not a member of \"reviewers\"",
    );
    change(
        "/manage/grants",
        vec![
            ("permission", "publish"),
            ("group", "nogroup"),
            ("action", "grant"),
        ],
    )
    .await
    .assert_says(
        StatusCode::UNPROCESSABLE_ENTITY,
        "there is no group named \"nogroup\"",
    );
    assert!(
        !store
            .permissions()
            .await
            .unwrap()
            .iter()
            .any(|p| p == "publish")
    );

    // Revoke, remove the member, delete the group.
    change(
        "/manage/grants",
        vec![
            ("permission", "manage_users"),
            ("group", "reviewers"),
            ("action", "revoke"),
        ],
    )
    .await
    .assert_see_other("/manage");
    visitor.get("/manage").await.assert_says(
        StatusCode::FORBIDDEN,
        "The user must have the \"manage_users\" permission",
    );
    change(
        "/manage/members",
        vec![
            ("user", "visitor"),
            ("group", "reviewers"),
            ("action", "remove"),
        ],
    )
    .await
    .assert_see_other("/manage");
    assert_eq!(
        store.user_groups("visitor").await.unwrap(),
        Vec::<String>::new()
    );
    change("/manage/groups/delete", vec![("name", "reviewers")])
        .await
        .assert_see_other("/manage");
    let page = root.get("/manage").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.text().contains("reviewers"), "{}", page.body);
    assert!(
        !store
            .groups()
            .await
            .unwrap()
            .iter()
            .any(|g| g == "reviewers")
    );
}

/// An empty password is refused before the user is created: nothing is left behind.
async fn a_user_with_an_empty_password_is_not_created_from_the_admin_page(database: &TestDatabase) {
    let site = serve(database).await;
    let root = site.browser();
    root.sign_in("root").await;
    let csrf = root.get("/manage").await.csrf();
    root.post_form(
        "/manage/users",
        &[("csrf", &csrf), ("name", "nopass"), ("password", "")],
    )
    .await
    .assert_says(StatusCode::UNPROCESSABLE_ENTITY, "the password is empty");
    assert!(!site.demo.store.user_exists("nopass").await.unwrap());
    assert!(
        !root.get("/manage").await.text().contains("nopass"),
        "no user row"
    );
}

/// Every page with the sign-out form carries the token it needs: the demo's 403 page and the
/// message pages (404, the CSRF refusal, "Released") sign the user out.
async fn signing_out_works_from_the_403_page_and_message_pages(database: &TestDatabase) {
    let site = serve(database).await;
    site.user("visitor", &[]).await;
    site.user("releaser", &["release-team"]).await;

    /// Submits the sign-out form of `page` and checks that `browser` is signed out.
    async fn sign_out_from(browser: &Browser, page: &Page) {
        assert!(page.body.contains("action=\"/logout\""), "{}", page.body);
        let signed_out = browser
            .post_form("/logout", &[("csrf", &page.csrf())])
            .await;
        signed_out.assert_see_other("/");
        let cleared = signed_out.ticket_cookie().expect("the ticket is cleared");
        assert_eq!(cookie_pair(cleared), "authz_ticket=", "{cleared}");
        let home = browser.get("/").await;
        assert!(!home.text().contains("Signed in as"), "{}", home.body);
        browser
            .get("/admin")
            .await
            .assert_see_other("/login?came_from=%2Fadmin");
    }

    // The 403 page of /admin.
    let browser = site.browser();
    browser.sign_in("visitor").await;
    let forbidden = browser.get("/admin").await;
    forbidden.assert_says(
        StatusCode::FORBIDDEN,
        "Signed in as <strong>visitor</strong>",
    );
    sign_out_from(&browser, &forbidden).await;

    // A message page: 404.
    browser.sign_in("visitor").await;
    let missing = browser.get("/posts/999999").await;
    missing.assert_says(StatusCode::NOT_FOUND, "No such post");
    missing.assert_says(
        StatusCode::NOT_FOUND,
        "Signed in as <strong>visitor</strong>",
    );
    sign_out_from(&browser, &missing).await;

    // The CSRF refusal page.
    browser.sign_in("visitor").await;
    let refused = browser.post_form("/logout", &[]).await;
    refused.assert_says(StatusCode::FORBIDDEN, "CSRF token is missing or invalid");
    sign_out_from(&browser, &refused).await;

    // "Released".
    let releaser = site.browser();
    releaser.sign_in("releaser").await;
    let csrf = releaser.get("/release").await.csrf();
    let released = releaser.post_form("/release", &[("csrf", &csrf)]).await;
    released.assert_says(StatusCode::OK, "The release was started by releaser.");
    sign_out_from(&releaser, &released).await;

    // A browser whose CSRF cookie is gone (a session cookie, dropped when the browser
    // closed) while its ticket lasts: the 403 page comes with a new token and its cookie.
    let browser = site.browser();
    browser.sign_in("visitor").await;
    let ticket = site.ticket("visitor").await;
    let fresh = Browser::new(&site.base);
    let forbidden = fresh.get_with_cookie("/admin", &ticket).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let new_cookie = forbidden
        .set_cookies
        .iter()
        .find(|cookie| cookie.starts_with("demo_csrf="))
        .expect("a new CSRF cookie");
    // Its sign-out form works with that cookie.
    let signed_out = post_with_cookie(
        &site.base,
        "/logout",
        &format!("{}; {ticket}", cookie_pair(new_cookie)),
        &[("csrf", &forbidden.csrf())],
    )
    .await;
    signed_out.assert_see_other("/");
}

/// The ticket is always `HttpOnly` and `SameSite=Lax`; both cookies are `Secure` when, and
/// only when, the demo is set to.
async fn cookies_are_secure_only_when_the_demo_is_set_to(database: &TestDatabase) {
    for secure in [false, true] {
        let site = serve_with(database, secure).await;
        // By hand: a cookie store would rightly keep `Secure` cookies from plain HTTP.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let login = Page::read(
            client
                .get(format!("{}/login", site.base))
                .header(ACCEPT, BROWSER_ACCEPT)
                .send()
                .await
                .unwrap(),
        )
        .await;
        // `Secure` cookies are `__Host-` cookies, which no other site or plain-HTTP page can set.
        let (csrf_name, ticket_name) = if secure {
            ("__Host-demo_csrf=", "__Host-authz_ticket=")
        } else {
            ("demo_csrf=", "authz_ticket=")
        };
        let csrf_cookie = login
            .set_cookies
            .iter()
            .find(|cookie| cookie.starts_with(csrf_name))
            .expect("the CSRF cookie")
            .clone();
        assert_eq!(csrf_cookie.contains("; Secure"), secure, "{csrf_cookie}");
        assert!(csrf_cookie.contains("; Path=/"), "{csrf_cookie}");
        assert!(csrf_cookie.contains("; HttpOnly"), "{csrf_cookie}");
        assert!(csrf_cookie.contains("; SameSite=Strict"), "{csrf_cookie}");

        let signed_in = Page::read(
            client
                .post(format!("{}/login", site.base))
                .header(ACCEPT, BROWSER_ACCEPT)
                .header(COOKIE, cookie_pair(&csrf_cookie))
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(form_encode(&[
                    ("csrf", &login.csrf()),
                    ("came_from", "/admin"),
                    ("user", "root"),
                    ("password", ROOT_PASSWORD),
                ]))
                .send()
                .await
                .unwrap(),
        )
        .await;
        signed_in.assert_see_other("/admin");
        let ticket = signed_in.ticket_cookie().expect("a ticket").to_owned();
        assert!(ticket.starts_with(ticket_name), "{ticket}");
        assert!(ticket.contains("; HttpOnly"), "{ticket}");
        assert!(ticket.contains("; SameSite=Lax"), "{ticket}");
        assert_eq!(ticket.contains("; Secure"), secure, "{ticket}");
        // Signing in renews the CSRF cookie, as `Secure` as the first.
        let csrf_cookie = signed_in
            .set_cookies
            .iter()
            .find(|cookie| cookie.starts_with(csrf_name))
            .expect("a new CSRF cookie at sign-in")
            .clone();
        assert_eq!(csrf_cookie.contains("; Secure"), secure, "{csrf_cookie}");
        let cookies = format!("{}; {}", cookie_pair(&csrf_cookie), cookie_pair(&ticket));
        let home = Page::read(
            client
                .get(format!("{}/", site.base))
                .header(ACCEPT, BROWSER_ACCEPT)
                .header(COOKIE, &cookies)
                .send()
                .await
                .unwrap(),
        )
        .await;

        let signed_out = Page::read(
            client
                .post(format!("{}/logout", site.base))
                .header(ACCEPT, BROWSER_ACCEPT)
                .header(COOKIE, &cookies)
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(form_encode(&[("csrf", &home.csrf())]))
                .send()
                .await
                .unwrap(),
        )
        .await;
        signed_out.assert_see_other("/");
        let cleared = signed_out.ticket_cookie().expect("the ticket is cleared");
        assert!(cleared.contains("; HttpOnly"), "{cleared}");
        assert!(cleared.contains("; SameSite=Lax"), "{cleared}");
        assert_eq!(cleared.contains("; Secure"), secure, "{cleared}");
    }
}

/// A failed sign-in while signed in leaves the user signed in, and the page's header says so.
async fn a_failed_sign_in_still_shows_who_is_signed_in(database: &TestDatabase) {
    let site = serve(database).await;
    site.user("visitor", &[]).await;
    let browser = site.browser();
    browser.sign_in("visitor").await;
    let failed = browser
        .sign_in_from("root", "not-the-password", "/admin")
        .await;
    failed.assert_says(
        StatusCode::UNAUTHORIZED,
        "Unknown user name or wrong password",
    );
    failed.assert_says(
        StatusCode::UNAUTHORIZED,
        "Signed in as <strong>visitor</strong>",
    );
    assert!(failed.ticket_cookie().is_none(), "{failed:?}");
    // The header's sign-out form works from there too.
    let signed_out = browser
        .post_form("/logout", &[("csrf", &failed.csrf())])
        .await;
    signed_out.assert_see_other("/");
}

/// The header and the post pages link only to what the visitor may do, asked of the handlers'
/// own rules with `Authz::is_met`: a link that is shown leads to a page that lets them in.
async fn pages_show_only_the_actions_the_visitor_may_take(database: &TestDatabase) {
    let site = serve(database).await;
    site.user("visitor", &[]).await;
    site.user("releaser", &["release-team"]).await;
    site.demo
        .set_password("editor", &password_of("editor"))
        .await
        .expect("editor's password is set");
    let own = site.post_by("editor").await;
    let other = site.post_by("root").await;
    let edit = |post: i64| format!(r#"href="/posts/{post}/edit""#);
    let remove = |post: i64| format!(r#"action="/posts/{post}/delete""#);
    let header = [
        r#"href="/release""#,
        r#"href="/admin""#,
        r#"href="/manage""#,
    ];

    // Who, the header's links shown (Release, Admin, Users & groups), the posts whose Edit is
    // shown, whether Remove is.
    type Case<'a> = (Option<&'a str>, [bool; 3], &'a [i64], bool);
    let cases: [Case; 5] = [
        (None, [false, false, false], &[], false),
        (Some("visitor"), [false, false, false], &[], false),
        (Some("releaser"), [true, false, false], &[], false),
        (Some("editor"), [false, false, false], &[own], false),
        (Some("root"), [true, true, true], &[own, other], true),
    ];
    for (who, links, editable, removable) in cases {
        let browser = site.browser();
        if let Some(user) = who {
            browser.sign_in(user).await;
        }
        let home = browser.get("/").await;
        assert_eq!(home.status, StatusCode::OK, "{who:?}");
        for (link, shown) in header.iter().zip(links) {
            assert_eq!(home.body.contains(link), shown, "{link} for {who:?}");
        }
        for post in [own, other] {
            let may_edit = editable.contains(&post);
            assert_eq!(
                home.body.contains(&edit(post)),
                may_edit,
                "edit {post} for {who:?}"
            );
            assert_eq!(
                home.body.contains(&remove(post)),
                removable,
                "remove {post} for {who:?}"
            );
            let page = browser.get(&format!("/posts/{post}")).await;
            assert_eq!(page.status, StatusCode::OK, "{who:?}");
            assert_eq!(
                page.body.contains(&edit(post)),
                may_edit,
                "post {post} for {who:?}"
            );
            // What is shown lets them in; what is hidden would not.
            let form = browser.get(&format!("/posts/{post}/edit")).await;
            assert_eq!(
                form.status == StatusCode::OK,
                may_edit,
                "{post} for {who:?}"
            );
        }
        for (path, shown) in ["/admin", "/manage"].into_iter().zip([links[1], links[2]]) {
            let page = browser.get(path).await;
            assert_eq!(page.status == StatusCode::OK, shown, "{path} for {who:?}");
        }
    }
}

/// Five attempts per name, then `429` with `Retry-After`, the right password included; an
/// unknown name is counted and answered exactly as a known one, so throttling tells nothing
/// about which names exist; other names are not held up.
async fn sign_ins_are_throttled_per_name_known_or_not(database: &TestDatabase) {
    let site = serve(database).await;
    site.user("alice", &[]).await;
    let browser = site.browser();
    for name in ["alice", "nobody-at-all"] {
        for attempt in 0..5 {
            let page = browser.sign_in_from(name, "wrong", "/").await;
            assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{name}, {attempt}");
        }
    }
    let known = browser.sign_in_from("alice", "wrong", "/").await;
    let unknown = browser.sign_in_from("nobody-at-all", "wrong", "/").await;
    for page in [&known, &unknown] {
        page.assert_says(StatusCode::TOO_MANY_REQUESTS, "Too many sign-in attempts");
        let seconds: u64 = page.retry_after.as_deref().unwrap().parse().unwrap();
        assert!((1..=30).contains(&seconds), "{seconds}");
        assert!(page.ticket_cookie().is_none());
    }
    let without_name = |page: &Page, name: &str| {
        page.body
            .replace(&format!("value=\"{name}\""), "value=\"\"")
            .replace(page.retry_after.as_deref().unwrap(), "N")
    };
    assert_eq!(
        without_name(&known, "alice"),
        without_name(&unknown, "nobody-at-all")
    );
    // The right password too: the attempts are counted before it is looked at.
    let right = browser
        .sign_in_from("alice", &password_of("alice"), "/")
        .await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(right.ticket_cookie().is_none());
    // Someone else signs in as usual.
    browser.sign_in("root").await;
}

/// Many names from one address: past the address's allowance, every name is refused.
async fn sign_ins_are_throttled_per_client_address(database: &TestDatabase) {
    let site = serve_configured(database, |settings| {
        settings
            .with_sign_in_throttle(SignInThrottle::new().per_address(4, Duration::from_secs(3600)))
    })
    .await;
    let browser = site.browser();
    for n in 0..4 {
        let page = browser
            .sign_in_from(&format!("guess{n}"), "wrong", "/")
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    }
    let page = browser.sign_in_from("root", ROOT_PASSWORD, "/").await;
    page.assert_says(StatusCode::TOO_MANY_REQUESTS, "Too many sign-in attempts");
    assert!(page.retry_after.is_some());
    assert!(page.ticket_cookie().is_none());
}

/// With room for one Argon2 check at a time and no wait, concurrent sign-ins beyond it are
/// refused with `503` and `Retry-After` rather than queued without bound; none fails
/// otherwise, and once they are done, signing in works.
async fn password_checks_beyond_the_bound_are_refused_with_retry_after(database: &TestDatabase) {
    let site = serve_configured(database, |settings| {
        settings.with_password_checks(
            PasswordChecks::new()
                .with_limit(1)
                .with_wait(Duration::from_millis(1)),
        )
    })
    .await;
    // Eight browsers, each with its form, sign in at the same moment.
    let crowd = std::sync::Arc::new(tokio::sync::Barrier::new(8));
    let mut attempts = tokio::task::JoinSet::new();
    for n in 0..8 {
        let (crowd, base) = (crowd.clone(), site.base.clone());
        attempts.spawn(async move {
            let browser = Browser::new(&base);
            let csrf = browser.csrf_token().await;
            let name = format!("crowd{n}");
            let form = [
                ("csrf", &*csrf),
                ("came_from", "/"),
                ("user", &name),
                ("password", "x"),
            ];
            crowd.wait().await;
            browser.post_form("/login", &form).await
        });
    }
    let pages = attempts.join_all().await;
    let statuses: Vec<StatusCode> = pages.iter().map(|page| page.status).collect();
    assert!(
        statuses.iter().all(
            |status| [StatusCode::UNAUTHORIZED, StatusCode::SERVICE_UNAVAILABLE].contains(status)
        ),
        "{statuses:?}"
    );
    assert!(statuses.contains(&StatusCode::UNAUTHORIZED), "{statuses:?}");
    let refused: Vec<&Page> = pages
        .iter()
        .filter(|page| page.status == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert!(
        !refused.is_empty(),
        "eight at once, room for one: {statuses:?}"
    );
    for page in refused {
        page.assert_says(StatusCode::SERVICE_UNAVAILABLE, "Too many sign-ins at once");
        assert_eq!(page.retry_after.as_deref(), Some("1"));
    }
    site.browser().sign_in("root").await;
}

/// The `name=value` of the `Set-Cookie` in `page` whose name is `name`.
fn set_cookie_named(page: &Page, name: &str) -> String {
    page.set_cookies
        .iter()
        .map(|cookie| cookie_pair(cookie))
        .find(|pair| pair.split_once('=').is_some_and(|(n, _)| n == name))
        .unwrap_or_else(|| panic!("{page:?} sets no {name}"))
        .to_owned()
}

/// A form posted with exactly `cookie` as the `Cookie` header.
async fn post_with_cookie(base: &str, path: &str, cookie: &str, fields: &[(&str, &str)]) -> Page {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .post(format!("{base}{path}"))
        .header(ACCEPT, BROWSER_ACCEPT)
        .header(COOKIE, cookie)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form_encode(fields))
        .send()
        .await
        .expect("the demo answers");
    Page::read(response).await
}

/// An attacker who can plant cookies (a sibling subdomain) plants their own genuine CSRF
/// cookie, and posts their own genuine token, beside the victim's ticket: the token was made
/// for the attacker's session, not the victim's, and is refused. The victim's own token
/// passes.
async fn a_planted_csrf_cookie_and_token_are_refused_beside_the_victims_ticket(
    database: &TestDatabase,
) {
    let site = serve(database).await;
    let post = site.post_by("editor").await;
    let delete = format!("/posts/{post}/delete");

    let attacker = site.browser().get("/login").await;
    let attackers_cookie = set_cookie_named(&attacker, "demo_csrf");
    let attackers_token = attacker.csrf();

    let victim = site.browser();
    victim.sign_in("root").await;
    let victims_page = victim.get("/").await;
    let victims_token = victims_page.csrf();
    let signed_in = victim.sign_in_from("root", ROOT_PASSWORD, "/").await;
    let ticket = cookie_pair(signed_in.ticket_cookie().unwrap()).to_owned();

    let forged = post_with_cookie(
        &site.base,
        &delete,
        &format!("{attackers_cookie}; {ticket}"),
        &[("csrf", &attackers_token)],
    )
    .await;
    forged.assert_says(StatusCode::FORBIDDEN, "CSRF token is missing or invalid");
    assert!(site.demo.post(post).await.unwrap().is_some(), "not removed");
    // Nor does the victim's token go with the attacker's cookie.
    let mixed = post_with_cookie(
        &site.base,
        &delete,
        &format!("{attackers_cookie}; {ticket}"),
        &[("csrf", &victims_token)],
    )
    .await;
    mixed.assert_says(StatusCode::FORBIDDEN, "CSRF token is missing or invalid");
    assert!(site.demo.post(post).await.unwrap().is_some(), "not removed");

    // The victim's own form works.
    let form = victim.get(&format!("/posts/{post}")).await;
    let removed = victim.post_form(&delete, &[("csrf", &form.csrf())]).await;
    removed.assert_see_other("/");
    assert!(site.demo.post(post).await.unwrap().is_none());
}

/// Signing in sets a new CSRF cookie, and the forms' token changes with the session: a token
/// seen before signing in (by whoever watched the anonymous page) is refused afterwards, and
/// one of the signed-in session is refused once signed out.
async fn signing_in_and_out_renews_the_csrf_token(database: &TestDatabase) {
    let site = serve(database).await;
    let browser = site.browser();
    let before = browser.csrf_token().await;
    let signed_in = browser.sign_in_from("root", ROOT_PASSWORD, "/").await;
    signed_in.assert_see_other("/");
    assert!(
        signed_in
            .set_cookies
            .iter()
            .any(|c| c.starts_with("demo_csrf=")),
        "a new CSRF cookie at sign-in: {signed_in:?}"
    );
    let during = browser.csrf_token().await;
    assert_ne!(before, during);
    let post = site.post_by("editor").await;
    let edit = format!("/posts/{post}/edit");
    let stale = browser
        .post_form(&edit, &[("csrf", &before), ("title", "T"), ("body", "B")])
        .await;
    stale.assert_says(StatusCode::FORBIDDEN, "CSRF token is missing or invalid");

    let signed_out = browser.post_form("/logout", &[("csrf", &during)]).await;
    signed_out.assert_see_other("/");
    assert!(
        signed_out
            .set_cookies
            .iter()
            .any(|c| c.starts_with("demo_csrf=")),
        "a new CSRF cookie at sign-out: {signed_out:?}"
    );
    let after = browser.csrf_token().await;
    assert_ne!(after, during);
    let stale = browser
        .post_form(
            "/login",
            &[
                ("csrf", &during),
                ("user", "root"),
                ("password", ROOT_PASSWORD),
            ],
        )
        .await;
    stale.assert_says(StatusCode::FORBIDDEN, "CSRF token is missing or invalid");
}

/// A request with two ticket cookies is anonymous, even when both are genuine: a planted
/// second ticket never decides who the user is.
async fn two_ticket_cookies_are_anonymous(database: &TestDatabase) {
    let site = serve(database).await;
    site.user("mallory", &[]).await;
    let root = site.ticket("root").await;
    let mallory = site.ticket("mallory").await;
    let browser = site.browser();
    browser
        .get_with_cookie("/admin", &root)
        .await
        .assert_says(StatusCode::OK, "Welcome to the admin side, root");
    for cookies in [format!("{mallory}; {root}"), format!("{root}; {mallory}")] {
        browser
            .get_with_cookie("/admin", &cookies)
            .await
            .assert_see_other("/login?came_from=%2Fadmin");
    }
}
