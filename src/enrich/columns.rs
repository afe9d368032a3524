//! Small pieces every enrichment uses: columns made from vectors, and how a source prefix is
//! read (a list of prefixes, and whether one names everyone).

use ipnet::IpNet;
use polars::prelude::*;

pub(crate) fn col_str(name: &str, v: Vec<Option<String>>) -> Column {
    Series::new(name.into(), v).into_column()
}
pub(crate) fn col_bool(name: &str, v: Vec<Option<bool>>) -> Column {
    Series::new(name.into(), v).into_column()
}
pub(crate) fn col_int(name: &str, v: Vec<Option<i64>>) -> Column {
    Series::new(name.into(), v).into_column()
}

/// A source names everyone: `*`, `Any`, `Internet`, 0.0.0.0/0, ::/0, or a prefix shorter than
/// `min_prefix_length` (for IPv6, that many bits plus 96, the same number of addresses).
pub fn is_wide(source: &str, min_prefix_length: u8) -> bool {
    let s = source.trim();
    if ["*", "any", "internet", "0.0.0.0/0", "::/0", "0.0.0.0"]
        .contains(&s.to_ascii_lowercase().as_str())
    {
        return true;
    }
    match s.parse::<IpNet>() {
        Ok(IpNet::V4(n)) => n.prefix_len() < min_prefix_length,
        Ok(IpNet::V6(n)) => (n.prefix_len() as u16) < (min_prefix_length as u16 + 96).min(128),
        Err(_) => false,
    }
}

pub(crate) fn prefixes(list: Option<&str>) -> Vec<&str> {
    list.unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}
