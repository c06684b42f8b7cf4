//! How a [`Series`] is written in a summary and read back, checked: a
//! summary is input like any other.

use super::*;

/// How a [`Series`] is written in a summary: the seconds with requests as
/// flat triples `[Δt, requests, 5xx]` (Δt from the second listed before, the
/// first from 0), the 5xx per second and status as `[Δt, status, n]`, the
/// requests per UTC offset as `[offset, n]`, what each minute's 5xx hit
/// as `[minute, tally]` (see [`crate::sketch`]), and the totals.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SeriesRepr {
    requests: u64,
    errors: u64,
    seconds: Vec<i64>,
    status: Vec<i64>,
    offsets: Vec<(OffsetSecs, u64)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tallies: Vec<(i64, ErrorTally)>,
    /// `[minute, [bucket, count, bucket, count, …]]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    latency: Vec<(i64, Vec<u32>)>,
}

/// Seconds further than this from 1970 are not log times.
const FAR: i64 = 1 << 40;

impl serde::Serialize for Series {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seconds = Vec::new();
        let mut prev = 0;
        for (h, hour) in &self.hours {
            for slot in hour.slots() {
                let t = h * HOUR + i64::from(slot.second);
                seconds.extend([t - prev, i64::from(slot.requests), i64::from(slot.errors)]);
                prev = t;
            }
        }
        let mut status = Vec::with_capacity(self.status.len() * 3);
        prev = 0;
        for ((t, st), n) in &self.status {
            status.extend([t - prev, *st as i64, *n as i64]);
            prev = *t;
        }
        SeriesRepr {
            requests: self.requests,
            errors: self.errors,
            seconds,
            status,
            offsets: self.offsets.iter().map(|(o, n)| (*o, *n)).collect(),
            tallies: self.tallies.iter().map(|(m, t)| (*m, t.clone())).collect(),
            latency: self.latency.iter().map(|(m, h)| (*m, h.sparse())).collect(),
        }
        .serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for Series {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let r = SeriesRepr::deserialize(d)?;
        let bad = |what: &str| D::Error::custom(format!("series: {what}"));
        if r.seconds.len() % 3 != 0 || r.status.len() % 3 != 0 {
            return Err(bad("a list is not made of triples"));
        }
        let count = |v: i64| u32::try_from(v).map_err(|_| bad("a count is out of range"));
        // Δt must move forward (the first may be anything but stay near 1970).
        let step = |first: bool, prev: i64, dt: i64| {
            prev.checked_add(dt)
                .filter(|t| t.abs() < FAR && (first || dt > 0))
                .ok_or_else(|| bad("seconds are not listed in increasing order"))
        };
        let mut out = Series {
            requests: r.requests,
            errors: r.errors,
            offsets: r.offsets.into_iter().collect(),
            ..Series::default()
        };
        let (mut requests, mut errors) = (0u64, 0u64);
        let mut t = 0;
        for (n, c) in r.seconds.chunks_exact(3).enumerate() {
            t = step(n == 0, t, c[0])?;
            let (h, i) = (t.div_euclid(HOUR), t.rem_euclid(HOUR) as usize);
            let (rq, er) = (count(c[1])?, count(c[2])?);
            if er > rq || rq == 0 {
                return Err(bad("a second holds more 5xx than requests, or none"));
            }
            // Seconds increase: each is added once.
            out.hours.entry(h).or_default().add(i, rq, er);
            requests += u64::from(rq);
            errors += u64::from(er);
        }
        // Counters saturate at u32::MAX per second; totals do not.
        let saturated = out.hours.values().any(Hour::saturated);
        // Offsets count every request ever read (a cron history trims its
        // seconds, not them): bounded, not equal to the totals.
        if !saturated && (requests != out.requests || errors != out.errors)
            || out.offsets.values().any(|n| *n >= 1 << 48)
            || out.offsets.keys().any(|o| o.unsigned_abs() >= 86_400)
        {
            return Err(bad("totals do not add up"));
        }
        t = 0;
        for (n, c) in r.status.chunks_exact(3).enumerate() {
            t = step(n == 0 || c[0] == 0, t, c[0])?;
            let st = u16::try_from(c[1]).map_err(|_| bad("a status is out of range"))?;
            if out.status.insert((t, st), count(c[2])?).is_some() {
                return Err(bad("a (second, status) is listed twice"));
            }
        }
        for (m, flat) in r.latency {
            if m.abs() >= FAR || m != minute_of(m) {
                return Err(bad("a latency histogram is not under a minute"));
            }
            let h = LatencyHist::from_sparse(&flat)
                .ok_or_else(|| bad("a latency histogram is not [bucket, count] pairs"))?;
            if out.latency.insert(m, h).is_some() {
                return Err(bad("a minute's latency is listed twice"));
            }
        }
        for (m, tally) in r.tallies {
            if m.abs() >= FAR || m != minute_of(m) {
                return Err(bad("a tally is not under a minute"));
            }
            if out.tallies.insert(m, tally).is_some() {
                return Err(bad("a minute's tally is listed twice"));
            }
        }
        Ok(out)
    }
}
