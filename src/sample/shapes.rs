//! Renders one sample [`Event`] in each Activity Log shape, field for field as
//! `shared/reference/azure-formats.md` shows Microsoft's own examples: REST `EventData`, the
//! resource-log record of storage and Event Hubs exports, a Log Analytics `AzureActivity`
//! row, and a portal CSV row.

use serde_json::{Map, Value, json};

use super::events::{Event, Status, ms_time7};
use super::story::{DEFENDER_APP_ID, Ms, Who};
use super::tenant;
use crate::normalize::parse_resource_id;

fn claims(e: &Event) -> Value {
    let base = json!({
        "aud": "https://management.core.windows.net/",
        "iss": format!("https://sts.windows.net/{}/", tenant::TENANT_ID),
        "ver": "1.0",
    });
    let mut c = base.as_object().cloned().unwrap_or_default();
    let (app, oid, extra): (&str, &str, Vec<(&str, &str)>) = match e.who {
        Who::Person(_) | Who::Member(_) => {
            let p = e.who.person().expect("a person");
            (
                tenant::PORTAL_APP_ID,
                p.object_id,
                vec![
                    (
                        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
                        p.upn,
                    ),
                    ("name", p.name),
                    ("idtyp", "user"),
                ],
            )
        }
        Who::Automation => (
            tenant::AUTOMATION_APP_ID,
            tenant::AUTOMATION_OBJECT_ID,
            vec![("idtyp", "app")],
        ),
        Who::Defender => (
            DEFENDER_APP_ID,
            super::story::DEFENDER_OBJECT_ID,
            vec![("idtyp", "app")],
        ),
    };
    c.insert("appid".into(), json!(app));
    c.insert(
        "http://schemas.microsoft.com/identity/claims/objectidentifier".into(),
        json!(oid),
    );
    if !e.caller_ip.is_empty() {
        c.insert("ipaddr".into(), json!(e.caller_ip));
    }
    for (k, v) in extra {
        c.insert(k.into(), json!(v));
    }
    Value::Object(c)
}

fn principal_type(who: Who) -> &'static str {
    match who {
        Who::Person(_) | Who::Member(_) => "User",
        _ => "ServicePrincipal",
    }
}

fn http_method(op: &str) -> &'static str {
    if op.ends_with("/delete") {
        "DELETE"
    } else if op.ends_with("/write") {
        "PUT"
    } else {
        "POST"
    }
}

fn status_words(e: &Event) -> (&'static str, &'static str) {
    // (REST and ActivityStatus, resultType and ActivityStatusValue)
    match e.status {
        Status::Started => ("Started", "Start"),
        Status::Succeeded if e.category == "ResourceHealth" => ("Updated", "Updated"),
        Status::Succeeded => ("Succeeded", "Success"),
        Status::Accepted => ("Accepted", "Accepted"),
        Status::Failed => ("Failed", "Failure"),
    }
}

fn sub_status_long(e: &Event) -> String {
    match e.sub_status {
        ("", _) => String::new(),
        (word, code) => format!("{word} (HTTP Status Code: {code})"),
    }
}

/// `properties` as REST has them: flat string values; Resource Health's payload flattened.
fn rest_properties(e: &Event) -> Map<String, Value> {
    let mut p: Map<String, Value> = e
        .properties
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    if let Some(Value::Object(nested)) = &e.nested {
        for (k, v) in nested {
            p.insert(k.clone(), v.clone());
        }
    }
    p
}

fn ticks(at: Ms) -> i64 {
    (at + 62_135_596_800_000) * 10_000
}

/// REST `EventData` (section 2a), as `az monitor activity-log list` prints it.
pub fn rest(e: &Event) -> Value {
    let parsed = parse_resource_id(&e.resource_id);
    let ty = parsed.resource_type.clone().unwrap_or_default();
    let namespace = ty.split('/').next().unwrap_or_default().to_string();
    let (status, _) = status_words(e);
    let lv = |v: &str| json!({"value": v, "localizedValue": v});
    json!({
        "authorization": {"action": e.operation, "scope": e.resource_id},
        "caller": e.who.caller(),
        "channels": "Operation",
        "claims": claims(e),
        "correlationId": e.correlation,
        "description": "",
        "eventDataId": e.event_id,
        "eventName": if e.status == Status::Started {
            json!({"value": "BeginRequest", "localizedValue": "Begin request"})
        } else {
            json!({"value": "EndRequest", "localizedValue": "End request"})
        },
        "category": lv(e.category),
        "eventTimestamp": ms_time7(e.at),
        "httpRequest": {"clientRequestId": e.operation_guid, "clientIpAddress": e.caller_ip, "method": http_method(e.operation)},
        "id": format!("{}/events/{}/ticks/{}", e.resource_id, e.event_id, ticks(e.at)),
        "level": "Informational",
        "operationId": e.operation_guid,
        "operationName": {"value": e.operation, "localizedValue": e.display},
        "resourceGroupName": parsed.resource_group.unwrap_or_default(),
        "resourceProviderName": lv(&namespace),
        "resourceType": lv(&ty),
        "resourceId": e.resource_id,
        "status": lv(status),
        "subStatus": {"value": e.sub_status.0, "localizedValue": sub_status_long(e)},
        "submissionTimestamp": ms_time7(e.at + 14_873),
        "subscriptionId": e.sub.id,
        "tenantId": tenant::TENANT_ID,
        "properties": rest_properties(e),
        "relatedEvents": [],
    })
}

/// Trimmed fractional digits, as storage exports write (`2020-06-12T13:07:46.766Z`).
fn time_trimmed(at: Ms) -> String {
    crate::normalize::format_time(at * 1_000_000)
}

/// The resource-log record (section 2b) of diagnostic-settings exports to storage (JSON
/// Lines, upper-case resource ids) and Event Hubs (the `records` wrapper).
pub fn record(e: &Event, upper: bool) -> Value {
    let (_, result) = status_words(e);
    let op_type = if e.category == "ResourceHealth" {
        "ResourceHealth"
    } else if e.operation.ends_with("/delete") {
        "Delete"
    } else if e.operation.ends_with("/write") {
        "Write"
    } else {
        "Action"
    };
    let signature = match (e.status, e.sub_status.0) {
        (Status::Started, _) => "Started.".to_string(),
        (_, "") => format!("{result}."),
        (Status::Succeeded, s) => format!("Succeeded.{s}"),
        (Status::Failed, s) => format!("Failed.{s}"),
        (Status::Accepted, s) => format!("Accepted.{s}"),
    };
    let mut properties: Map<String, Value> = e
        .properties
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    properties.insert("eventCategory".into(), json!(e.category));
    match &e.nested {
        Some(nested) => {
            properties.insert("eventProperties".into(), nested.clone());
        }
        None => {
            properties.insert("entity".into(), json!(e.resource_id));
            properties.insert("message".into(), json!(e.operation));
            properties.insert(
                "hierarchy".into(),
                json!(format!("{}/{}", tenant::TENANT_ID, e.sub.id)),
            );
        }
    }
    let mut r = json!({
        "time": time_trimmed(e.at),
        "resourceId": if upper { e.resource_id.to_uppercase() } else { e.resource_id.clone() },
        "operationName": if upper { e.operation.to_string() } else { e.operation.to_lowercase() },
        "category": op_type,
        "resultType": result,
        "resultSignature": signature,
        "durationMs": 0,
        "correlationId": e.correlation,
        "level": "Information",
        "location": "global",
        "properties": properties,
    });
    if e.category != "ResourceHealth" {
        r["callerIpAddress"] = json!(e.caller_ip);
        r["identity"] = json!({
            "authorization": {"scope": e.resource_id, "action": e.operation,
                "evidence": {"role": "Contributor", "roleAssignmentScope": format!("/subscriptions/{}", e.sub.id),
                             "principalId": claims(e)["http://schemas.microsoft.com/identity/claims/objectidentifier"], "principalType": principal_type(e.who)}},
            "claims": claims(e),
        });
    }
    r
}

/// The columns of the CSV export: a query that projected away the legacy string twins of the
/// `dynamic` columns, as exports usually do.
pub const LA_CSV_COLUMNS: &[&str] = &[
    "TenantId",
    "SourceSystem",
    "CallerIpAddress",
    "CategoryValue",
    "CorrelationId",
    "Authorization_d",
    "Claims_d",
    "Level",
    "OperationName",
    "Properties_d",
    "Caller",
    "EventDataId",
    "EventSubmissionTimestamp",
    "HTTPRequest",
    "OperationId",
    "ResourceGroup",
    "ResourceProviderValue",
    "ActivityStatus",
    "ActivitySubstatus",
    "Hierarchy",
    "TimeGenerated",
    "SubscriptionId",
    "OperationNameValue",
    "_ResourceId",
    "ResourceId",
    "ActivityStatusValue",
    "ActivitySubstatusValue",
    "Category",
    "ResourceProvider",
    "Resource",
    "Type",
];

/// The `AzureActivity` columns, in the order the table has them.
pub const LA_COLUMNS: &[&str] = &[
    "TenantId",
    "SourceSystem",
    "CallerIpAddress",
    "CategoryValue",
    "CorrelationId",
    "Authorization",
    "Authorization_d",
    "Claims",
    "Claims_d",
    "Level",
    "OperationName",
    "Properties",
    "Properties_d",
    "Caller",
    "EventDataId",
    "EventSubmissionTimestamp",
    "HTTPRequest",
    "OperationId",
    "ResourceGroup",
    "ResourceProviderValue",
    "ActivityStatus",
    "ActivitySubstatus",
    "Hierarchy",
    "TimeGenerated",
    "SubscriptionId",
    "OperationNameValue",
    "_ResourceId",
    "ResourceId",
    "ActivityStatusValue",
    "ActivitySubstatusValue",
    "Category",
    "ResourceProvider",
    "Resource",
    "Type",
];

/// One `AzureActivity` row (section 2c). Log Analytics upper-cases many values.
pub fn log_analytics(e: &Event) -> Map<String, Value> {
    let parsed = parse_resource_id(&e.resource_id);
    let namespace = parsed
        .resource_type
        .clone()
        .unwrap_or_default()
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let (status, status_value) = status_words(e);
    let authorization = json!({"action": e.operation, "scope": e.resource_id,
        "evidence": {"role": "Contributor", "principalType": principal_type(e.who)}});
    let mut props = rest_properties(e);
    props.insert("eventCategory".into(), json!(e.category));
    props.insert("entity".into(), json!(e.resource_id));
    props.insert("message".into(), json!(e.operation));
    props.insert("activityStatusValue".into(), json!(status_value));
    let http = json!({"clientRequestId": e.operation_guid, "clientIpAddress": e.caller_ip, "method": http_method(e.operation)});
    let hierarchy = format!("{}/{}", tenant::TENANT_ID, e.sub.id);
    let values: Vec<Value> = vec![
        json!(tenant::WORKSPACE_ID),
        json!("Azure"),
        json!(e.caller_ip),
        json!(e.category),
        json!(e.correlation),
        json!(authorization.to_string()),
        authorization,
        json!(claims(e).to_string()),
        claims(e),
        json!("Informational"),
        json!(e.display),
        json!(Value::Object(props.clone()).to_string()),
        Value::Object(props),
        json!(e.who.caller()),
        json!(e.event_id),
        json!(ms_time7(e.at + 14_873)),
        json!(http.to_string()),
        json!(e.operation_guid),
        json!(parsed.resource_group.unwrap_or_default().to_uppercase()),
        json!(namespace.to_uppercase()),
        json!(status),
        json!(e.sub_status.0),
        json!(hierarchy),
        json!(ms_time7(e.at)),
        json!(e.sub.id),
        json!(e.operation.to_uppercase()),
        json!(e.resource_id.to_lowercase()),
        json!(e.resource_id.to_uppercase()),
        json!(status_value),
        json!(sub_status_long(e)),
        json!(e.category),
        json!(namespace),
        json!(parsed.name.unwrap_or_default().to_uppercase()),
        json!("AzureActivity"),
    ];
    LA_COLUMNS
        .iter()
        .map(|c| c.to_string())
        .zip(values)
        .collect()
}

/// The portal's "Download as CSV" header (section 2d).
pub const PORTAL_COLUMNS: &[&str] = &[
    "Correlation id",
    "Operation name",
    "Status",
    "Event category",
    "Level",
    "Time",
    "Subscription",
    "Event initiated by",
    "Resource type",
    "Resource group",
    "Resource",
];

pub fn portal(e: &Event) -> Vec<String> {
    let parsed = parse_resource_id(&e.resource_id);
    let (status, _) = status_words(e);
    let secs = e.at.div_euclid(1000);
    let t = chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default();
    vec![
        e.correlation.clone(),
        e.display.to_string(),
        status.to_string(),
        e.category.to_string(),
        "Informational".to_string(),
        format!(
            "{}.{:03}Z",
            t.format("%Y-%m-%dT%H:%M:%S"),
            e.at.rem_euclid(1000)
        ),
        e.sub.id.to_string(),
        e.who.caller().to_string(),
        parsed.resource_type.unwrap_or_default().into_owned(),
        parsed.resource_group.unwrap_or_default().to_string(),
        e.resource_id.clone(),
    ]
}
