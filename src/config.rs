//! `jitaudit.toml`: what the rules consider normal. Read from `--config FILE`, else
//! `./jitaudit.toml`, else the defaults. Parsed in two steps: serde reads the raw text
//! (refusing unknown keys), then every value is checked and compiled (time zones, CIDRs, ISO
//! 8601 durations, the justification pattern) into a [`Config`] the rules use as it is. Every
//! error names the file, the line and the key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use chrono::{NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use ipnet::IpNet;
use regex::Regex;
use serde::Deserialize;
use toml::Spanned;

use crate::catalogue;
use crate::normalize::parse_iso_duration;
use crate::severity::Severity;

/// The compiled configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it came from (`None`: built-in defaults).
    pub source: Option<PathBuf>,
    /// The text it was read from, for the report's method section.
    pub text: String,
    pub timezone: Tz,
    pub management_ports: Vec<u16>,
    pub business_hours: BusinessHours,
    pub approved_sources: Vec<IpNet>,
    pub min_prefix_length: u8,
    pub max_policy_duration: i64,
    pub max_request_duration: i64,
    pub max_continuous_access: i64,
    pub burst_requests_per_day: u32,
    pub baseline_days: u32,
    pub justification_pattern: Option<Regex>,
    pub allowed_requestors: Vec<String>,
    pub allow_service_principals: bool,
    /// Callers (lower case) allowed to write and delete JIT policies without a finding.
    pub policy_writers: Vec<String>,
    /// Per-caller business-hours zone, keyed by lower-case caller.
    pub caller_zones: BTreeMap<String, Tz>,
    /// Severity overrides by rule id.
    pub severity: BTreeMap<String, Severity>,
    pub suppressions: Vec<Suppression>,
}

#[derive(Debug, Clone)]
pub struct BusinessHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub days: Vec<Weekday>,
    pub holidays: Vec<NaiveDate>,
}

/// A `[[suppress]]` entry: findings of `rule` that match every field given are suppressed,
/// with a reason, until `expires`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub rule: String,
    pub vm: Option<String>,
    pub caller: Option<String>,
    pub subscription: Option<String>,
    pub reason: String,
    pub expires: Option<NaiveDate>,
    /// 1-based line of the entry in the file, for the report.
    pub line: usize,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    timezone: Option<Spanned<String>>,
    management_ports: Option<Spanned<Vec<u16>>>,
    #[serde(default)]
    business_hours: RawHours,
    #[serde(default)]
    network: RawNetwork,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    baseline: RawBaseline,
    #[serde(default)]
    justification: RawJustification,
    #[serde(default)]
    requestors: RawRequestors,
    #[serde(default)]
    policy_changes: RawPolicyChanges,
    #[serde(default)]
    callers: BTreeMap<String, RawCaller>,
    #[serde(default)]
    severity: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    suppress: Vec<Spanned<RawSuppression>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHours {
    start: Option<Spanned<String>>,
    end: Option<Spanned<String>>,
    days: Option<Spanned<Vec<String>>>,
    holidays: Option<Spanned<Vec<String>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetwork {
    approved_sources: Option<Spanned<Vec<String>>>,
    min_prefix_length: Option<Spanned<u8>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    max_policy_duration: Option<Spanned<String>>,
    max_request_duration: Option<Spanned<String>>,
    max_continuous_access: Option<Spanned<String>>,
    burst_requests_per_day: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBaseline {
    days: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJustification {
    pattern: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequestors {
    allowed: Option<Vec<String>>,
    allow_service_principals: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicyChanges {
    allowed_callers: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCaller {
    timezone: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuppression {
    rule: String,
    vm: Option<String>,
    caller: Option<String>,
    subscription: Option<String>,
    reason: String,
    expires: Option<String>,
}

/// A rule id the catalogue has (in any case), or why not: a typo would otherwise override or
/// suppress nothing, silently.
fn check_rule(id: &str) -> std::result::Result<(), String> {
    if catalogue::rule(id).is_some() {
        return Ok(());
    }
    let nearest = catalogue::RULES
        .iter()
        .map(|r| r.id)
        .min_by_key(|r| strsim::levenshtein(&r.to_ascii_lowercase(), &id.to_ascii_lowercase()))
        .unwrap_or_default();
    Err(format!(
        "no rule {id} in the catalogue (did you mean {nearest}? `jitaudit rules` lists them)"
    ))
}

/// The built-in defaults, as a config file would write them.
pub const DEFAULTS: &str = r#"timezone = "UTC"
management_ports = [22, 3389, 5985, 5986]

[business_hours]
start = "08:00"
end = "18:00"
days = ["Mon", "Tue", "Wed", "Thu", "Fri"]
holidays = []

[network]
approved_sources = []
min_prefix_length = 24

[limits]
max_policy_duration = "PT3H"
max_request_duration = "PT3H"
max_continuous_access = "PT4H"
burst_requests_per_day = 8

[baseline]
days = 14

[justification]
pattern = ""

[requestors]
allowed = []
allow_service_principals = true

[policy_changes]
allowed_callers = []
"#;

impl Config {
    /// `--config FILE`, else `./jitaudit.toml` when present, else the defaults.
    pub fn load(explicit: Option<&Path>) -> Result<Config> {
        let path = match explicit {
            Some(p) => Some(p.to_path_buf()),
            None => Some(PathBuf::from("jitaudit.toml")).filter(|p| p.is_file()),
        };
        match path {
            Some(p) => {
                let text = std::fs::read_to_string(&p)
                    .with_context(|| format!("reading config {}", p.display()))?;
                let mut c = Config::parse(&text, &p.display().to_string())?;
                c.source = Some(p);
                Ok(c)
            }
            None => Config::parse(DEFAULTS, "built-in defaults"),
        }
    }

    /// Parses config text; `name` is used in error messages.
    pub fn parse(text: &str, name: &str) -> Result<Config> {
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(0);
            anyhow!("{name}:{line}: {}", e.message())
        })?;
        let at = |span: std::ops::Range<usize>| format!("{name}:{}", line_of(text, span.start));
        let zone = |s: &Spanned<String>, key: &str| -> Result<Tz> {
            s.get_ref().parse::<Tz>().map_err(|_| {
                anyhow!(
                    "{}: {key} = \"{}\" is not an IANA time zone (e.g. \"Europe/Berlin\")",
                    at(s.span()),
                    s.get_ref()
                )
            })
        };
        let duration = |s: &Option<Spanned<String>>, key: &str, default: i64| -> Result<i64> {
            match s {
                None => Ok(default),
                Some(s) => parse_iso_duration(s.get_ref())
                    .map_err(|e| anyhow!("{}: {key}: {e}", at(s.span()))),
            }
        };
        let time = |s: &Option<Spanned<String>>, key: &str, default: &str| -> Result<NaiveTime> {
            let (value, place) = match s {
                Some(s) => (s.get_ref().as_str(), at(s.span())),
                None => (default, name.to_string()),
            };
            NaiveTime::parse_from_str(value, "%H:%M")
                .map_err(|_| anyhow!("{place}: business_hours.{key} = \"{value}\" is not HH:MM"))
        };
        let timezone = match &raw.timezone {
            Some(s) => zone(s, "timezone")?,
            None => Tz::UTC,
        };
        let days = match &raw.business_hours.days {
            None => vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            Some(d) => d
                .get_ref()
                .iter()
                .map(|day| {
                    day.parse::<Weekday>().map_err(|_| {
                        anyhow!(
                            "{}: business_hours.days: \"{day}\" is not a weekday (Mon..Sun)",
                            at(d.span())
                        )
                    })
                })
                .collect::<Result<_>>()?,
        };
        let holidays = match &raw.business_hours.holidays {
            None => Vec::new(),
            Some(h) => h
                .get_ref()
                .iter()
                .map(|d| {
                    NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                        anyhow!(
                            "{}: business_hours.holidays: \"{d}\" is not a date (YYYY-MM-DD)",
                            at(h.span())
                        )
                    })
                })
                .collect::<Result<_>>()?,
        };
        let approved_sources = match &raw.network.approved_sources {
            None => Vec::new(),
            Some(list) => list
                .get_ref()
                .iter()
                .map(|c| {
                    parse_net(c).map_err(|_| {
                        anyhow!(
                            "{}: network.approved_sources: \"{c}\" is not an IP address or CIDR",
                            at(list.span())
                        )
                    })
                })
                .collect::<Result<_>>()?,
        };
        let min_prefix_length = match &raw.network.min_prefix_length {
            Some(m) if *m.get_ref() > 128 => bail!(
                "{}: network.min_prefix_length must be 0 to 128",
                at(m.span())
            ),
            Some(m) => *m.get_ref(),
            None => 24,
        };
        let justification_pattern = match &raw.justification.pattern {
            Some(p) if !p.get_ref().is_empty() => Some(Regex::new(p.get_ref()).map_err(|e| {
                anyhow!(
                    "{}: justification.pattern is not a valid regex: {e}",
                    at(p.span())
                )
            })?),
            _ => None,
        };
        let mut caller_zones = BTreeMap::new();
        for (caller, c) in &raw.callers {
            caller_zones.insert(
                caller.to_ascii_lowercase(),
                zone(&c.timezone, &format!("callers.\"{caller}\".timezone"))?,
            );
        }
        let mut severity = BTreeMap::new();
        for (rule, s) in &raw.severity {
            check_rule(rule).map_err(|e| anyhow!("{}: severity.{rule}: {e}", at(s.span())))?;
            let Some(level) = Severity::parse(s.get_ref()) else {
                bail!(
                    "{}: severity.{rule} = \"{}\": expected info, low, medium, high or critical",
                    at(s.span()),
                    s.get_ref()
                );
            };
            severity.insert(rule.to_ascii_uppercase(), level);
        }
        let mut suppressions = Vec::new();
        for s in &raw.suppress {
            let line = line_of(text, s.span().start);
            let r = s.get_ref();
            let expires = r
                .expires
                .as_deref()
                .map(|d| {
                    NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                        anyhow!(
                            "{name}:{line}: suppress.expires \"{d}\" is not a date (YYYY-MM-DD)"
                        )
                    })
                })
                .transpose()?;
            if r.vm.is_none() && r.caller.is_none() && r.subscription.is_none() {
                bail!(
                    "{name}:{line}: a [[suppress]] entry needs vm, caller or subscription, so it cannot silence a whole rule by accident"
                );
            }
            if r.reason.trim().is_empty() {
                bail!("{name}:{line}: a [[suppress]] entry needs a reason");
            }
            check_rule(&r.rule).map_err(|e| anyhow!("{name}:{line}: suppress.rule: {e}"))?;
            suppressions.push(Suppression {
                rule: r.rule.to_ascii_uppercase(),
                vm: r.vm.clone(),
                caller: r.caller.clone(),
                subscription: r.subscription.clone(),
                reason: r.reason.clone(),
                expires,
                line,
            });
        }
        Ok(Config {
            source: None,
            text: text.to_string(),
            timezone,
            management_ports: raw
                .management_ports
                .map(Spanned::into_inner)
                .unwrap_or_else(|| vec![22, 3389, 5985, 5986]),
            business_hours: BusinessHours {
                start: time(&raw.business_hours.start, "start", "08:00")?,
                end: time(&raw.business_hours.end, "end", "18:00")?,
                days,
                holidays,
            },
            approved_sources,
            min_prefix_length,
            max_policy_duration: duration(
                &raw.limits.max_policy_duration,
                "limits.max_policy_duration",
                3 * 3600,
            )?,
            max_request_duration: duration(
                &raw.limits.max_request_duration,
                "limits.max_request_duration",
                3 * 3600,
            )?,
            max_continuous_access: duration(
                &raw.limits.max_continuous_access,
                "limits.max_continuous_access",
                4 * 3600,
            )?,
            burst_requests_per_day: raw.limits.burst_requests_per_day.unwrap_or(8),
            baseline_days: raw.baseline.days.unwrap_or(14),
            justification_pattern,
            allowed_requestors: raw
                .requestors
                .allowed
                .unwrap_or_default()
                .iter()
                .map(|r| r.to_ascii_lowercase())
                .collect(),
            allow_service_principals: raw.requestors.allow_service_principals.unwrap_or(true),
            policy_writers: raw
                .policy_changes
                .allowed_callers
                .unwrap_or_default()
                .iter()
                .map(|r| r.to_ascii_lowercase())
                .collect(),
            caller_zones,
            severity,
            suppressions,
        })
    }

    /// The business-hours zone of a caller: their own, else the configured one.
    pub fn zone_for(&self, caller: Option<&str>) -> Tz {
        caller
            .and_then(|c| self.caller_zones.get(&c.to_ascii_lowercase()))
            .copied()
            .unwrap_or(self.timezone)
    }
}

/// An IP address (as a host prefix) or a CIDR.
pub fn parse_net(s: &str) -> Result<IpNet, ipnet::AddrParseError> {
    let s = s.trim();
    s.parse::<IpNet>().or_else(|e| {
        s.parse::<std::net::IpAddr>()
            .map(IpNet::from)
            .map_err(|_| e)
    })
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_and_match_the_documented_values() {
        let c = Config::parse(DEFAULTS, "defaults").unwrap();
        assert_eq!(c.timezone, Tz::UTC);
        assert_eq!(c.max_request_duration, 3 * 3600);
        assert_eq!(c.burst_requests_per_day, 8);
        assert!(c.approved_sources.is_empty());
    }

    /// A rule id the catalogue does not have, in `[severity]` or `[[suppress]]`, is an error
    /// naming the line and the nearest id: a typo would otherwise change nothing, silently.
    #[test]
    fn rule_ids_are_checked_against_the_catalogue() {
        let e = Config::parse("[severity]\nJIT08 = \"high\"\n", "t.toml").unwrap_err();
        let e = e.to_string();
        assert!(
            e.starts_with("t.toml:2:") && e.contains("no rule JIT08"),
            "{e}"
        );
        let e = Config::parse(
            "\n[[suppress]]\nrule = \"JIT0005\"\nvm = \"a\"\nreason = \"r\"\n",
            "t.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("t.toml:2:") && e.contains("did you mean JIT005"),
            "{e}"
        );
        let ok = Config::parse(
            "[severity]\njit008 = \"HIGH\"\n[[suppress]]\nrule = \"jit005\"\nvm = \"a\"\nreason = \"r\"\n",
            "t.toml",
        )
        .unwrap();
        assert_eq!(ok.severity.get("JIT008"), Some(&Severity::High));
    }

    #[test]
    fn errors_name_the_key_and_line() {
        let e = Config::parse(
            "timezone = \"UTC\"\n[network]\napproved_sources = [\"10.0.0.0/33\"]\n",
            "t.toml",
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("t.toml:3:"), "{e}");
        assert!(e.to_string().contains("approved_sources"), "{e}");
        let e = Config::parse("\n\ntimezone = \"Mars/Olympus\"\n", "t.toml").unwrap_err();
        assert!(e.to_string().starts_with("t.toml:3:"), "{e}");
        let e =
            Config::parse("[limits]\nmax_request_duration = \"3 hours\"\n", "t.toml").unwrap_err();
        assert!(
            e.to_string().starts_with("t.toml:2:")
                && e.to_string().contains("max_request_duration"),
            "{e}"
        );
        let e = Config::parse("[limits]\nbogus = 1\n", "t.toml").unwrap_err();
        assert!(
            e.to_string().starts_with("t.toml:2:") && e.to_string().contains("bogus"),
            "{e}"
        );
    }

    #[test]
    fn the_example_from_the_issue_parses() {
        let text = r#"timezone = "Europe/Berlin"
management_ports = [22, 3389, 5985, 5986]
[business_hours]
start = "08:00"
end = "18:00"
days = ["Mon", "Tue", "Wed", "Thu", "Fri"]
holidays = ["2026-12-25"]
[network]
approved_sources = ["203.0.113.0/24"]
min_prefix_length = 24
[limits]
max_policy_duration = "PT3H"
max_request_duration = "PT3H"
max_continuous_access = "PT4H"
burst_requests_per_day = 8
[baseline]
days = 14
[justification]
pattern = "^(CHG|INC)[0-9]+"
[requestors]
allowed = []
allow_service_principals = true
[callers."alice@contoso.com"]
timezone = "America/New_York"
[[suppress]]
rule = "JIT005"
vm = "legacy-build-01"
reason = "decommissioned in December, CHG10442"
expires = "2027-01-31"
"#;
        let c = Config::parse(text, "t").unwrap();
        assert_eq!(
            c.zone_for(Some("ALICE@contoso.com")),
            chrono_tz::America::New_York
        );
        assert_eq!(c.suppressions[0].line, 25, "the [[suppress]] header line");
        assert_eq!(c.approved_sources[0].to_string(), "203.0.113.0/24");
    }
}
