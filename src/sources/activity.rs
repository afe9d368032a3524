//! One Activity Log record, whatever shape it came in (REST `EventData`, the resource-log
//! `records` schema of storage and Event Hubs exports, a Log Analytics `AzureActivity` row, a
//! portal CSV row), normalized into one [`Event`], which [`super::event_row`] writes as a row
//! of `events`.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::display_names;
use super::json::{as_map, as_object, get, localized, objects, path, text, text_at};
use crate::normalize::{self, IdParts, ResourceId, is_guid, parse_resource_id};
use crate::schema::caller_kind;

/// The claim keys identities are read from, long and short forms.
pub(super) const UPN_CLAIMS: &[&str] = &[
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
    "upn",
];
pub(super) const OID_CLAIMS: &[&str] = &[
    "http://schemas.microsoft.com/identity/claims/objectidentifier",
    "oid",
];
pub(super) const APPID_CLAIMS: &[&str] = &["appid", "azp"];

/// A string of a record: borrowed from the line when the line was read straight, owned when
/// it went through a `serde_json` value; `None` when absent.
pub type Text<'a> = Option<Cow<'a, str>>;

/// An owned string as [`Text`].
fn owned(s: Option<String>) -> Text<'static> {
    s.map(Cow::Owned)
}

/// A normalized Activity Log record before it becomes a row.
#[derive(Debug, Default, Clone)]
pub struct Event<'a> {
    pub event_id: Text<'a>,
    pub time: Option<i64>,
    /// The time as written, parsed by [`complete`] so a bad one is reported as written.
    pub time_raw: Text<'a>,
    pub subscription_id: Text<'a>,
    pub resource_group: Text<'a>,
    pub resource_id: Text<'a>,
    pub resource_type: Text<'a>,
    pub operation_id: Text<'a>,
    pub operation_name: Text<'a>,
    pub category: Text<'a>,
    pub status: Text<'a>,
    pub sub_status: Text<'a>,
    pub caller: Text<'a>,
    pub caller_ip: Text<'a>,
    pub caller_kind: Option<&'static str>,
    pub app_id: Text<'a>,
    pub object_id: Text<'a>,
    pub correlation_id: Text<'a>,
    pub level: Text<'a>,
    pub description: Text<'a>,
    pub properties: Option<Map<String, Value>>,
}

/// Why a record could not be used; the text is the rejection reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reject {
    MissingTime,
    BadTime(String),
    MissingOperation,
    NotAnObject,
    NotActivity,
    /// A JIT request whose body asks for a port that is not one.
    BadPort,
}

impl Reject {
    pub fn reason(&self) -> &'static str {
        match self {
            Reject::MissingTime => "record has no event time",
            Reject::BadTime(_) => "event time is not a timestamp",
            Reject::MissingOperation => "record has no operation name",
            Reject::NotAnObject => "record is not a JSON object",
            Reject::NotActivity => "record is not an Activity Log event",
            Reject::BadPort => {
                "JIT request asks for a port number that is not a port (a whole number from 0 to 65535)"
            }
        }
    }

    pub fn detail(&self) -> Option<&str> {
        match self {
            Reject::BadTime(t) => Some(t),
            _ => None,
        }
    }
}

/// Which Activity Log shape an object has, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Rest,
    Record,
    LogAnalytics,
}

pub fn shape_of(obj: &Map<String, Value>) -> Option<Shape> {
    let has = |k: &str| get(obj, k).is_some();
    if has("OperationNameValue") || has("TimeGenerated") || has("ActivityStatusValue") {
        return Some(Shape::LogAnalytics);
    }
    if has("eventTimestamp")
        || has("eventDataId")
        || matches!(get(obj, "operationName"), Some(Value::Object(_)))
    {
        return Some(Shape::Rest);
    }
    if has("time") && has("operationName") {
        return Some(Shape::Record);
    }
    None
}

/// Normalizes any Activity Log object; the shape is read from the object itself, so a list
/// or a JSON Lines file may even mix shapes.
pub fn from_object(obj: &Map<String, Value>) -> Result<Event<'static>, Reject> {
    let mut ev = match shape_of(obj).ok_or(Reject::NotActivity)? {
        Shape::Rest => from_rest(obj),
        Shape::Record => from_record(obj),
        Shape::LogAnalytics => from_log_analytics(obj),
    };
    complete(&mut ev)?;
    Ok(ev)
}

fn time_of(raw: Text<'_>) -> Result<i64, Reject> {
    let raw = raw.ok_or(Reject::MissingTime)?;
    normalize::parse_time(&raw).ok_or_else(|| Reject::BadTime(raw.into_owned()))
}

fn from_rest(o: &Map<String, Value>) -> Event<'static> {
    let claims = get(o, "claims").and_then(as_map);
    let authorization = get(o, "authorization").and_then(as_map);
    let mut ev = Event {
        event_id: owned(text_at(o, "eventDataId")),
        time_raw: owned(text_at(o, "eventTimestamp")),
        subscription_id: owned(text_at(o, "subscriptionId")),
        resource_group: owned(text_at(o, "resourceGroupName")),
        resource_id: owned(text_at(o, "resourceId")),
        resource_type: owned(text_at(o, "resourceType")),
        operation_id: owned(text_at(o, "operationName")),
        operation_name: owned(get(o, "operationName").and_then(localized)),
        category: owned(text_at(o, "category")),
        status: owned(text_at(o, "status")),
        sub_status: owned(text_at(o, "subStatus")),
        caller: owned(text_at(o, "caller")),
        caller_ip: owned(path(o, &["httpRequest", "clientIpAddress"]).and_then(|v| text(&v))),
        correlation_id: owned(text_at(o, "correlationId")),
        level: owned(text_at(o, "level")),
        description: owned(text_at(o, "description")),
        properties: get(o, "properties").and_then(as_object),
        ..Event::default()
    };
    identity(&mut ev, claims.as_deref(), authorization.as_deref());
    ev
}

fn from_record(o: &Map<String, Value>) -> Event<'static> {
    let identity_obj = get(o, "identity").and_then(as_map);
    let claims = identity_obj
        .as_deref()
        .and_then(|i| get(i, "claims"))
        .and_then(as_map);
    let authorization = identity_obj
        .as_deref()
        .and_then(|i| get(i, "authorization"))
        .and_then(as_map);
    let fields = RecordFields {
        time_raw: owned(text_at(o, "time")),
        resource_id: owned(text_at(o, "resourceId")),
        operation_id: owned(text_at(o, "operationName")),
        category: owned(text_at(o, "category")),
        status: owned(text_at(o, "resultType")),
        sub_status: owned(text_at(o, "resultSignature")),
        caller: owned(text_at(o, "caller")),
        caller_ip: owned(text_at(o, "callerIpAddress")),
        correlation_id: owned(text_at(o, "correlationId")),
        level: owned(text_at(o, "level")),
        description: owned(text_at(o, "resultDescription")),
        properties: get(o, "properties").and_then(as_object),
    };
    let mut ev = Event::default();
    fill_from_record_fields(
        &mut ev,
        fields,
        Claims::of(claims.as_deref()),
        principal_type(authorization.as_deref()),
    );
    ev
}

/// What a record (`records` schema) says, field by field, before normalization: read from a
/// parsed object by [`from_record`], or straight from the line by [`super::record_line`].
pub struct RecordFields<'a> {
    pub time_raw: Text<'a>,
    pub resource_id: Text<'a>,
    pub operation_id: Text<'a>,
    /// The top-level `category`.
    pub category: Text<'a>,
    pub status: Text<'a>,
    pub sub_status: Text<'a>,
    pub caller: Text<'a>,
    pub caller_ip: Text<'a>,
    pub correlation_id: Text<'a>,
    pub level: Text<'a>,
    pub description: Text<'a>,
    pub properties: Option<Map<String, Value>>,
}

/// Fills `ev`, a default one, from a record's fields. In place, as the fast path reads a
/// line into one event per line: an event is some 600 bytes, and each move of one was a copy.
#[inline]
pub(super) fn fill_from_record_fields<'a>(
    ev: &mut Event<'a>,
    f: RecordFields<'a>,
    claims: Claims<'a>,
    principal_type: Text<'a>,
) {
    // `category` is the operation type (Write/Delete/Action) or the event category; the event
    // category proper is `properties.eventCategory`, "Administrative" when absent.
    ev.category = f
        .properties
        .as_ref()
        .and_then(|p| owned(text_at(p, "eventCategory")))
        .or_else(|| {
            f.category.filter(|c| {
                !["write", "delete", "action"]
                    .iter()
                    .any(|kind| c.eq_ignore_ascii_case(kind))
            })
        })
        .or(Some(Cow::Borrowed("Administrative")));
    ev.event_id = f
        .properties
        .as_ref()
        .and_then(|p| owned(text_at(p, "eventDataId")));
    ev.time_raw = f.time_raw;
    ev.resource_id = f.resource_id;
    ev.operation_id = f.operation_id;
    ev.status = f.status;
    ev.sub_status = f.sub_status;
    ev.caller = f.caller;
    ev.caller_ip = f.caller_ip;
    ev.correlation_id = f.correlation_id;
    ev.level = f.level;
    ev.description = f.description;
    ev.properties = f.properties;
    fill_identity(ev, claims, principal_type);
}

fn from_log_analytics(o: &Map<String, Value>) -> Event<'static> {
    let pick = |keys: &[&str]| owned(keys.iter().find_map(|k| text_at(o, k)));
    let pick_obj = |keys: &[&str]| keys.iter().find_map(|k| get(o, k).and_then(as_object));
    let pick_map = |keys: &[&str]| keys.iter().find_map(|k| get(o, k).and_then(as_map));
    let claims = pick_map(&["Claims_d", "Claims"]);
    let authorization = pick_map(&["Authorization_d", "Authorization"]);
    let http = pick_map(&["HTTPRequest"]);
    let time_raw = pick(&[
        "TimeGenerated",
        "TimeGenerated [UTC]",
        "EventSubmissionTimestamp",
    ]);
    let mut ev = Event {
        event_id: pick(&["EventDataId"]),
        time_raw,
        subscription_id: pick(&["SubscriptionId", "_SubscriptionId"]),
        resource_group: pick(&["ResourceGroup"]),
        resource_id: pick(&["ResourceId", "_ResourceId"]),
        operation_id: pick(&["OperationNameValue"]),
        operation_name: pick(&["OperationName"]),
        category: pick(&["CategoryValue", "Category"]),
        status: pick(&["ActivityStatusValue", "ActivityStatus"]),
        sub_status: pick(&["ActivitySubstatusValue", "ActivitySubstatus"]),
        caller: pick(&["Caller"]),
        caller_ip: pick(&["CallerIpAddress"])
            .or_else(|| owned(http.as_ref().and_then(|h| text_at(h, "clientIpAddress")))),
        correlation_id: pick(&["CorrelationId"]),
        level: pick(&["Level"]),
        description: pick(&["Description"]),
        properties: pick_obj(&["Properties_d", "Properties"]),
        ..Event::default()
    };
    if ev.operation_id.is_none() {
        // Old rows carry only the localized `OperationName`; keep it as the display name and
        // map it to an id when it is one jitaudit knows.
        ev.operation_id = ev
            .operation_name
            .as_deref()
            .and_then(display_names::operation_for_display_name)
            .map(|op| Cow::Owned(op.to_string()));
    }
    identity(&mut ev, claims.as_deref(), authorization.as_deref());
    ev
}

/// The claims identities are read from.
#[derive(Default)]
pub struct Claims<'a> {
    pub upn: Text<'a>,
    pub oid: Text<'a>,
    pub app_id: Text<'a>,
    pub ipaddr: Text<'a>,
    pub idtyp: Text<'a>,
}

impl Claims<'static> {
    fn of(claims: Option<&Map<String, Value>>) -> Claims<'static> {
        let claim =
            |keys: &[&str]| owned(claims.and_then(|c| keys.iter().find_map(|k| text_at(c, k))));
        Claims {
            upn: claim(UPN_CLAIMS),
            oid: claim(OID_CLAIMS),
            app_id: claim(APPID_CLAIMS),
            ipaddr: claim(&["ipaddr"]),
            idtyp: claim(&["idtyp"]),
        }
    }
}

/// `evidence.principalType` of an `authorization` object.
fn principal_type(auth: Option<&Map<String, Value>>) -> Text<'static> {
    owned(
        auth.and_then(|a| path(a, &["evidence", "principalType"]))
            .and_then(|v| text(&v)),
    )
}

/// Fills caller, app id, object id and caller kind from claims and authorization evidence.
fn identity(
    ev: &mut Event<'_>,
    claims: Option<&Map<String, Value>>,
    auth: Option<&Map<String, Value>>,
) {
    fill_identity(ev, Claims::of(claims), principal_type(auth));
}

fn fill_identity<'a>(ev: &mut Event<'a>, claims: Claims<'a>, principal_type: Text<'a>) {
    let Claims {
        upn,
        oid,
        app_id,
        ipaddr,
        idtyp,
    } = claims;
    ev.app_id = app_id;
    ev.object_id = oid.clone();
    if ev.caller_ip.is_none() {
        ev.caller_ip = ipaddr;
    }
    if ev.caller.is_none() {
        ev.caller = upn
            .clone()
            .or_else(|| oid.clone())
            .or_else(|| ev.app_id.clone());
    }
    let is = |v: &Text<'_>, k: &str| v.as_deref().is_some_and(|v| v.eq_ignore_ascii_case(k));
    // The token says who called: claims that name a user (a UPN, `idtyp` user) make the
    // record the user's even when the authorization evidence names a service principal or a
    // group (the right came through one); one person, one identity (issue 29).
    ev.caller_kind = Some(match () {
        _ if is(&idtyp, "user") || upn.is_some() => caller_kind::USER,
        _ if is(&principal_type, "user") => caller_kind::USER,
        _ if is(&principal_type, "serviceprincipal") || is(&idtyp, "app") => {
            caller_kind::SERVICE_PRINCIPAL
        }
        _ if ev.caller.as_deref().is_some_and(|c| c.contains('@')) => caller_kind::USER,
        _ if ev.app_id.is_some() && ev.caller.as_deref().is_some_and(is_guid) => {
            caller_kind::SERVICE_PRINCIPAL
        }
        _ => caller_kind::UNKNOWN,
    });
}

/// Fills what every shape leaves to inference and checks the record is usable.
pub fn complete(ev: &mut Event<'_>) -> Result<(), Reject> {
    complete_with(ev, ResourceParts::Parse)
}

/// How [`complete_with`] comes by the subscription, resource group and type of a resource id.
pub(crate) enum ResourceParts<'p> {
    /// Takes the id apart.
    Parse,
    /// Finds the parts of ids taken apart before in a cache.
    Cached(&'p mut IdParts),
    /// Takes only the subscription, leaving the group and type as the record gave them: for a
    /// table that keeps neither and does not count the values of columns it does not keep (a
    /// query's key-only load, which keeps the subscription to count hours by; taking every id
    /// apart was 3% of its instructions, counted by callgrind; issue 26).
    Subscription,
}

/// Whether every port an initiate's request body asks for (`virtualMachines[].ports[].number`)
/// is a whole number from 0 to 65535. A body that is absent or not JSON is the ledger's to
/// judge; a port that cannot be one makes the record a rejected one. Both readers of a line
/// come here with the properties of a JIT request, whichever columns are kept.
fn request_ports_are_ports(props: &Map<String, Value>) -> bool {
    let Some(body) = get(props, "requestbody").and_then(as_object) else {
        return true;
    };
    objects(&body, "virtualMachines").iter().all(|vm| {
        objects(vm, "ports").iter().all(|port| {
            get(port, "number")
                .and_then(Value::as_u64)
                .is_some_and(|n| n <= 65535)
        })
    })
}

/// [`complete`], with the parts of resource ids come by as `parts` says.
pub(crate) fn complete_with(ev: &mut Event<'_>, parts: ResourceParts<'_>) -> Result<(), Reject> {
    if ev.time.is_none() {
        ev.time = Some(time_of(ev.time_raw.take())?);
    }
    let op = ev.operation_id.take().map(lowercase);
    if op.is_none() && ev.operation_name.is_none() {
        return Err(Reject::MissingOperation);
    }
    if op.as_deref() == Some(crate::schema::ops::JIT_INITIATE)
        && let Some(props) = &ev.properties
        && !request_ports_are_ports(props)
    {
        return Err(Reject::BadPort);
    }
    ev.operation_id = op;
    if let Some(id) = ev.resource_id.clone() {
        // Parts of a borrowed id are borrowed too (cloning a borrowed id copies a reference).
        let (subscription, group, resource_type) = match id {
            Cow::Borrowed(id) => {
                let (subscription, group, resource_type) = match parts {
                    ResourceParts::Cached(ids) => ids.of(id),
                    ResourceParts::Subscription => (normalize::subscription_of(id), None, None),
                    ResourceParts::Parse => {
                        let parsed = parse_resource_id(id);
                        let ResourceId {
                            subscription,
                            resource_group,
                            resource_type,
                            ..
                        } = parsed;
                        (subscription, resource_group, resource_type)
                    }
                };
                (
                    subscription.map(Cow::Borrowed),
                    group.map(Cow::Borrowed),
                    resource_type,
                )
            }
            Cow::Owned(id) => {
                let parsed = parse_resource_id(&id);
                let owned_part = |part: Option<&str>| part.map(|p| Cow::Owned(p.to_string()));
                (
                    owned_part(parsed.subscription),
                    owned_part(parsed.resource_group),
                    parsed.resource_type.map(|t| Cow::Owned(t.into_owned())),
                )
            }
        };
        if ev.subscription_id.is_none() {
            ev.subscription_id = subscription;
        }
        if ev.resource_group.is_none() {
            ev.resource_group = group;
        }
        if ev.resource_type.is_none() {
            ev.resource_type = resource_type;
        }
    }
    ev.subscription_id = ev.subscription_id.take().map(|s| {
        // The usual case, a bare GUID, lower-cased where it is.
        if is_guid(&s) {
            lowercase(s)
        } else {
            Cow::Owned(canonical_subscription(&s))
        }
    });
    ev.status = ev
        .status
        .take()
        .and_then(|s| canonical(s, normalize::normalize_status));
    ev.level = ev
        .level
        .take()
        .and_then(|s| canonical(s, normalize::normalize_level));
    if let Some(props) = ev.properties.take() {
        ev.properties = Some(flatten_properties(props));
    }
    if ev.caller_kind.is_none() {
        ev.caller_kind = Some(match ev.caller.as_deref() {
            Some(c) if c.contains('@') => caller_kind::USER,
            _ => caller_kind::UNKNOWN,
        });
    }
    Ok(())
}

/// `s` in ASCII lower case, copied only when it has an upper-case letter.
fn lowercase(s: Cow<'_, str>) -> Cow<'_, str> {
    if !s.bytes().any(|b| b.is_ascii_uppercase()) {
        return s;
    }
    let mut s = s.into_owned();
    s.make_ascii_lowercase();
    Cow::Owned(s)
}

/// The one spelling `normalize` gives `s` (a status, a level), borrowed from `s` or from the
/// canonical spellings where it can be.
fn canonical<'a>(s: Cow<'a, str>, normalize: fn(&str) -> Option<Cow<'_, str>>) -> Text<'a> {
    match s {
        Cow::Borrowed(b) => normalize(b),
        Cow::Owned(o) => normalize(&o).map(|c| Cow::Owned(c.into_owned())),
    }
}

/// Subscription GUIDs in lower case, so that joins see one spelling; other values as given.
pub fn canonical_subscription(s: &str) -> String {
    let s = s.trim().trim_start_matches("/subscriptions/");
    if is_guid(s) {
        s.to_ascii_lowercase()
    } else {
        s.to_string()
    }
}

/// Lifts `eventProperties` (the storage and Log Analytics nesting of what REST puts directly
/// in `properties`) to the top level, so `properties` reads the same whatever the shape.
/// Keys already at the top level win; nothing is dropped.
fn flatten_properties(mut props: Map<String, Value>) -> Map<String, Value> {
    let key = props
        .keys()
        .find(|k| k.eq_ignore_ascii_case("eventProperties"))
        .cloned();
    if let Some(key) = key
        && let Some(inner) = props.get(&key).and_then(as_object)
    {
        props.remove(&key);
        for (k, v) in inner {
            props.entry(k).or_insert(v);
        }
    }
    props
}

#[cfg(test)]
mod tests;
