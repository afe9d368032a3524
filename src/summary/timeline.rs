//! One line of a caller's timeline ([`Entry`]) and what kind of line it is ([`Kind`]), as
//! [`super::caller`] makes them and the writers show them.

use std::borrow::Cow;

use serde::Serialize;

use crate::normalize::{format_time, name_of};

/// What kind of entry a timeline row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    JitRequest,
    Activity,
    NsgChange,
    FirewallChange,
    Finding,
}

impl Kind {
    /// The kind as JSON and the page's styles name it (CSV and the terminal show the label).
    pub fn key(self) -> &'static str {
        match self {
            Kind::JitRequest => "jit_request",
            Kind::Activity => "activity",
            Kind::NsgChange => "nsg_change",
            Kind::FirewallChange => "firewall_change",
            Kind::Finding => "finding",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::JitRequest => "JIT request",
            Kind::Activity => "activity",
            Kind::NsgChange => "NSG change",
            Kind::FirewallChange => "firewall change",
            Kind::Finding => "finding",
        }
    }
}

/// One line of the timeline. Its texts borrow from the tables where they are a value of one
/// (a busy identity has hundreds of thousands of entries: each would otherwise copy its
/// operation, resource id, status, address and correlation id), and what follows from another
/// field (the time as text, the resource's name) is worked out when it is written: an entry
/// holding them was 290 bytes instead of 210, 35 MB of a 5 GB log's busiest caller (issue 26).
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub time: Option<i64>,
    /// End of an open-port window, for JIT requests.
    pub end: Option<i64>,
    pub kind: Kind,
    pub what: Cow<'a, str>,
    pub resource: Cow<'a, str>,
    pub status: Cow<'a, str>,
    pub address: Cow<'a, str>,
    pub detail: Cow<'a, str>,
    pub reference: Cow<'a, str>,
    /// What happened, as a short sentence for the terminal, where the entry has more to say
    /// than `what` ("opened sql-01:3389 to 203.0.113.11 for 2h: CHG150001"); empty otherwise.
    pub line: String,
}

impl Entry<'_> {
    /// The time as RFC 3339 in UTC; empty when the entry has none.
    pub fn time_utc(&self) -> String {
        self.time.map(format_time).unwrap_or_default()
    }

    /// The last segment of `resource`, for display.
    pub fn resource_name(&self) -> &str {
        name_of(&self.resource).unwrap_or("")
    }

    /// The fields JSON and the page show, in their order: the time as text and the
    /// resource's name included, the terminal's `line` and the window's end left out.
    pub fn fields(&self) -> [(&'static str, Cow<'_, str>); 9] {
        [
            ("time_utc", Cow::Owned(self.time_utc())),
            ("kind", Cow::Borrowed(self.kind.key())),
            ("what", Cow::Borrowed(&*self.what)),
            ("resource", Cow::Borrowed(&*self.resource)),
            ("resource_name", Cow::Borrowed(self.resource_name())),
            ("status", Cow::Borrowed(&*self.status)),
            ("address", Cow::Borrowed(&*self.address)),
            ("detail", Cow::Borrowed(&*self.detail)),
            ("reference", Cow::Borrowed(&*self.reference)),
        ]
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.key())
    }
}

impl Serialize for Entry<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let fields = self.fields();
        let mut e = s.serialize_struct("Entry", fields.len())?;
        for (name, value) in &fields {
            e.serialize_field(name, value)?;
        }
        e.end()
    }
}
