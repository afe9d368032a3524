//! Which columns of `events` a load fills: a query that reads few of them is spared working
//! out the others.

use std::collections::BTreeSet;

use crate::schema;

/// Which columns of `events` a load fills. A query that reads few of them is spared
/// working out the others (the record's properties above all); they are left null.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum EventColumns {
    #[default]
    All,
    /// These, and always those that tell duplicates apart and count activity per hour; the
    /// second set holds the key columns nothing reads, which are held only as a digest (see
    /// [`crate::tables::digest_key`]).
    Only(BTreeSet<&'static str>, BTreeSet<&'static str>),
    /// [`EventColumns::Only`] for a load read for none but the columns that tell duplicates
    /// apart: every copy of a record has the same values there, so which copy is kept does
    /// not matter, and the values of the other columns need not be worked out even to be
    /// counted (a record's identity is passed over).
    Key(BTreeSet<&'static str>, BTreeSet<&'static str>),
    /// Every column of the records of JIT policies and network security groups (what the
    /// rules and the request ledger read), and only these of the others (`caller`: the
    /// rest of what one identity did).
    Lean(BTreeSet<&'static str>),
}

impl EventColumns {
    /// `names` (of any table; those not of `events` are ignored) and the columns every load
    /// needs: the de-duplication key, and the time and subscription `activity_hours` counts by.
    pub fn only<'a>(names: impl IntoIterator<Item = &'a str>) -> EventColumns {
        let names: BTreeSet<&str> = names.into_iter().collect();
        let always = |c: &str| {
            schema::EVENT_KEY.contains(&c) || c == schema::TIME || c == schema::SUBSCRIPTION_ID
        };
        let set: BTreeSet<&'static str> = schema::EVENTS
            .column_names()
            .filter(|c| always(c) || names.contains(c))
            .collect();
        let key_only = schema::EVENTS
            .column_names()
            .filter(|c| names.contains(c))
            .all(|c| schema::EVENT_KEY.contains(&c));
        // The key's long, distinct values no statement reads (a resource key and a
        // correlation id, about 100 bytes a record) are only compared: a digest of the key
        // stands for them. The time, the operation and the status stay: the hours are counted
        // by the time, the redaction of properties reads the operation, and the other two are
        // a few distinct values shared by every row.
        let digested: BTreeSet<&'static str> = [schema::RESOURCE_KEY, schema::CORRELATION_ID]
            .into_iter()
            .filter(|c| !names.contains(c))
            .collect();
        if set.len() == schema::EVENTS.columns.len() {
            EventColumns::All
        } else if key_only {
            EventColumns::Key(set, digested)
        } else {
            EventColumns::Only(set, digested)
        }
    }

    /// [`EventColumns::Lean`] with `names` and the columns every load needs.
    pub fn lean<'a>(names: impl IntoIterator<Item = &'a str>) -> EventColumns {
        match EventColumns::only(names) {
            EventColumns::Only(set, _) | EventColumns::Key(set, _) => EventColumns::Lean(set),
            all => all,
        }
    }

    /// Whether every row has every column, so the request ledger can be made.
    pub fn fills_requests(&self) -> bool {
        !matches!(self, EventColumns::Only(..) | EventColumns::Key(..))
    }

    /// The key columns held only as a digest of the key (none unless the load is projected).
    pub fn digested(&self) -> Option<&BTreeSet<&'static str>> {
        match self {
            EventColumns::Only(_, d) | EventColumns::Key(_, d) => Some(d),
            _ => None,
        }
    }
}
