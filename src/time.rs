//! Timestamps: the fixed-layout fast paths the parsers use, and the zone
//! arithmetic the rest of the pipeline needs.
//!
//! Log timestamps come in a handful of fixed layouts (see the format modules).
//! Parsing them with a general `strptime` costs more than the rest of a line, so
//! each layout has a hand-written digit reader here that returns seconds since
//! the Unix epoch, plus a one-entry cache ([`ClfCache`]) for the nginx/Apache
//! layout, whose lines arrive many per second with identical stamps.
//!
//! Offsets are seconds east of UTC (`+03:00` is `10800`).

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};

/// Seconds east of UTC.
pub type OffsetSecs = i32;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`). Valid for any year an i64 count of seconds holds.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month, day) of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Seconds since the epoch of a wall-clock time read as if it were UTC.
/// Rejects impossible dates (31 February, hour 25) so that garbage digits are
/// reported as malformed lines rather than turned into odd instants.
pub fn civil_to_secs(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<i64> {
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60
    {
        return None;
    }
    // A leap second (":60") is folded into the next second's bucket.
    Some(days_from_civil(y, mo, d) * 86_400 + (h * 3600 + mi * 60 + s) as i64)
}

/// English month abbreviation (`Jan`…`Dec`, any case) to 1…12.
pub fn month_from_abbrev(b: &[u8]) -> Option<u32> {
    if b.len() != 3 {
        return None;
    }
    let l = [
        b[0].to_ascii_lowercase(),
        b[1].to_ascii_lowercase(),
        b[2].to_ascii_lowercase(),
    ];
    Some(match &l {
        b"jan" => 1,
        b"feb" => 2,
        b"mar" => 3,
        b"apr" => 4,
        b"may" => 5,
        b"jun" => 6,
        b"jul" => 7,
        b"aug" => 8,
        b"sep" => 9,
        b"oct" => 10,
        b"nov" => 11,
        b"dec" => 12,
        _ => return None,
    })
}

#[inline]
fn digit(b: u8) -> Option<u32> {
    if b.is_ascii_digit() {
        Some((b - b'0') as u32)
    } else {
        None
    }
}

#[inline]
fn num2(b: &[u8]) -> Option<u32> {
    Some(digit(b[0])? * 10 + digit(b[1])?)
}

#[inline]
fn num4(b: &[u8]) -> Option<u32> {
    Some(num2(&b[0..2])? * 100 + num2(&b[2..4])?)
}

/// A day of month written either zero-padded (`07`) or space-padded (` 7`).
#[inline]
fn day2(b: &[u8]) -> Option<u32> {
    if b[0] == b' ' {
        digit(b[1])
    } else {
        num2(b)
    }
}

/// `HH:MM:SS` at the start of `b`, as seconds of the day.
fn hms(b: &[u8]) -> Option<(u32, u32, u32)> {
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    Some((num2(&b[0..2])?, num2(&b[3..5])?, num2(&b[6..8])?))
}

/// A numeric zone `+HHMM`, `+HH:MM`, `+HH` or `Z` at the start of `b`:
/// the offset and the bytes used.
pub fn parse_offset(b: &[u8]) -> Option<(OffsetSecs, usize)> {
    match b.first()? {
        b'Z' | b'z' => Some((0, 1)),
        c @ (b'+' | b'-') => {
            let sign = if *c == b'-' { -1 } else { 1 };
            let h = num2(b.get(1..3)?)?;
            let (m, used) = match b.get(3) {
                Some(b':') => (num2(b.get(4..6)?)?, 6),
                Some(d) if d.is_ascii_digit() => (num2(b.get(3..5)?)?, 5),
                _ => (0, 3),
            };
            if h > 23 || m > 59 {
                return None;
            }
            Some((sign * (h * 3600 + m * 60) as i32, used))
        }
        _ => None,
    }
}

/// nginx `$time_local` / Apache `%t`: `02/Feb/2023:07:00:22 +0300` (26 bytes).
/// Returns the UTC instant and the offset it was written with.
pub fn parse_clf(b: &[u8]) -> Option<(i64, OffsetSecs)> {
    if b.len() != 26 || b[20] != b' ' {
        return None;
    }
    let naive = day_month_year(&b[..20], b'/', b':')?;
    let (off, used) = parse_offset(&b[21..])?;
    if used != 5 {
        return None;
    }
    Some((naive - off as i64, off))
}

/// `02/Feb/2023:07:00:22` (CLF, HAProxy) or `02-Feb-2023 07:00:22` (PHP):
/// day, English month, year and time in the first 20 bytes, with `date`
/// between the date's parts and `then` before the time. Naive seconds.
pub fn day_month_year(b: &[u8], date: u8, then: u8) -> Option<i64> {
    if b.len() < 20 || b[2] != date || b[6] != date || b[11] != then {
        return None;
    }
    let d = num2(&b[0..2])?;
    let mo = month_from_abbrev(&b[3..6])?;
    let y = num4(&b[7..11])? as i64;
    let (h, mi, s) = hms(&b[12..20])?;
    civil_to_secs(y, mo, d, h, mi, s)
}

/// `2023/02/02 07:00:04` (the nginx error log): naive seconds.
pub fn year_month_day_slashed(b: &[u8]) -> Option<i64> {
    if b.len() < 19 || b[4] != b'/' || b[7] != b'/' || b[10] != b' ' {
        return None;
    }
    let (h, mi, s) = hms(&b[11..19])?;
    civil_to_secs(
        num4(&b[0..4])? as i64,
        num2(&b[5..7])?,
        num2(&b[8..10])?,
        h,
        mi,
        s,
    )
}

/// A one-entry cache in front of [`parse_clf`], and one in front of any
/// other stamp parser ([`ClfCache::text`]): access logs write the same
/// second on many consecutive lines, so most lines cost one compare.
#[derive(Default)]
pub struct ClfCache {
    key: [u8; 26],
    value: Option<(i64, OffsetSecs)>,
    text: [u8; TEXT_MAX],
    text_len: usize,
    text_value: Option<(i64, OffsetSecs)>,
    /// The `YYYY-MM-DDTHH:MM:` of the ISO stamp parsed last, and its
    /// minute's instant ([`ClfCache::iso`]).
    iso_key: [u8; 17],
    iso_minute: Option<i64>,
}

/// The longest stamp [`ClfCache::text`] keeps.
const TEXT_MAX: usize = 32;

impl ClfCache {
    #[inline]
    pub fn parse(&mut self, b: &[u8]) -> Option<(i64, OffsetSecs)> {
        let b: &[u8; 26] = b.try_into().ok()?;
        if self.value.is_some() && self.key == *b {
            return self.value;
        }
        let v = parse_clf(b)?;
        self.key.copy_from_slice(b);
        self.value = Some(v);
        Some(v)
    }

    /// [`parse_iso`], the minute from the cache when it is the one of the
    /// stamp parsed last (stamps with fractions differ on every line, but
    /// a busy log writes the same minute for thousands of them).
    #[inline]
    pub fn iso(&mut self, b: &[u8]) -> Option<(IsoStamp, usize)> {
        let key: &[u8; 17] = b.get(..17)?.try_into().ok()?;
        let minute = match self.iso_minute {
            Some(m) if self.iso_key == *key && b.len() >= 19 => m,
            _ => {
                let m = iso_minute(b)?;
                self.iso_key = *key;
                self.iso_minute = Some(m);
                m
            }
        };
        iso_from_seconds(b, minute)
    }

    /// `parse(b)`, from the cache when `b` is the stamp text parsed last.
    #[inline]
    pub fn text(
        &mut self,
        b: &[u8],
        parse: impl FnOnce(&[u8]) -> Option<(i64, OffsetSecs)>,
    ) -> Option<(i64, OffsetSecs)> {
        if self.text_value.is_some() && self.text_len == b.len() && self.text[..b.len()] == *b {
            return self.text_value;
        }
        let v = parse(b);
        if let (Some(v), Some(slot)) = (v, self.text.get_mut(..b.len())) {
            slot.copy_from_slice(b);
            self.text_len = b.len();
            self.text_value = Some(v);
        }
        v
    }
}

/// The length of a sub-second part (`.345678`, or `,345678` when `seps`
/// allows it) at the start of `b`: 0 when there is none, `None` when a
/// separator is followed by no digit.
fn fraction(b: &[u8], seps: &[u8]) -> Option<usize> {
    match b.first() {
        Some(c) if seps.contains(c) => {
            let digits = b[1..].iter().take_while(|d| d.is_ascii_digit()).count();
            (digits > 0).then_some(1 + digits)
        }
        _ => Some(0),
    }
}

/// What an RFC 3339-like stamp held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IsoStamp {
    /// Wall-clock seconds read as if UTC (the "naive" time).
    pub naive: i64,
    pub offset: Option<OffsetSecs>,
    /// The fraction was written with a comma (`dmesg --time-format iso`).
    pub comma_fraction: bool,
    pub has_fraction: bool,
    /// The offset had no colon (`+0200`, journalctl short-iso up to v254).
    pub compact_offset: bool,
}

/// `YYYY-MM-DDTHH:MM:SS[.frac|,frac][Z|±HH:MM|±HHMM]` at the start of `b`
/// (a space instead of `T` is accepted). Returns the stamp and bytes used.
pub fn parse_iso(b: &[u8]) -> Option<(IsoStamp, usize)> {
    let minute = iso_minute(b)?;
    iso_from_seconds(b, minute)
}

/// The instant of the minute of an ISO stamp at the start of `b` (its
/// `YYYY-MM-DDTHH:MM`), checked as [`civil_to_secs`] checks it.
fn iso_minute(b: &[u8]) -> Option<i64> {
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || (b[10] != b'T' && b[10] != b' ') {
        return None;
    }
    let y = num4(&b[0..4])? as i64;
    let mo = num2(&b[5..7])?;
    let d = num2(&b[8..10])?;
    let (h, mi, _) = hms(&b[11..19])?;
    civil_to_secs(y, mo, d, h, mi, 0)
}

/// [`parse_iso`] from the seconds on, the minute's instant known.
#[inline]
fn iso_from_seconds(b: &[u8], minute: i64) -> Option<(IsoStamp, usize)> {
    let s = num2(&b[17..19])?;
    if s > 60 {
        return None;
    }
    let naive = minute + s as i64;
    let comma_fraction = b.get(19) == Some(&b',');
    let frac = fraction(&b[19..], b".,")?;
    let has_fraction = frac > 0;
    let mut i = 19 + frac;
    let mut offset = None;
    let mut compact_offset = false;
    if let Some((off, used)) = b.get(i..).and_then(parse_offset) {
        compact_offset = used == 5;
        offset = Some(off);
        i += used;
    }
    Some((
        IsoStamp {
            naive,
            offset,
            comma_fraction,
            has_fraction,
            compact_offset,
        },
        i,
    ))
}

/// A year-less BSD syslog stamp: `Feb  2 07:00:12` or `Feb 02 07:00:12.345678`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BsdStamp {
    pub month: u32,
    pub day: u32,
    pub secs_of_day: u32,
    pub zero_padded: bool,
    pub has_fraction: bool,
}

/// Parses a [`BsdStamp`] at the start of `b`; returns it and the bytes used.
/// The month is English, or as localized systems write it.
pub fn parse_bsd(b: &[u8]) -> Option<(BsdStamp, usize)> {
    let english = (b.get(3) == Some(&b' '))
        .then(|| month_from_abbrev(&b[0..3]))
        .flatten();
    let (month, at) = match english {
        Some(m) => (m, 4),
        None => crate::months::local_month(b)?,
    };
    let d = b.get(at..)?;
    if d.len() < 11 || d[2] != b' ' {
        return None;
    }
    let day = day2(&d[0..2])?;
    let (h, mi, s) = hms(&d[3..11])?;
    if day == 0 || day > 31 || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let frac = fraction(&d[11..], b".")?;
    let (i, has_fraction) = (at + 11 + frac, frac > 0);
    Some((
        BsdStamp {
            month,
            day,
            secs_of_day: h * 3600 + mi * 60 + s,
            zero_padded: d[0] == b'0',
            has_fraction,
        },
        i,
    ))
}

/// The last second logburst places and shows: 9999-12-31T23:59:59Z.
pub const MAX_UTC: i64 = 253_402_300_799;

/// Whether `secs` (UTC, or naive local) is an instant a log can have
/// written: from 1970 to the year 9999. A stamp outside is a damaged or
/// misread line, counted as malformed — never clamped to a real-looking
/// instant.
pub fn in_range(secs: i64) -> bool {
    (0..=MAX_UTC).contains(&secs)
}

/// `dmesg -T` / ctime: `Thu Dec  7 00:05:15 2017` (24 bytes) as naive seconds.
pub fn parse_ctime(b: &[u8]) -> Option<i64> {
    if b.len() != 24 || b[3] != b' ' || b[7] != b' ' || b[10] != b' ' || b[19] != b' ' {
        return None;
    }
    if !b[0..3].iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    let mo = month_from_abbrev(&b[4..7])?;
    let d = day2(&b[8..10])?;
    let (h, mi, s) = hms(&b[11..19])?;
    let y = num4(&b[20..24])? as i64;
    civil_to_secs(y, mo, d, h, mi, s)
}

/// The naive seconds of a year-less stamp placed in `year`, or `None` when the
/// date does not exist in that year (29 February).
pub fn bsd_in_year(s: &BsdStamp, year: i64) -> Option<i64> {
    if s.day > days_in_month(year, s.month) {
        return None;
    }
    Some(days_from_civil(year, s.month, s.day) * 86_400 + s.secs_of_day as i64)
}

/// The year a year-less line belongs to, given the reference date
/// (year, month, day, UTC) the file is known to have been written up to (its
/// modification time): a line dated more than a day after the reference in
/// the reference's year was written the year before — a December line in a
/// file last written in January, and a 10 December line in a file last
/// written on 6 December. The day's grace is for zones east of UTC, whose
/// local date runs up to 14 hours ahead of the modification time's.
pub fn infer_year(month: u32, day: u32, reference: (i64, u32, u32)) -> i64 {
    let (year, ref_month, ref_day) = reference;
    let line = days_from_civil(year, month, day.min(days_in_month(year, month)));
    if line > days_from_civil(year, ref_month, ref_day) + 1 {
        year - 1
    } else {
        year
    }
}

/// The civil (year, month, day) of a naive time.
pub fn date_of(naive: i64) -> (i64, u32, u32) {
    civil_from_days(naive.div_euclid(86_400))
}

/// The civil year and month of a naive time.
pub fn year_month_of(naive: i64) -> (i64, u32) {
    let (y, m, _) = civil_from_days(naive.div_euclid(86_400));
    (y, m)
}

/// The same wall-clock time moved to another year (29 February clamps to 28).
pub fn with_year(naive: i64, year: i64) -> i64 {
    let days = naive.div_euclid(86_400);
    let secs = naive.rem_euclid(86_400);
    let (_, m, d) = civil_from_days(days);
    let d = d.min(days_in_month(year, m));
    days_from_civil(year, m, d) * 86_400 + secs
}

/// A zone given with `--tz`: a fixed offset or an IANA name.
#[derive(Clone, Copy, Debug, PartialEq)]
#[warn(missing_docs)]
pub enum Zone {
    /// A fixed offset from UTC, in seconds (east positive).
    Fixed(OffsetSecs),
    /// An IANA zone, whose offset follows its daylight-saving rules.
    Named(chrono_tz::Tz),
}

impl Zone {
    /// Parses `UTC`, `Z`, `+03:00`, `+0300`, `-05` or an IANA name such as
    /// `Africa/Nairobi`.
    pub fn parse(s: &str) -> Result<Zone, String> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("utc") || t.eq_ignore_ascii_case("z") {
            return Ok(Zone::Fixed(0));
        }
        if let Some((off, used)) = parse_offset(t.as_bytes()) {
            if used == t.len() {
                return Ok(Zone::Fixed(off));
            }
        }
        t.parse::<chrono_tz::Tz>().map(Zone::Named).map_err(|_| {
            format!(
                "unknown time zone '{s}': give an offset such as +03:00 or an IANA name such as Africa/Nairobi"
            )
        })
    }

    /// The UTC instant of a wall-clock time in this zone. In a DST fold the
    /// earlier instant is taken; in a DST gap the time is read with the
    /// offset in force just before the gap.
    pub fn to_utc(&self, naive: i64) -> i64 {
        match self {
            Zone::Fixed(off) => naive - *off as i64,
            Zone::Named(tz) => {
                let Some(ndt) = DateTime::from_timestamp(naive, 0).map(|d| d.naive_utc()) else {
                    return naive;
                };
                match tz.from_local_datetime(&ndt) {
                    chrono::LocalResult::Single(d) => d.timestamp(),
                    chrono::LocalResult::Ambiguous(a, _) => a.timestamp(),
                    chrono::LocalResult::None => {
                        let before = ndt - chrono::Duration::hours(3);
                        let off = tz.offset_from_utc_datetime(&before).fix().local_minus_utc();
                        naive - off as i64
                    }
                }
            }
        }
    }

    /// The offset in force at a UTC instant.
    /// The UTC instants a wall-clock second of this zone names: one, or
    /// two in the hour a clock goes back (the first pass, then the second).
    /// A second skipped when the clock went forward is read with the offset
    /// before the change.
    pub fn places(&self, naive: i64) -> (i64, Option<i64>) {
        match self {
            Zone::Fixed(off) => (naive - *off as i64, None),
            Zone::Named(tz) => {
                let Some(ndt) = DateTime::from_timestamp(naive, 0).map(|d| d.naive_utc()) else {
                    return (naive, None);
                };
                match tz.from_local_datetime(&ndt) {
                    chrono::LocalResult::Ambiguous(a, b) => (a.timestamp(), Some(b.timestamp())),
                    _ => (self.to_utc(naive), None),
                }
            }
        }
    }

    pub fn offset_at(&self, utc: i64) -> OffsetSecs {
        match self {
            Zone::Fixed(off) => *off,
            Zone::Named(tz) => {
                let ndt = DateTime::from_timestamp(utc, 0)
                    .map(|d| d.naive_utc())
                    .unwrap_or_default();
                tz.offset_from_utc_datetime(&ndt).fix().local_minus_utc()
            }
        }
    }

    pub fn name(&self) -> String {
        match self {
            Zone::Fixed(off) => format_offset(*off),
            Zone::Named(tz) => tz.name().to_string(),
        }
    }
}

/// `+03:00` for 10800.
pub fn format_offset(off: OffsetSecs) -> String {
    let sign = if off < 0 { '-' } else { '+' };
    let a = off.unsigned_abs();
    format!("{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60)
}

fn to_datetime(utc: i64, offset: OffsetSecs) -> DateTime<FixedOffset> {
    let fo = FixedOffset::east_opt(offset).unwrap_or_else(|| FixedOffset::east_opt(0).unwrap());
    let dt = DateTime::<Utc>::from_timestamp(utc, 0).unwrap_or_default();
    dt.with_timezone(&fo)
}

/// RFC 3339 with the given offset: `2023-02-02T07:00:22+03:00`.
pub fn rfc3339(utc: i64, offset: OffsetSecs) -> String {
    to_datetime(utc, offset).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// `2023-02-02 07:00:22 +03:00`, for people.
pub fn human(utc: i64, offset: OffsetSecs) -> String {
    to_datetime(utc, offset)
        .format("%Y-%m-%d %H:%M:%S %:z")
        .to_string()
}

/// `07:00:22`, for timelines whose date is given once.
pub fn clock(utc: i64, offset: OffsetSecs) -> String {
    to_datetime(utc, offset).format("%H:%M:%S").to_string()
}

/// `16 min 35 s`, `2 h 5 min`, `9 s`.
pub fn duration(secs: i64) -> String {
    let s = secs.unsigned_abs();
    let sign = if secs < 0 { "-" } else { "" };
    if s < 60 {
        format!("{sign}{s} s")
    } else if s < 3600 {
        if s.is_multiple_of(60) {
            format!("{sign}{} min", s / 60)
        } else {
            format!("{sign}{} min {} s", s / 60, s % 60)
        }
    } else if s < 48 * 3600 {
        let m = (s % 3600) / 60;
        if m == 0 {
            format!("{sign}{} h", s / 3600)
        } else {
            format!("{sign}{} h {} min", s / 3600, m)
        }
    } else {
        // Past two days, in days and hours: "73 h" reads as a number to
        // work out.
        let (d, h) = (s / 86_400, (s % 86_400) / 3600);
        if h == 0 {
            format!("{sign}{d} d")
        } else {
            format!("{sign}{d} d {h} h")
        }
    }
}

/// One grammar for every duration flag: a positive number (decimals
/// allowed) and a unit — `ms`, `s`, `m`, `h`, `d` (also `sec`, `min`,
/// `hour(s)`, `day(s)`); a bare number is seconds. `250ms`, `1.5s`, `5m`,
/// `2h`, `1d`. In milliseconds, at most 366 days.
#[warn(missing_docs)]
pub fn parse_duration_ms(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = (&t[..split], t[split..].trim());
    let example = "use a number and a unit: 250ms, 1.5s, 5m, 2h, 1d";
    let v: f64 = num
        .parse()
        .map_err(|_| format!("invalid duration '{s}': {example}"))?;
    let ms_per = match unit {
        "ms" => 1.0,
        "" | "s" | "sec" | "secs" => 1e3,
        "m" | "min" | "mins" => 60e3,
        "h" | "hour" | "hours" => 3_600e3,
        "d" | "day" | "days" => 86_400e3,
        _ => {
            return Err(format!(
                "invalid duration '{s}': unknown unit '{unit}' ({example})"
            ))
        }
    };
    let ms = (v * ms_per).round();
    if ms.is_nan() || ms < 1.0 {
        return Err(format!("invalid duration '{s}': must be positive"));
    }
    if ms > (MAX_DURATION * 1000) as f64 {
        return Err(format!("invalid duration '{s}': longer than 366 days"));
    }
    Ok(ms as u64)
}

/// [`parse_duration_ms`] for flags that work in whole seconds (windows,
/// cooldowns, gaps): in seconds; a fraction of a second is refused.
#[warn(missing_docs)]
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let ms = parse_duration_ms(s)?;
    if ms % 1000 != 0 {
        return Err(format!(
            "invalid duration '{s}': this one counts whole seconds (e.g. 1s, 90s)"
        ));
    }
    Ok((ms / 1000) as i64)
}

/// The longest window, cooldown or gap accepted: a year of logs.
const MAX_DURATION: i64 = 366 * 86_400;

/// Parses `--since`/`--until`: RFC 3339 (`2023-02-02T07:00:00+03:00`), or a
/// zone-less `2023-02-02 07:00[:00]` / `2023-02-02` read in `zone` (UTC when
/// none is given). Returns a UTC instant.
#[warn(missing_docs)]
pub fn parse_instant(s: &str, zone: Option<&Zone>) -> Result<i64, String> {
    let (n, zoned) = parse_instant_parts(s)?;
    Ok(if zoned {
        n
    } else {
        zone.map_or(n, |z| z.to_utc(n))
    })
}

/// An instant flag's value as written: UTC seconds and `true` when it
/// gives its offset, naive seconds and `false` when it does not.
#[warn(missing_docs)]
pub fn parse_instant_parts(s: &str) -> Result<(i64, bool), String> {
    let t = s.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok((dt.timestamp(), true));
    }
    let naive = NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M"))
        .or_else(|_| {
            NaiveDate::parse_from_str(t, "%Y-%m-%d").map(|d| d.and_hms_opt(0, 0, 0).unwrap())
        })
        .map_err(|_| {
            format!("invalid time '{s}': use RFC 3339 (2023-02-02T07:00:00+03:00) or '2023-02-02 07:00:00' (read in --tz)")
        })?;
    Ok((naive.and_utc().timestamp(), false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn localized_months_in_bsd_stamps() {
        for (line, month, day) in [
            ("апр 02 07:00:13 web-01 kernel: x", 4, 2),
            ("Mär 02 07:00:13 web-01 kernel: x", 3, 2),
            ("févr. 02 07:00:13 web-01 kernel: x", 2, 2),
            ("avril 02 07:00:13 web-01 kernel: x", 4, 2),
            ("ago  2 07:00:13 web-01 kernel: x", 8, 2),
            ("paź 02 07:00:13 web-01 kernel: x", 10, 2),
            ("mrt 02 07:00:13 web-01 kernel: x", 3, 2),
            ("5月 02 07:00:13 web-01 kernel: x", 5, 2),
            (" 5月 02 07:00:13 web-01 kernel: x", 5, 2),
            ("12月 31 23:59:59 web-01 kernel: x", 12, 31),
            ("Feb  2 07:00:13 web-01 kernel: x", 2, 2),
        ] {
            let (s, used) = parse_bsd(line.as_bytes()).unwrap_or_else(|| panic!("{line}"));
            assert_eq!((s.month, s.day), (month, day), "{line}");
            assert_eq!(line.as_bytes().get(used), Some(&b' '), "{line}");
        }
        for bad in [
            "xyz 02 07:00:13 h k: x",
            "13月 02 07:00:13 h k: x",
            "апрель02 07:00:13",
            "",
        ] {
            assert!(parse_bsd(bad.as_bytes()).is_none(), "{bad}");
        }
    }

    #[test]
    fn durations_in_words() {
        assert_eq!(duration(59), "59 s");
        assert_eq!(duration(3599), "59 min 59 s");
        assert_eq!(duration(47 * 3600 + 60), "47 h 1 min");
        assert_eq!(duration(48 * 3600), "2 d");
        assert_eq!(duration(73 * 3600 + 1800), "3 d 1 h");
        assert_eq!(duration(-90), "-1 min 30 s");
    }

    #[test]
    fn civil_round_trip() {
        for z in [-800_000i64, -1, 0, 1, 19_390, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(days_from_civil(2023, 2, 2), 19_390);
    }

    #[test]
    fn clf_with_offset() {
        let (utc, off) = parse_clf(b"02/Feb/2023:07:00:22 +0300").unwrap();
        assert_eq!(off, 10_800);
        assert_eq!(rfc3339(utc, off), "2023-02-02T07:00:22+03:00");
        assert_eq!(rfc3339(utc, 0), "2023-02-02T04:00:22+00:00");
        assert!(parse_clf(b"31/Feb/2023:07:00:22 +0300").is_none());
        assert!(parse_clf(b"02/Foo/2023:07:00:22 +0300").is_none());
        assert!(parse_clf(b"02/Feb/2023:07:00:22 +03:0").is_none());
    }

    #[test]
    fn cache_returns_same_answer() {
        let mut c = ClfCache::default();
        let a = c.parse(b"02/Feb/2023:07:00:22 -0130");
        let b = c.parse(b"02/Feb/2023:07:00:22 -0130");
        assert_eq!(a, b);
        assert_eq!(a.unwrap().1, -5400);
        assert_ne!(c.parse(b"02/Feb/2023:07:00:23 -0130"), a);
    }

    #[test]
    fn iso_forms() {
        let (s, n) = parse_iso(b"2023-02-02T07:00:13.412345+03:00 web").unwrap();
        assert_eq!(n, 32);
        assert_eq!(s.offset, Some(10_800));
        let (s, _) = parse_iso(b"2023-09-08T17:20:30+0200 h").unwrap();
        assert!(s.compact_offset);
        assert_eq!(s.offset, Some(7200));
        let (s, _) = parse_iso(b"2024-02-02T07:00:12,345678+01:00 x").unwrap();
        assert!(s.comma_fraction);
        let (s, n) = parse_iso(b"2003-10-11T22:14:15.003Z x").unwrap();
        assert_eq!((s.offset, n), (Some(0), 24));
        assert!(parse_iso(b"2003-13-11T22:14:15Z").is_none());
    }

    #[test]
    fn bsd_padding_and_fraction() {
        let (s, n) = parse_bsd(b"Feb  2 07:00:12 web-01").unwrap();
        assert_eq!((s.month, s.day, s.secs_of_day, n), (2, 2, 25_212, 15));
        assert!(!s.zero_padded);
        let (s, n) = parse_bsd(b"Aug 30 06:58:55.050705 x").unwrap();
        assert!(s.has_fraction);
        assert_eq!(n, 22);
        assert!(parse_bsd(b"Feb 32 07:00:12 x").is_none());
    }

    #[test]
    fn year_across_new_year() {
        // A December line in a file last written in January is from last year.
        assert_eq!(infer_year(12, 31, (2024, 1, 5)), 2023);
        assert_eq!(infer_year(1, 5, (2024, 1, 5)), 2024);
        // Days after the file was last written: the year before, not the
        // future (loghub's OpenSSH sample, 10 December, read on 6 December).
        assert_eq!(infer_year(12, 10, (2026, 12, 6)), 2025);
        // The day after is a zone east of UTC, not last year; across a
        // month's end too.
        assert_eq!(infer_year(12, 7, (2026, 12, 6)), 2026);
        assert_eq!(infer_year(2, 1, (2026, 1, 31)), 2026);
        assert_eq!(infer_year(2, 2, (2026, 1, 31)), 2025);
        // 29 February, in a year that has none, compares as the 28th (the
        // stamp is then not placed: bsd_in_year).
        assert_eq!(infer_year(2, 29, (2026, 2, 27)), 2026);
    }

    #[test]
    fn ctime() {
        let n = parse_ctime(b"Thu Dec  7 00:05:15 2017").unwrap();
        assert_eq!(rfc3339(n, 0), "2017-12-07T00:05:15+00:00");
    }

    #[test]
    fn zones() {
        assert_eq!(Zone::parse("+03:00").unwrap(), Zone::Fixed(10_800));
        assert_eq!(Zone::parse("UTC").unwrap(), Zone::Fixed(0));
        let ny = Zone::parse("America/New_York").unwrap();
        // 2023-03-12 02:30 does not exist in New York (spring forward).
        let naive = civil_to_secs(2023, 3, 12, 2, 30, 0).unwrap();
        assert_eq!(ny.to_utc(naive), naive + 5 * 3600);
        // 2023-11-05 01:30 happens twice; the earlier (EDT) is taken.
        let naive = civil_to_secs(2023, 11, 5, 1, 30, 0).unwrap();
        assert_eq!(ny.to_utc(naive), naive + 4 * 3600);
        assert_eq!(ny.offset_at(naive + 4 * 3600), -4 * 3600);
        assert!(Zone::parse("Mars/Olympus").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("60").unwrap(), 60);
        assert_eq!(parse_duration("5m").unwrap(), 300);
        assert_eq!(parse_duration("1.5m").unwrap(), 90);
        assert_eq!(parse_duration("2 h").unwrap(), 7200);
        assert!(parse_duration("1.5s")
            .unwrap_err()
            .contains("whole seconds"));
        assert_eq!(parse_duration_ms("250ms").unwrap(), 250);
        assert_eq!(parse_duration_ms("1.5s").unwrap(), 1500);
        assert_eq!(parse_duration_ms("1d").unwrap(), 86_400_000);
        assert_eq!(parse_duration_ms("2").unwrap(), 2000);
        for bad in [
            "", "-5s", "0", "0.0001ms", "5x", "s", "1..5s", "367d", "NaNs", "1e9s",
        ] {
            assert!(parse_duration_ms(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_duration("1h").unwrap(), 3600);
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("0").is_err());
        // Found by the fuzzer: overflowed the multiplication.
        assert!(parse_duration("4200242024202022hours").is_err());
        assert!(parse_duration("367d").is_err());
        assert_eq!(parse_duration("366d").unwrap(), 366 * 86_400);
        assert_eq!(duration(995), "16 min 35 s");
        assert_eq!(duration(9), "9 s");
    }

    #[test]
    fn instants() {
        let z = Zone::Fixed(10_800);
        let a = parse_instant("2023-02-02 07:00:00", Some(&z)).unwrap();
        let b = parse_instant("2023-02-02T04:00:00Z", None).unwrap();
        assert_eq!(a, b);
        assert!(parse_instant("yesterday", None).is_err());
    }

    proptest::proptest! {
        /// The cached ISO parse answers as the plain one, whatever came
        /// before: stamps that share their minute, differ in one byte of
        /// it, or are not stamps.
        #[test]
        fn the_iso_cache_answers_as_parse_iso(
            stamps in proptest::collection::vec(
                (0usize..4, 0u32..62, "[0-9:.,TZ+ -]{0,12}", 0usize..19, proptest::num::u8::ANY),
                1..40,
            ),
        ) {
            let mut cache = ClfCache::default();
            for (minute, sec, tail, at, byte) in stamps {
                let base = ["2023-02-01T23:59", "2023-02-02T00:00", "2024-02-29 12:30", "2023-02-30T00:00"][minute];
                let mut b = format!("{base}:{sec:02}{tail}").into_bytes();
                if byte % 4 == 0 {
                    b[at] = byte;
                }
                if byte % 7 == 0 {
                    b.truncate(at);
                }
                proptest::prop_assert_eq!(cache.iso(&b), parse_iso(&b), "{:?}", String::from_utf8_lossy(&b));
            }
        }
    }
}
