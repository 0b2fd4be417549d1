//! Where to send a user back after signing in: only ever a path on this site.

use percent_encoding::percent_decode_str;

use crate::denial::MAX_CAME_FROM_LEN;

/// `came_from` if it is a same-origin relative path of at most 2,048 bytes, else `/`.
///
/// TurboGears sends users back to whatever `came_from` says, which makes its login page an
/// open redirect. Here anything a browser could read as another origin or a script falls back
/// to `/`: absolute URLs, scheme-relative `//host`, `/\host` (browsers treat `\` as `/`),
/// `javascript:` in any case, control characters and whitespace (browsers drop tabs and
/// newlines from URLs), and all of these percent-encoded, once or several times. So does a
/// `came_from` longer than 2,048 bytes, which no page of the site needs.
///
/// ```
/// use authz_runtime::signin::safe_came_from;
///
/// assert_eq!(safe_came_from("/admin?tab=users"), "/admin?tab=users");
/// assert_eq!(safe_came_from("https://evil.example/"), "/");
/// assert_eq!(safe_came_from("//evil.example"), "/");
/// assert_eq!(safe_came_from("/%2F%2Fevil.example"), "/");
/// assert_eq!(safe_came_from("JaVaScRiPt:alert(1)"), "/");
/// assert_eq!(safe_came_from(&format!("/{}", "a".repeat(100_000))), "/");
/// ```
pub fn safe_came_from(came_from: &str) -> &str {
    if is_safe(came_from) { came_from } else { "/" }
}

fn is_safe(came_from: &str) -> bool {
    // First, and on the bytes as sent: nothing below then works on more than the bound.
    if came_from.len() > MAX_CAME_FROM_LEN {
        return false;
    }
    // Decode until stable (at most a few rounds): `%252F` is `%2F` is `/`.
    // As sent, no whitespace at all: browsers drop tabs and newlines, so `/\t/host` is `//host`.
    if came_from.chars().any(char::is_whitespace) {
        return false;
    }
    let mut decoded = came_from.to_owned();
    for _ in 0..4 {
        if !is_safe_once(&decoded) {
            return false;
        }
        let next = percent_decode_str(&decoded)
            .decode_utf8_lossy()
            .into_owned();
        if next == decoded {
            return true;
        }
        decoded = next;
    }
    false
}

fn is_safe_once(path: &str) -> bool {
    let mut chars = path.chars();
    if chars.next() != Some('/') {
        return false;
    }
    if matches!(chars.next(), Some('/' | '\\')) {
        return false;
    }
    !path.chars().any(|c| c == '\\' || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::{MAX_CAME_FROM_LEN, safe_came_from};

    #[test]
    fn keeps_local_paths() {
        for path in ["/", "/admin", "/posts/1/edit?x=1&y=%20", "/a:b", "/%7Euser"] {
            assert_eq!(safe_came_from(path), path);
        }
    }

    #[test]
    fn refuses_everything_that_leaves_the_site() {
        for payload in [
            "",
            "admin",
            "http://evil.example",
            "https://evil.example/",
            "HTTPS://EVIL.EXAMPLE",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            " //evil.example",
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "data:text/html,hi",
            "%2F%2Fevil.example",
            "/%2F/evil.example",
            "/%2f%2fevil.example",
            "/%5Cevil.example",
            "/%5cevil.example",
            "%252F%252Fevil.example",
            "/%252F/evil.example",
            "/%09/evil.example",
            "/%0d%0aSet-Cookie:x=y",
        ] {
            assert_eq!(safe_came_from(payload), "/", "{payload:?}");
        }
    }

    #[test]
    fn refuses_paths_longer_than_the_bound() {
        let longest = format!("/{}", "a".repeat(MAX_CAME_FROM_LEN - 1));
        assert_eq!(safe_came_from(&longest), longest);
        let too_long = format!("{longest}a");
        assert_eq!(safe_came_from(&too_long), "/");
        let huge = format!("/admin?q={}", "x".repeat(100_000));
        assert_eq!(safe_came_from(&huge), "/");
    }
}
