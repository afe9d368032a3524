//! Credentials recognised in text, to be masked before the text is written anywhere. A server
//! can echo the `Authorization` header in an error message; a person can paste a token into a
//! field. What is masked: a bearer token, a JSON Web Token, a SAS signature, a client secret
//! given as a parameter, and an Entra ID client secret by its shape.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// What stands in for a masked credential.
pub const MASK: &str = "[redacted]";

/// The credential shapes: what each is called, and what replaces it (the label before the
/// secret is kept, so the text still says what was there).
static SHAPES: LazyLock<Vec<(&'static str, Regex, &'static str)>> = LazyLock::new(|| {
    [
        // `Bearer <token>`, as an Authorization header carries it.
        (
            "bearer token",
            r"(?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]{8,}=*",
            "${1}[redacted]",
        ),
        // A JSON Web Token: three base64url parts, the first a JSON header (`{"` is `eyJ`).
        (
            "JSON Web Token",
            r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
            "[redacted]",
        ),
        // A SAS token's signature.
        (
            "SAS signature",
            r"(?i)\b(sig=)[A-Za-z0-9%+/=]{8,}",
            "${1}[redacted]",
        ),
        // A client secret or password passed as a parameter.
        (
            "client secret",
            r#"(?i)\b((?:client_secret|clientsecret|password|pwd)\s*[=:]\s*"?)[^&\s",;\[]+"#,
            "${1}[redacted]",
        ),
        // An Entra ID client secret: three characters, a digit, `Q~`, then 31 to 34 more.
        (
            "Entra ID client secret",
            r"\b[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}",
            "[redacted]",
        ),
    ]
    .into_iter()
    .map(|(kind, pattern, with)| (kind, Regex::new(pattern).expect("a valid pattern"), with))
    .collect()
});

/// `text` with every credential it holds masked: the `known` secrets (the token in use) word
/// for word, and anything of a credential's shape.
pub fn redact<'a>(text: &'a str, known: &[&str]) -> Cow<'a, str> {
    let mut out = Cow::Borrowed(text);
    for secret in known.iter().filter(|s| s.len() >= 8) {
        if out.contains(secret) {
            out = Cow::Owned(out.replace(secret, MASK));
        }
    }
    for (_, shape, with) in SHAPES.iter() {
        if shape.is_match(&out) {
            out = Cow::Owned(shape.replace_all(&out, *with).into_owned());
        }
    }
    out
}

/// The kinds of credential `text` holds, or a masked one when it holds one masked already (by
/// [`redact`], before `--no-redact` was asked for or by another run); empty when none.
pub fn kinds(text: &str) -> Vec<&'static str> {
    let mut found: Vec<&'static str> = SHAPES
        .iter()
        .filter(|(_, shape, _)| shape.is_match(text))
        .map(|(kind, _, _)| *kind)
        .collect();
    if found.is_empty() && text.contains(MASK) {
        found.push("masked credential");
    }
    found
}

#[cfg(test)]
mod tests {
    use super::{kinds, redact};

    #[test]
    fn tokens_signatures_and_secrets_are_masked() {
        let jwt =
            "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQifQ.c2ln";
        assert_eq!(
            redact(&format!("headers were Authorization: Bearer {jwt}"), &[]),
            "headers were Authorization: Bearer [redacted]"
        );
        assert_eq!(
            redact(&format!("token {jwt} echoed"), &[]),
            "token [redacted] echoed"
        );
        assert_eq!(
            redact(
                "https://a.blob.core.windows.net/c?sv=2022-11-02&sig=abc%2Bdef%3D&se=x",
                &[]
            ),
            "https://a.blob.core.windows.net/c?sv=2022-11-02&sig=[redacted]&se=x"
        );
        assert_eq!(
            redact("client_secret=s3cr3t-value&scope=x", &[]),
            "client_secret=[redacted]&scope=x"
        );
        assert_eq!(
            redact(
                "secret abc8Q~0123456789abcdefghijklmnopqrstu in a note",
                &[]
            ),
            "secret [redacted] in a note"
        );
        assert_eq!(
            redact(
                "the value opaque-token-1234 came back",
                &["opaque-token-1234"]
            ),
            "the value [redacted] came back"
        );
        // Ordinary text is left alone.
        let plain = "HTTP 400 BadRequest: The subscription 1111 is not registered (sig missing)";
        assert_eq!(redact(plain, &[]), plain);
        assert!(kinds(plain).is_empty());
        let innocent = "CHG1234 bearer of bad news, password reset, sig=ok";
        assert_eq!(redact(innocent, &[]), innocent);
        assert!(kinds(innocent).is_empty());
        assert_eq!(kinds(&format!("token {jwt}")), ["JSON Web Token"]);
        assert_eq!(kinds("it was Bearer [redacted]"), ["masked credential"]);
    }
}
