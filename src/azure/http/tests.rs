//! The client's retries, error reading and the links and endpoints it refuses.

use super::*;

#[test]
fn backoff_doubles_is_capped_and_jittered_within_half() {
    let p = RetryPolicy {
        attempts: 5,
        budget: Duration::from_secs(60),
        base_delay: Duration::from_millis(400),
        max_delay: Duration::from_secs(2),
    };
    for random in [0, 1, 12345, u64::MAX] {
        let d1 = p.backoff(1, random);
        assert!(d1 >= Duration::from_millis(200) && d1 < Duration::from_millis(400));
        let d2 = p.backoff(2, random);
        assert!(d2 >= Duration::from_millis(400) && d2 < Duration::from_millis(800));
        let d9 = p.backoff(9, random);
        assert!(d9 >= Duration::from_secs(1) && d9 < Duration::from_secs(2));
    }
}

#[test]
fn retry_after_takes_seconds_and_dates() {
    assert_eq!(parse_retry_after("17"), Some(Duration::from_secs(17)));
    assert_eq!(
        parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
        Some(Duration::ZERO)
    );
    assert_eq!(parse_retry_after("soon"), None);
}

#[test]
fn cloud_error_reads_code_and_message() {
    let body = br#"{"error":{"code":"AuthorizationFailed","message":"no read"}}"#;
    assert_eq!(
        cloud_error(body),
        ("AuthorizationFailed".to_string(), "no read".to_string())
    );
    assert_eq!(cloud_error(b"<html>bad gateway</html>").0, "NoCloudError");
}

/// A client of `endpoint` with a fixed token and no retries.
fn arm_at(endpoint: &str) -> anyhow::Result<Api> {
    let cred: Arc<dyn TokenCredential> =
        crate::azure::auth::StaticToken::new(Secret::new("t".to_string()));
    let retry = RetryPolicy {
        attempts: 1,
        budget: Duration::from_secs(1),
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(1),
    };
    Api::new(
        "--arm-endpoint",
        endpoint,
        cred,
        "s",
        1,
        Duration::from_secs(1),
        retry,
    )
}

#[test]
fn next_links_must_stay_on_the_endpoint() {
    let arm = arm_at("https://management.azure.com").unwrap();
    assert!(
        arm.url("https://MANAGEMENT.azure.com/subscriptions?x=1")
            .is_ok()
    );
    assert!(
        arm.url("https://management.azure.com:443/subscriptions")
            .is_ok()
    );
    assert!(matches!(
        arm.url("https://evil.example/subscriptions"),
        Err(FetchError::ForeignLink { .. })
    ));
    assert!(matches!(
        arm.url("http://management.azure.com/subscriptions"),
        Err(FetchError::ForeignLink { .. })
    ));
    assert_eq!(
        arm.url("/subscriptions?api-version=1").unwrap().as_str(),
        "https://management.azure.com/subscriptions?api-version=1"
    );
    // Issue 30: a link carrying user:password@ would send a second Authorization header.
    let with_credentials = arm.url("https://user:pass@management.azure.com/subscriptions");
    let Err(e) = with_credentials else {
        panic!("a link with credentials was followed")
    };
    assert!(!e.to_string().contains("pass"), "{e}");
    // The message names the port that differs.
    let e = arm
        .url("https://management.azure.com:8443/subscriptions")
        .unwrap_err();
    assert!(e.to_string().contains("management.azure.com:8443"), "{e}");
}

/// Issue 30: plain http:// would carry the token in clear text, so it is taken only for
/// this machine; credentials in the endpoint are refused.
#[test]
fn an_endpoint_in_clear_text_is_refused_but_on_loopback() {
    let make = arm_at;
    for ok in [
        "http://127.0.0.1:8080",
        "http://[::1]:9",
        "http://localhost:1",
        "https://arm.example",
    ] {
        assert!(make(ok).is_ok(), "{ok}");
    }
    for bad in [
        "http://arm.example",
        "http://10.0.0.1",
        "https://u:p@arm.example",
    ] {
        let e = make(bad).err().unwrap_or_else(|| panic!("{bad} accepted"));
        assert!(!e.to_string().contains(":p@"), "{e}");
    }
}
