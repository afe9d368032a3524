//! Each record shape normalized into the same event.

use super::*;
use serde_json::json;

#[test]
fn rest_and_record_shapes_of_one_event_agree() {
    let rest = json!({
        "caller": "rob@contoso.com",
        "claims": {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "rob@contoso.com", "appid": "355249ed-15d9-460d-8481-84026b065942"},
        "correlationId": "c1",
        "eventTimestamp": "2018-01-29T20:42:31.3810679Z",
        "httpRequest": {"clientIpAddress": "192.168.35.115"},
        "level": "Informational",
        "operationName": {"value": "Microsoft.Network/networkSecurityGroups/write", "localizedValue": "Microsoft.Network/networkSecurityGroups/write"},
        "resourceId": "/subscriptions/AAAAAAAA-0000-0000-0000-000000000000/resourcegroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg",
        "status": {"value": "Succeeded"},
    });
    let record = json!({
        "time": "2018-01-29T20:42:31.3810679Z",
        "resourceId": "/SUBSCRIPTIONS/AAAAAAAA-0000-0000-0000-000000000000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG",
        "operationName": "MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/WRITE",
        "category": "Write",
        "resultType": "Success",
        "callerIpAddress": "192.168.35.115",
        "correlationId": "c1",
        "identity": {"claims": {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "rob@contoso.com"}},
        "level": "Information",
    });
    let a = from_object(rest.as_object().unwrap()).unwrap();
    let b = from_object(record.as_object().unwrap()).unwrap();
    for (x, y) in [
        (&a.operation_id, &b.operation_id),
        (&a.status, &b.status),
        (&a.level, &b.level),
        (&a.caller, &b.caller),
        (&a.caller_ip, &b.caller_ip),
        (&a.subscription_id, &b.subscription_id),
    ] {
        assert_eq!(x, y);
    }
    assert_eq!(a.time, b.time);
    assert_eq!(b.category.as_deref(), Some("Administrative"));
    assert_eq!(a.caller_kind, Some(caller_kind::USER));
    assert_eq!(
        a.subscription_id.as_deref(),
        Some("aaaaaaaa-0000-0000-0000-000000000000")
    );
}

#[test]
fn service_principals_are_recognised() {
    let record = json!({
        "time": "2026-01-01T00:00:00Z", "operationName": "x/write", "resourceId": "/subscriptions/s",
        "identity": {"claims": {"appid": "11111111-1111-1111-1111-111111111111",
                                 "http://schemas.microsoft.com/identity/claims/objectidentifier": "22222222-2222-2222-2222-222222222222",
                                 "idtyp": "app"}}
    });
    let ev = from_object(record.as_object().unwrap()).unwrap();
    assert_eq!(ev.caller_kind, Some(caller_kind::SERVICE_PRINCIPAL));
    assert_eq!(
        ev.caller.as_deref(),
        Some("22222222-2222-2222-2222-222222222222")
    );
}

/// A user's token with authorization evidence that names a service principal (the right came
/// through one) is the user's record.
#[test]
fn claims_that_name_a_user_outweigh_the_evidence() {
    let record = json!({
        "time": "2026-01-01T00:00:00Z", "operationName": "x/write", "resourceId": "/subscriptions/s",
        "identity": {
            "claims": {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "alice@contoso.com",
                       "http://schemas.microsoft.com/identity/claims/objectidentifier": "a1a1a1a1-0000-4000-8000-00000000000a"},
            "authorization": {"action": "x/write", "scope": "/subscriptions/s",
                              "evidence": {"principalType": "ServicePrincipal", "principalId": "5e5e5e5e-0000-4000-8000-000000000005"}}
        }
    });
    let ev = from_object(record.as_object().unwrap()).unwrap();
    assert_eq!(ev.caller_kind, Some(caller_kind::USER));
    assert_eq!(ev.caller.as_deref(), Some("alice@contoso.com"));
    assert_eq!(
        ev.object_id.as_deref(),
        Some("a1a1a1a1-0000-4000-8000-00000000000a")
    );
}

#[test]
fn records_without_time_are_rejected() {
    let r = json!({"operationName": {"value": "x"}, "eventDataId": "e"});
    assert_eq!(
        from_object(r.as_object().unwrap()).unwrap_err(),
        Reject::MissingTime
    );
    let r = json!({"time": "yesterday", "operationName": "x"});
    assert!(matches!(
        from_object(r.as_object().unwrap()),
        Err(Reject::BadTime(_))
    ));
}

#[test]
fn event_properties_are_lifted() {
    let r = json!({"time": "2026-01-01T00:00:00Z", "operationName": "x",
                   "properties": {"eventCategory": "Administrative", "eventProperties": "{\"Justification\": \"CHG1\"}"}});
    let ev = from_object(r.as_object().unwrap()).unwrap();
    let p = ev.properties.unwrap();
    assert_eq!(p.get("Justification"), Some(&json!("CHG1")));
    assert!(p.get("eventProperties").is_none());
}
