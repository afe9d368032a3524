//! The time window a command looks at: `--from T --to T`, or `--since 7d` back from now
//! (`SOURCE_DATE_EPOCH` pins now, so runs are reproducible).

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use polars::prelude::{BooleanChunked, DataFrame};

use crate::normalize::{parse_iso_duration, parse_time};

/// A half-open UTC window `[from, to)` in nanoseconds; either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// The moment the run happens: `SOURCE_DATE_EPOCH` when set, else the clock.
pub fn now() -> Result<DateTime<Utc>> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => {
            let secs: i64 = v
                .trim()
                .parse()
                .with_context(|| format!("SOURCE_DATE_EPOCH={v} is not a number of seconds"))?;
            DateTime::from_timestamp(secs, 0).context("SOURCE_DATE_EPOCH out of range")
        }
        Err(_) => Ok(Utc::now()),
    }
}

/// Parses `7d`, `12h`, `30m`, `2w` or an ISO 8601 duration into seconds.
pub fn parse_since(text: &str) -> Result<i64> {
    let t = text.trim();
    if let Some((n, unit)) = t.char_indices().last().map(|(i, c)| (&t[..i], c))
        && let Ok(n) = n.parse::<i64>()
    {
        let mult = match unit.to_ascii_lowercase() {
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => bail!(
                "--since {t}: use a number and m, h, d or w (e.g. 7d), or an ISO 8601 duration"
            ),
        };
        return Ok(n * mult);
    }
    parse_iso_duration(t).with_context(|| format!("--since {t}: use e.g. 7d, 12h or P7D"))
}

impl Window {
    pub fn resolve(from: Option<&str>, to: Option<&str>, since: Option<&str>) -> Result<Window> {
        let time = |flag: &str, t: &str| {
            parse_time(t).with_context(|| {
                format!("{flag} {t}: not a timestamp (use RFC 3339, e.g. 2026-11-01T00:00:00Z)")
            })
        };
        let mut w = Window::default();
        if let Some(s) = since {
            let now = now()?.timestamp_nanos_opt().context("now out of range")?;
            w.from = Some(now - parse_since(s)? * 1_000_000_000);
            w.to = Some(now);
        }
        if let Some(f) = from {
            w.from = Some(time("--from", f)?);
        }
        if let Some(t) = to {
            w.to = Some(time("--to", t)?);
        }
        if let (Some(f), Some(t)) = (w.from, w.to)
            && f >= t
        {
            bail!("the window is empty: --from must be before --to");
        }
        Ok(w)
    }

    pub fn contains(&self, t: i64) -> bool {
        self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|e| t < e)
    }

    /// Rows of `df` whose `column` falls in the window; rows with no time are kept when
    /// `keep_null` (an open NSG allow rule has no request time but is current).
    pub fn filter(&self, df: &DataFrame, column: &str, keep_null: bool) -> Result<DataFrame> {
        if self.from.is_none() && self.to.is_none() {
            return Ok(df.clone());
        }
        let times = df.column(column)?.datetime()?.physical().clone();
        let mask: BooleanChunked = times
            .iter()
            .map(|t| Some(t.map_or(keep_null, |t| self.contains(t))))
            .collect();
        Ok(df.filter(&mask)?)
    }
}
