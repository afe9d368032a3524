//! Talking to an Azure REST endpoint (Resource Manager, the Log Analytics query API, a Data
//! Explorer cluster): one reqwest client, a bearer token for that endpoint's scope kept fresh,
//! and retries that follow what the service asks for (429 with `Retry-After`) and back off
//! from what it cannot help (5xx, resets, timeouts), bounded in attempts and in total time.
//! 401 and 403 are never retried. The token is only ever put into a header marked sensitive;
//! no message here carries it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::headers::{HeaderName, HeaderValue, Headers};
use azure_core::http::{AsyncRawResponse, Body, HttpClient, Request};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::{Mutex, Semaphore};

use crate::secrets::redact;

/// How hard to try one request.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// No retry starts once this much time has passed since the first attempt.
    pub budget: Duration,
    /// The first back-off; each retry doubles it, up to `max_delay`, with jitter.
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1-based): exponential, capped, with "equal jitter"
    /// (half fixed, half random) so that parallel clients do not retry in step.
    pub fn backoff(&self, retry: u32, random: u64) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << (retry.saturating_sub(1)).min(16));
        let cap = exp.min(self.max_delay);
        let half = cap / 2;
        let spread = half.as_millis() as u64;
        half + Duration::from_millis(if spread == 0 { 0 } else { random % spread })
    }
}

/// Why a request did not give a page.
#[derive(Debug, Clone)]
pub enum FetchError {
    /// 401 or 403: the identity may not read this; retrying cannot help.
    Denied {
        status: u16,
        code: String,
        message: String,
    },
    /// Any other 4xx, or a body that is not the JSON ARM promised.
    Rejected {
        status: u16,
        code: String,
        message: String,
    },
    /// Retries ran out (attempts or time) on 429, 5xx or transport errors.
    GaveUp { attempts: u32, last: String },
    /// A `nextLink` that leaves the Resource Manager endpoint: the token is not sent there.
    ForeignLink { url: String },
    /// The credential could not give a token.
    Token(String),
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Denied {
                status,
                code,
                message,
            } => {
                write!(f, "HTTP {status} {code}: {message}")
            }
            FetchError::Rejected {
                status,
                code,
                message,
            } => {
                write!(f, "HTTP {status} {code}: {message}")
            }
            FetchError::GaveUp { attempts, last } => {
                write!(f, "gave up after {attempts} attempts; last: {last}")
            }
            FetchError::ForeignLink { url } => write!(
                f,
                "nextLink points outside the endpoint ({url}); not followed, so the token is not sent there"
            ),
            FetchError::Token(e) => write!(f, "no token: {e}"),
        }
    }
}

/// One page as received.
pub struct Page {
    /// The body exactly as the server sent it.
    pub body: Vec<u8>,
    /// The body parsed: an object (ARM, Log Analytics) or an array (Data Explorer's frames).
    pub json: Value,
    /// Retries this page took.
    pub retries: u32,
}

/// What the rest of the collector sees of one Azure endpoint.
pub struct Api {
    client: reqwest::Client,
    endpoint: reqwest::Url,
    credential: Arc<dyn TokenCredential>,
    scope: String,
    token: Mutex<Option<(Secret, Instant)>>,
    permits: Semaphore,
    retry: RetryPolicy,
}

/// A token is renewed this long before the credential says it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(300);

impl Api {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        flag: &'static str,
        endpoint: &str,
        credential: Arc<dyn TokenCredential>,
        scope: &str,
        concurrency: usize,
        timeout: Duration,
        retry: RetryPolicy,
    ) -> anyhow::Result<Api> {
        let endpoint = reqwest::Url::parse(endpoint)
            .map_err(|e| anyhow::anyhow!("{flag} {endpoint}: not a URL ({e})"))?;
        if !matches!(endpoint.scheme(), "https" | "http") {
            anyhow::bail!("{flag} {endpoint}: use an https:// URL");
        }
        // Plain HTTP would carry the token in clear text: only to this machine (a test fake).
        if endpoint.scheme() == "http" && !is_loopback(&endpoint) {
            anyhow::bail!(
                "{flag} {endpoint}: plain http:// would send the token in clear text; use https:// (http:// is taken only for 127.0.0.1, ::1 or localhost)"
            );
        }
        if !endpoint.username().is_empty() || endpoint.password().is_some() {
            anyhow::bail!(
                "{flag}: a URL with a user name or password; sign in with --auth instead"
            );
        }
        Ok(Api {
            client: client(timeout)?,
            endpoint,
            credential,
            scope: scope.to_string(),
            token: Mutex::new(None),
            permits: Semaphore::new(concurrency.max(1)),
            retry,
        })
    }

    /// `path_and_query` joined to the endpoint (a path starting with `/`), or an absolute
    /// `nextLink`, which must stay on the endpoint's scheme, host and port.
    pub fn url(&self, target: &str) -> Result<reqwest::Url, FetchError> {
        if target.starts_with('/') {
            let base = self.endpoint.as_str().trim_end_matches('/');
            return reqwest::Url::parse(&format!("{base}{target}")).map_err(|e| {
                FetchError::Rejected {
                    status: 0,
                    code: "BadUrl".into(),
                    message: format!("{target}: {e}"),
                }
            });
        }
        let url = reqwest::Url::parse(target).map_err(|_| FetchError::ForeignLink {
            url: target.to_string(),
        })?;
        // Credentials in the link would be sent as a second Authorization header.
        if !url.username().is_empty() || url.password().is_some() {
            return Err(FetchError::ForeignLink {
                url: format!(
                    "{}://{}@{}",
                    url.scheme(),
                    crate::secrets::MASK,
                    url.host_str().unwrap_or("?")
                ),
            });
        }
        let same = url.scheme() == self.endpoint.scheme()
            && url.host_str().map(str::to_ascii_lowercase)
                == self.endpoint.host_str().map(str::to_ascii_lowercase)
            && url.port_or_known_default() == self.endpoint.port_or_known_default();
        if same {
            Ok(url)
        } else {
            Err(FetchError::ForeignLink {
                url: format!(
                    "{}://{}:{}",
                    url.scheme(),
                    url.host_str().unwrap_or("?"),
                    url.port_or_known_default()
                        .map(|p| p.to_string())
                        .unwrap_or_else(|| "?".into())
                ),
            })
        }
    }

    /// A bearer token, fetched again when close to expiry.
    pub async fn token(&self) -> Result<Secret, FetchError> {
        let mut cached = self.token.lock().await;
        if let Some((token, renew_at)) = cached.as_ref()
            && Instant::now() < *renew_at
        {
            return Ok(token.clone());
        }
        let fresh = self
            .credential
            .get_token(&[self.scope.as_str()], None)
            .await
            .map_err(|e| FetchError::Token(e.to_string()))?;
        let left = fresh.expires_on.unix_timestamp() - chrono::Utc::now().timestamp();
        let left = Duration::from_secs(left.max(0) as u64);
        let renew_at = Instant::now() + left.saturating_sub(TOKEN_MARGIN);
        *cached = Some((fresh.token.clone(), renew_at));
        Ok(fresh.token)
    }

    /// The endpoint, as given.
    pub fn endpoint(&self) -> &str {
        self.endpoint.as_str()
    }

    /// GETs one page: retried as the policy says; the body must be a JSON object.
    pub async fn get(&self, url: &reqwest::Url) -> Result<Page, FetchError> {
        self.send(url, None, &[]).await
    }

    /// POSTs a JSON body (a query) and takes the answer as `get` does; the body may also be a
    /// JSON array (Data Explorer's frames). `headers` are sent as they are (`Prefer`).
    pub async fn post(
        &self,
        url: &reqwest::Url,
        body: &Value,
        headers: &[(&'static str, String)],
    ) -> Result<Page, FetchError> {
        self.send(url, Some(body), headers).await
    }

    async fn send(
        &self,
        url: &reqwest::Url,
        body: Option<&Value>,
        headers: &[(&'static str, String)],
    ) -> Result<Page, FetchError> {
        let started = Instant::now();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let outcome = {
                let _permit = self
                    .permits
                    .acquire()
                    .await
                    .expect("semaphore never closed");
                self.try_once(url, body, headers).await?
            };
            let (wait_for, last) = match outcome {
                Attempt::Done(body, json) => {
                    return Ok(Page {
                        body,
                        json,
                        retries: attempt - 1,
                    });
                }
                Attempt::Retry { after, reason } => (after, reason),
            };
            let wait = wait_for.unwrap_or_else(|| self.retry.backoff(attempt, jitter()));
            let elapsed = started.elapsed();
            if attempt >= self.retry.attempts || elapsed + wait > self.retry.budget {
                return Err(FetchError::GaveUp {
                    attempts: attempt,
                    last,
                });
            }
            tokio::time::sleep(wait).await;
        }
    }

    async fn try_once(
        &self,
        url: &reqwest::Url,
        body: Option<&Value>,
        headers: &[(&'static str, String)],
    ) -> Result<Attempt, FetchError> {
        let token = self.token().await?;
        let mut auth =
            reqwest::header::HeaderValue::from_str(&format!("Bearer {}", token.secret())).map_err(
                |_| FetchError::Token("the token holds characters a header cannot".into()),
            )?;
        auth.set_sensitive(true);
        let mut request = match body {
            None => self.client.get(url.clone()),
            Some(b) => self
                .client
                .post(url.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(b).expect("a JSON value serializes")),
        };
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let sent = request
            .header(reqwest::header::AUTHORIZATION, auth)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => {
                return Ok(Attempt::Retry {
                    after: None,
                    reason: transport_reason(&e),
                });
            }
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = match response.bytes().await {
            Ok(b) => b.to_vec(),
            Err(e) => {
                return Ok(Attempt::Retry {
                    after: None,
                    reason: format!(
                        "HTTP {} with a body cut short: {}",
                        status.as_u16(),
                        transport_reason(&e)
                    ),
                });
            }
        };
        if status.is_success() {
            return Ok(match serde_json::from_slice::<Value>(&body) {
                Ok(json) if json.is_object() || json.is_array() => Attempt::Done(body, json),
                Ok(_) => Attempt::Retry {
                    after: None,
                    reason: format!(
                        "HTTP {} with a body that is neither a JSON object nor an array",
                        status.as_u16()
                    ),
                },
                Err(e) => Attempt::Retry {
                    after: None,
                    reason: format!(
                        "HTTP {} with a body that is not complete JSON ({e})",
                        status.as_u16()
                    ),
                },
            });
        }
        // A server or a proxy can repeat the request's headers in its message: the token (and
        // anything shaped like a credential) is masked before the message goes anywhere.
        let (code, message) = cloud_error(&body);
        let known = [token.secret()];
        let (code, message) = (
            redact(&code, &known).into_owned(),
            redact(&message, &known).into_owned(),
        );
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(FetchError::Denied {
                status: status.as_u16(),
                code,
                message,
            }),
            StatusCode::TOO_MANY_REQUESTS => Ok(Attempt::Retry {
                // ARM always sends Retry-After with 429; without one, back off.
                after: retry_after,
                reason: format!("HTTP 429 {code}: {message}"),
            }),
            s if s.is_server_error() || s == StatusCode::REQUEST_TIMEOUT => Ok(Attempt::Retry {
                after: retry_after,
                reason: format!("HTTP {} {code}: {message}", s.as_u16()),
            }),
            s => Err(FetchError::Rejected {
                status: s.as_u16(),
                code,
                message,
            }),
        }
    }
}

/// Whether `url` names this machine.
fn is_loopback(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or("");
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback())
}

enum Attempt {
    Done(Vec<u8>, Value),
    Retry {
        after: Option<Duration>,
        reason: String,
    },
}

fn client(timeout: Duration) -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("jitaudit/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10).min(timeout))
        .timeout(timeout)
        // ARM does not redirect list calls; following one could send the token elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| anyhow::anyhow!("cannot set up HTTPS: {e}"))
}

/// A transport error in words, without the URL (it is already in the caller's context).
fn transport_reason(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "connection dropped while reading the body"
    } else {
        "connection error"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() {
        kind.to_string()
    } else {
        format!("{kind} ({cause})")
    }
}

/// `Retry-After` as seconds or as an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let secs = (when.timestamp() - chrono::Utc::now().timestamp()).max(0);
    Some(Duration::from_secs(secs as u64))
}

/// The `code` and `message` of ARM's `CloudError` body, or the start of whatever came instead.
pub fn cloud_error(body: &[u8]) -> (String, String) {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        let e = v.get("error").unwrap_or(&v);
        let text = |k: &str| e.get(k).and_then(Value::as_str).map(str::to_string);
        if let (Some(code), message) = (text("code"), text("message")) {
            return (code, message.unwrap_or_default());
        }
    }
    let text = String::from_utf8_lossy(body);
    let short: String = text.chars().take(200).collect();
    ("NoCloudError".into(), short.trim().to_string())
}

/// Randomness for jitter; not for anything secret.
fn jitter() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    h.finish()
}

/// azure_identity's credentials send their token requests through this: the same reqwest
/// client (rustls, native roots) as the ARM calls, rather than a second HTTP stack.
#[derive(Debug)]
pub struct Transport(reqwest::Client);

impl Transport {
    pub fn new(timeout: Duration) -> anyhow::Result<Arc<Transport>> {
        Ok(Arc::new(Transport(client(timeout)?)))
    }
}

#[async_trait::async_trait]
impl HttpClient for Transport {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        use azure_core::error::{Error, ErrorKind};
        let method = reqwest::Method::from_bytes(request.method().as_str().as_bytes())
            .map_err(|e| Error::with_error(ErrorKind::Other, e, "unknown HTTP method"))?;
        let mut req = self.0.request(method, request.url().as_str());
        for (name, value) in request.headers().iter() {
            req = req.header(name.as_str(), value.as_str());
        }
        req = match request.body() {
            Body::Bytes(bytes) => req.body(bytes.to_vec()),
            #[allow(unreachable_patterns)]
            _ => {
                return Err(Error::with_message(
                    ErrorKind::Other,
                    "streamed request bodies are not supported by jitaudit's transport",
                ));
            }
        };
        let response = req.send().await.map_err(|e| {
            let kind = if e.is_connect() {
                ErrorKind::Connection
            } else {
                ErrorKind::Io
            };
            Error::with_message(kind, transport_reason(&e))
        })?;
        let status = response.status().as_u16();
        let mut headers = Headers::new();
        for (name, value) in response.headers() {
            if let Ok(v) = value.to_str() {
                headers.insert(
                    HeaderName::from(name.as_str().to_string()),
                    HeaderValue::from(v.to_string()),
                );
            }
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| Error::with_message(ErrorKind::Io, transport_reason(&e)))?;
        Ok(AsyncRawResponse::from_bytes(status.into(), headers, body))
    }
}

#[cfg(test)]
mod tests;
