//! Timestamps as text, for the formats that write them as text (CSV, PostgreSQL's COPY).

use std::time::{Duration, UNIX_EPOCH};

/// `ms` since the Unix epoch as RFC 3339 in UTC with milliseconds
/// (`2026-11-30T18:00:00.123Z`), which PostgreSQL, DuckDB, BigQuery and ClickHouse all
/// read as a timestamp. `ms` is in `0..=LAST_MS` (rows cap it).
pub(crate) fn rfc3339_ms(ms: i64) -> String {
    let ms = u64::try_from(ms).unwrap_or(0);
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::table::LAST_MS;

    #[test]
    fn the_first_and_last_timestamps() {
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_ms(LAST_MS), "9999-12-31T23:59:59.999Z");
        assert_eq!(rfc3339_ms(1_764_525_600_123), "2025-11-30T18:00:00.123Z");
    }
}
