//! The noise benchmark (issue 22): healthy traffic simulated at the series
//! level — whole seconds of requests and 5xx, drawn from exact Poisson and
//! binomial samplers — over a grid of volumes, normal failure rates and
//! kinds of healthy variation, with sharp outages laid into some days.
//! Scored: false incidents per 100 host-days in every cell, recall and the
//! detection lag of the outages.
//!
//! `noise_gate` runs on a fixed seed set in CI and fails when a target is
//! crossed. `noise_benchmark` (ignored; `cargo test --release --test it
//! noise_benchmark -- --ignored --nocapture`) draws fresh seeds on every
//! run, prints them, and prints the table the README quotes;
//! `LOGBURST_NOISE_DAYS` sets the host-days per cell (default 4) and
//! `LOGBURST_NOISE_SEED` replays a run (`LOGBURST_NOISE_CELL=2:3`, one
//! cell of it: volume in req/s and normal share in %).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use logburst::internals::bucket::BucketSet;
use logburst::internals::detect::{detect, Detector, Incident, Kind, Params};
use logburst::internals::format::Detail;
use logburst::internals::merge::Merge;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Binomial, Distribution, LogNormal, Poisson};

const DAY: i64 = 86_400;
/// 2023-02-02T00:00:00Z.
const T0: i64 = 1_675_296_000;

/// Peak requests per second of the grid.
const VOLUMES: [f64; 5] = [0.2, 2.0, 20.0, 200.0, 500.0];
/// Normal 5xx shares of the grid.
const BASES: [f64; 5] = [0.0, 0.001, 0.01, 0.03, 0.10];

/// How much an overdispersed share wobbles: σ of its log, a minute.
const WOBBLE: f64 = 0.3;

/// Kinds of healthy variation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Variant {
    /// Constant volume and share: Poisson requests, binomial 5xx.
    Plain,
    /// The share varies minute to minute (log-normal, σ = 0.3, mean the
    /// base): extra-binomial noise.
    Overdispersed,
    /// Volume swings 10× over the day (night at a tenth of the peak).
    Diurnal,
    /// Held out (not tuned on): three deploy blips a day, 2–4 s of 30–100 %
    /// failures, over diurnal volume.
    Blips,
    /// Held out (not tuned on): the share drifts slowly (±50 % over 6 h),
    /// and the host comes late and goes early (it serves 6–20 h of the
    /// day).
    Drift,
    /// Held out to the end (run once, after the rule was settled): two
    /// flash crowds a day, 20 min at five times the volume, share
    /// unchanged; over diurnal volume.
    Flash,
    /// Held out to the end: two hosts of diurnal traffic behind one
    /// service, one at the cell's share and one that never fails (the
    /// service series mixes them as their volumes swing); two host-days a
    /// day.
    Fleet,
    /// Narrow noise (issue 22's "one client retrying a failing URL"):
    /// plain traffic whose 5xx each go to one of 100,000 clients, and
    /// three times a day one client retries a failing URL 20–80 times in
    /// 20–60 s. Scored with `--min-clients 2`, which is what it is for;
    /// without it each storm the rule sees is an incident.
    Retries,
}

/// What [`Variant::Retries`] is scored with.
const NARROW: Params = Params {
    min_clients: 2,
    ..DEFAULT
};
const DEFAULT: Params = Params {
    window: 60,
    min_errors: 10,
    min_ratio: 0.05,
    cooldown: 300,
    gap: 300,
    detector: Detector::Baseline,
    slo: None,
    slow_ms: 1000,
    alarm_every: 365 * 86_400,
    min_clients: 0,
};

const TUNED: [Variant; 3] = [Variant::Plain, Variant::Overdispersed, Variant::Diurnal];
const HELD_OUT: [Variant; 4] = [
    Variant::Blips,
    Variant::Drift,
    Variant::Flash,
    Variant::Fleet,
];

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Plain => "plain",
            Variant::Overdispersed => "overdispersed",
            Variant::Diurnal => "diurnal",
            Variant::Blips => "blips (held out)",
            Variant::Drift => "drift, come and go (held out)",
            Variant::Flash => "flash crowds (held out to the end)",
            Variant::Fleet => "two hosts, one clean (held out to the end)",
            Variant::Retries => "retry storms of one client",
        }
    }
}

/// A labelled outage: `share` more of the requests fail from `onset` for
/// `len` seconds.
#[derive(Clone, Copy, Debug)]
struct Outage {
    onset: i64,
    len: i64,
    share: f64,
}

#[derive(Clone, Copy, Debug)]
struct Cell {
    volume: f64,
    base: f64,
    variant: Variant,
}

/// The volume factor at second `t` of the day.
fn diurnal(t: i64) -> f64 {
    let x = (t.rem_euclid(DAY) as f64 / DAY as f64 - 0.6) * std::f64::consts::TAU;
    0.55 + 0.45 * x.cos()
}

fn poisson(rng: &mut StdRng, mean: f64) -> u32 {
    if mean <= 0.0 {
        return 0;
    }
    Poisson::new(mean).map_or(0, |d| d.sample(rng) as u32)
}

fn binomial(rng: &mut StdRng, n: u32, p: f64) -> u32 {
    if n == 0 || p <= 0.0 {
        return 0;
    }
    Binomial::new(u64::from(n), p.min(1.0)).map_or(0, |d| d.sample(rng) as u32)
}

/// One simulated host-day (from `day_start`), with the outage if any.
/// Returns the buckets, the outage if the host served all through it
/// (a host that is gone has no outage to find), and the outage's first
/// minute as a detector sees it: each second's requests and 5xx from its
/// onset to 60 s after, with the share that would have failed without it.
fn host_day(
    rng: &mut StdRng,
    cell: Cell,
    day_start: i64,
    outage: Option<Outage>,
    host: &str,
) -> (BucketSet, Option<Outage>, Vec<Second>) {
    let mut first_minute = Vec::new();
    let mut buckets = BucketSet::default();
    let series = buckets.series_mut(host);
    let wobble = LogNormal::new(-WOBBLE * WOBBLE / 2.0, WOBBLE).expect("valid log-normal");
    let mut factor = 1.0;
    let blips: Vec<(i64, i64, f64)> = (0..3)
        .map(|_| {
            (
                rng.random_range(0..DAY - 10),
                rng.random_range(2..=4),
                rng.random_range(0.3..=1.0),
            )
        })
        .collect();
    let come = rng.random_range(0..4 * 3600);
    let go = come + rng.random_range(6 * 3600..=20 * 3600);
    let served = |o: &Outage| {
        cell.variant != Variant::Drift
            || (come..go).contains(&(o.onset - day_start))
                && (come..go).contains(&(o.onset + o.len - day_start))
    };
    let outage = outage.filter(served);
    let phase: f64 = rng.random_range(0.0..std::f64::consts::TAU);
    let crowds: Vec<i64> = (0..2).map(|_| rng.random_range(0..DAY - 1200)).collect();
    // (start, length, retries) of each storm of one client.
    let storms: Vec<(i64, i64, u32)> = (0..3)
        .map(|_| {
            (
                rng.random_range(0..DAY - 60),
                rng.random_range(20..=60),
                rng.random_range(20..=80),
            )
        })
        .collect();
    for s in 0..DAY {
        let t = day_start + s;
        let mut rate = cell.volume;
        let mut share = cell.base;
        match cell.variant {
            Variant::Plain | Variant::Retries => {}
            Variant::Overdispersed => {
                if s % 60 == 0 {
                    factor = wobble.sample(rng);
                }
                share *= factor;
            }
            Variant::Diurnal | Variant::Fleet => rate *= diurnal(s),
            Variant::Flash => {
                rate *= diurnal(s);
                if crowds.iter().any(|c| (*c..c + 1200).contains(&s)) {
                    rate *= 5.0;
                }
            }
            Variant::Blips => {
                rate *= diurnal(s);
                if let Some((_, _, f)) = blips.iter().find(|(a, l, _)| (*a..a + l).contains(&s)) {
                    share = share.max(*f);
                }
            }
            Variant::Drift => {
                if !(come..go).contains(&s) {
                    continue;
                }
                let x = s as f64 / (6.0 * 3600.0) * std::f64::consts::TAU + phase;
                share *= 1.0 + 0.5 * x.sin();
            }
        }
        let normal = share;
        // The share without this minute's wobble: what a detector could
        // at best know.
        let base = if cell.variant == Variant::Overdispersed {
            share / factor
        } else {
            share
        };
        if let Some(o) = outage {
            if (o.onset..o.onset + o.len).contains(&t) {
                share += o.share * (1.0 - share);
            }
        }
        let n = poisson(rng, rate);
        let e = binomial(rng, n, share);
        let retries: u32 = if cell.variant == Variant::Retries {
            storm_second(series, rng, &storms, s, t, e)
        } else {
            0
        };
        let (n, e) = (n + retries, e + retries);
        if outage.is_some_and(|o| (o.onset..=o.onset + 60).contains(&t)) {
            first_minute.push(Second {
                n,
                e,
                normal,
                base,
                minute: s / 60,
            });
        }
        series.add_second(t, n, e);
    }
    (buckets, outage, first_minute)
}

/// Second `s` (at `t`) of a host with retry storms: its `e` 5xx each to
/// one of 100,000 clients, and the retries of the storm under way, spread
/// evenly over it (each storm's own client). Returns the retries.
fn storm_second(
    series: &mut logburst::internals::bucket::Series,
    rng: &mut StdRng,
    storms: &[(i64, i64, u32)],
    s: i64,
    t: i64,
    e: u32,
) -> u32 {
    for _ in 0..e {
        series.add_detail(t, &client(rng.random_range(0..100_000)));
    }
    storms
        .iter()
        .enumerate()
        .filter(|(_, (a, l, _))| (*a..a + l).contains(&s))
        .map(|(k, (a, l, r))| {
            let due = |s: i64| (i64::from(*r) * (s - a) / l) as u32;
            for _ in due(s)..due(s + 1) {
                series.add_detail(t, &client(1_000_000 + k as u32));
            }
            due(s + 1) - due(s)
        })
        .sum()
}

/// One second of an outage's first minute: requests, 5xx, the share
/// that would have failed without the outage, that share without its
/// minute's wobble (overdispersed), and the minute.
#[derive(Clone, Copy, Debug)]
struct Second {
    n: u32,
    e: u32,
    normal: f64,
    base: f64,
    minute: i64,
}

/// P(X ≥ k) for X ~ Binomial(n, p), exactly (summed in log space from k
/// up).
fn binomial_tail(n: u64, k: u64, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n || p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    let ln_choose = libm::lgamma(n as f64 + 1.0)
        - libm::lgamma(k as f64 + 1.0)
        - libm::lgamma((n - k) as f64 + 1.0);
    let mut term = (ln_choose + k as f64 * p.ln() + (n - k) as f64 * (1.0 - p).ln()).exp();
    let mut sum = 0.0;
    let odds = p / (1.0 - p);
    for x in k..=n {
        sum += term;
        if term < sum * 1e-17 {
            break;
        }
        term *= (n - x) as f64 / (x + 1) as f64 * odds;
    }
    sum.min(1.0)
}

/// Whether a test at the rule's level (`alpha` a window) could have
/// flagged the outage within 60 s of its onset even knowing the true
/// normal share of each second (which no detector knows): whether the
/// outage's first 60 seconds, one window of the rule's length, hold 5xx
/// whose binomial tail under that share is at most `alpha`. Generous to
/// the test (no `--min-errors`, no effect size, no allowance for the share
/// wandering or being estimated), so that an outage it calls out of reach
/// is out of reach for any rule of this window and false-alarm rate.
///
/// Where the share wobbles from minute to minute (log-normal, variance
/// `wobble` of its log), no detector knows the minute's wobble: the test
/// knows the share without it, and the 5xx are binomial under the share
/// times the wobble, integrated over it (the window's minutes wobble
/// independently: their weighted mean's log variance by Fenton–Wilkinson,
/// which is narrower than one minute's, again generous to the test).
/// Not `grid`: the test is not told where the simulator's minutes begin
/// (real traffic has no such boundaries, and no rule is told them), so
/// the window's share wobbles as one minute's does.
fn reachable(first_minute: &[Second], alpha: f64, wobble: f64, grid: bool) -> bool {
    let window = &first_minute[..first_minute.len().min(60)];
    let n: u64 = window.iter().map(|s| u64::from(s.n)).sum();
    let e: u64 = window.iter().map(|s| u64::from(s.e)).sum();
    if n == 0 {
        return false;
    }
    if wobble == 0.0 {
        let expected: f64 = window.iter().map(|s| f64::from(s.n) * s.normal).sum();
        return binomial_tail(n, e, expected / n as f64) <= alpha;
    }
    let p = window.iter().map(|s| f64::from(s.n) * s.base).sum::<f64>() / n as f64;
    let mut weights: BTreeMap<i64, f64> = BTreeMap::new();
    for s in window {
        *weights.entry(s.minute).or_default() += f64::from(s.n) / n as f64;
    }
    let w2: f64 = if grid {
        weights.values().map(|w| w * w).sum()
    } else {
        1.0
    };
    let s2 = ((wobble.exp() - 1.0) * w2).ln_1p();
    let sigma = s2.sqrt();
    let q = e as f64 / n as f64;
    // Where the share reaches the window's, the tail counts whole; below,
    // it is integrated in steps of 0.01 until the rest cannot matter.
    let z_star = ((q / p).ln() + s2 / 2.0) / sigma;
    let mut total = libm::erfc(z_star / std::f64::consts::SQRT_2) / 2.0;
    let density = |z: f64| (-z * z / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let mut z = z_star.min(8.0);
    while total <= alpha && z > -8.0 {
        let share = (p * (sigma * z - s2 / 2.0).exp()).min(1.0);
        let part = density(z) * binomial_tail(n, e, share) * 0.01;
        total += part;
        if z < 0.0 && part < alpha * 1e-6 {
            break;
        }
        z -= 0.01;
    }
    total <= alpha
}

/// A failed request's detail: client number `c`.
fn client(c: u32) -> Detail<'static> {
    Detail {
        client: Some(Cow::Owned(
            format!("10.{}.{}.{}", c >> 16, (c >> 8) & 255, c & 255).into_bytes(),
        )),
        path: None,
    }
}

/// The request rate a cell's host has at second `t`.
fn rate_at(cell: Cell, t: i64) -> f64 {
    match cell.variant {
        Variant::Diurnal | Variant::Blips | Variant::Flash | Variant::Fleet => {
            cell.volume * diurnal(t - T0)
        }
        _ => cell.volume,
    }
}

/// What one cell scored.
#[derive(Default, Clone)]
struct Tally {
    host_days: u64,
    false_incidents: u64,
    /// The false incidents' first few, for the report.
    examples: Vec<String>,
    outages: u64,
    found: u64,
    /// Lags of outages of ≥ 20 % at ≥ 2 req/s.
    sharp_lags: Vec<i64>,
    /// Outages of ≥ 20 % at ≥ 2 req/s.
    sharp: u64,
    /// Of those, not detected within 60 s.
    late: u64,
    /// Of those, the ones no test at the rule's level could have flagged
    /// in their first minute, even knowing the normal share ([`reachable`]).
    beyond: u64,
    /// Sharp outages out of that reach, late or not.
    out_of_reach: u64,
    /// Of the late ones, those beyond the reach of that test when it is
    /// not told where the simulator's minutes begin (`reachable`'s
    /// `grid`): on the overdispersed kind, more than `beyond`.
    beyond_blind: u64,
    /// The first few of those, for the report.
    late_examples: Vec<String>,
    /// The first few outages missed outright, sharp or not.
    missed_examples: Vec<String>,
}

/// Runs `days` host-days of a cell from `seed`, every other day with an
/// outage (at ≥ 2 req/s: a 20–100 % share for 3–10 min).
fn run_cell(cell: Cell, days: u64, seed: u64, params: &Params) -> Tally {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut tally = Tally::default();
    for d in 0..days {
        let start = T0 + d as i64 * DAY;
        let outage = (d % 2 == 1 && cell.volume >= 2.0).then(|| Outage {
            onset: start + rng.random_range(3 * 3600..DAY - 3600),
            len: rng.random_range(180..=600),
            share: rng.random_range(0.2..=1.0),
        });
        let (mut buckets, outage, first_minute) = host_day(&mut rng, cell, start, outage, "web-01");
        tally.host_days += 1;
        if cell.variant == Variant::Fleet {
            let clean = Cell { base: 0.0, ..cell };
            buckets.merge(host_day(&mut rng, clean, start, None, "web-02").0);
            tally.host_days += 1;
        }
        let incidents = detect(&buckets, &[], params);
        score_day(&mut tally, cell, &incidents, outage, &first_minute, params);
    }
    tally
}

fn score_day(
    tally: &mut Tally,
    cell: Cell,
    incidents: &[Incident],
    outage: Option<Outage>,
    first_minute: &[Second],
    params: &Params,
) {
    let overlaps = |i: &Incident, o: &Outage| {
        i.start <= o.onset + o.len + params.cooldown && i.end >= o.onset - params.window
    };
    for i in incidents {
        if outage.is_some_and(|o| overlaps(i, &o)) {
            continue;
        }
        tally.false_incidents += 1;
        if tally.examples.len() < 3 {
            tally.examples.push(format!(
                "{} at {}+{}s: {} of {} requests, peak {:.1} %",
                i.kind.name(),
                (i.start - T0) / DAY,
                (i.start - T0) % DAY,
                i.errors,
                i.requests,
                i.peak_error_ratio * 100.0
            ));
        }
    }
    let Some(o) = outage else {
        return;
    };
    tally.outages += 1;
    let hit = incidents
        .iter()
        .filter(|i| i.kind == Kind::ErrorBurst && overlaps(i, &o))
        .map(|i| i.detected)
        .min();
    // The outage, for the report: its rise, length, rate and onset.
    let named = format!(
        "+{:.0} % for {} s at {:.1} req/s from {}+{}s",
        o.share * 100.0,
        o.len,
        rate_at(cell, o.onset),
        (o.onset - T0) / DAY,
        (o.onset - T0) % DAY,
    );
    if hit.is_some() {
        tally.found += 1;
    } else if tally.missed_examples.len() < 3 {
        tally.missed_examples.push(named.clone());
    }
    if o.share >= 0.2 && rate_at(cell, o.onset) >= 2.0 {
        tally.sharp += 1;
        let alpha = 60.0 / params.alarm_every as f64;
        let wobble = if cell.variant == Variant::Overdispersed {
            WOBBLE * WOBBLE
        } else {
            0.0
        };
        let beyond = !reachable(first_minute, alpha, wobble, true);
        tally.out_of_reach += u64::from(beyond);
        let lag = hit.map(|d| d - o.onset);
        if let Some(lag) = lag {
            tally.sharp_lags.push(lag);
        }
        if lag.is_none_or(|l| l > 60) {
            tally.late += 1;
            tally.beyond += u64::from(beyond);
            tally.beyond_blind +=
                u64::from(beyond || !reachable(first_minute, alpha, wobble, false));
            if tally.late_examples.len() < 3 {
                let (n, e) = first_minute
                    .iter()
                    .fold((0, 0), |(n, e), s| (n + s.n, e + s.e));
                tally.late_examples.push(format!(
                    "{named}: {} (first minute: {e} 5xx of {n}{})",
                    lag.map_or("missed".into(), |l| format!("{l} s")),
                    if beyond { ", beyond reach" } else { "" }
                ));
            }
        }
    }
}

fn median(v: &[i64]) -> Option<i64> {
    let mut v = v.to_vec();
    v.sort_unstable();
    (!v.is_empty()).then(|| v[v.len() / 2])
}

/// Every cell of the grid for `variants`, `days` host-days each, cell `k`
/// seeded with `seed + k`.
fn run_grid(
    variants: &[Variant],
    days: u64,
    seed: u64,
    params: &Params,
) -> BTreeMap<(Variant, usize, usize), Tally> {
    // `LOGBURST_NOISE_CELL=volume:share%` (e.g. `2:3`) replays one cell
    // of each kind, on the seed it has in the whole grid.
    let only = std::env::var("LOGBURST_NOISE_CELL").ok();
    let mut cells = Vec::new();
    for &variant in variants {
        for (v, &volume) in VOLUMES.iter().enumerate() {
            for (b, &base) in BASES.iter().enumerate() {
                let name = format!("{volume}:{}", base * 100.0);
                let cell = Cell {
                    volume,
                    base,
                    variant,
                };
                let picked = only.as_ref().is_none_or(|o| *o == name);
                cells.push(((variant, v, b), picked.then_some(cell)));
            }
        }
    }
    if let Some(o) = &only {
        assert!(
            cells.iter().any(|c| c.1.is_some()),
            "LOGBURST_NOISE_CELL={o} names no cell of the grid (volume:share%, e.g. 2:3 or 0.2:0.1)"
        );
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = cells
            .iter()
            .enumerate()
            .filter_map(|(k, (key, cell))| Some((k, key, (*cell)?)))
            .map(|(k, key, cell)| {
                let seed = seed.wrapping_add(k as u64);
                (
                    *key,
                    scope.spawn(move || run_cell(cell, days, seed, params)),
                )
            })
            .collect();
        handles
            .into_iter()
            .map(|(key, h)| (key, h.join().expect("cell ran")))
            .collect()
    })
}

/// The first dozen of what `pick` lists in each cell, named by cell.
fn listed(
    grid: &BTreeMap<(Variant, usize, usize), Tally>,
    pick: impl Fn(&Tally) -> &Vec<String>,
) -> Vec<String> {
    grid.iter()
        .flat_map(|((v, vi, bi), t)| {
            pick(t).iter().map(move |e| {
                format!(
                    "  {} {} req/s {}%: {e}",
                    v.name(),
                    VOLUMES[*vi],
                    BASES[*bi] * 100.0
                )
            })
        })
        .take(12)
        .collect()
}

/// Totals over cells, and the table.
struct Summary {
    host_days: u64,
    false_incidents: u64,
    worst_cell_rate: f64,
    outages: u64,
    found: u64,
    sharp_lags: Vec<i64>,
    sharp: u64,
    late: u64,
    beyond: u64,
    out_of_reach: u64,
    beyond_blind: u64,
    table: String,
}

fn summarise(grid: &BTreeMap<(Variant, usize, usize), Tally>) -> Summary {
    let mut s = Summary {
        host_days: 0,
        false_incidents: 0,
        worst_cell_rate: 0.0,
        outages: 0,
        found: 0,
        sharp_lags: Vec::new(),
        sharp: 0,
        late: 0,
        beyond: 0,
        out_of_reach: 0,
        beyond_blind: 0,
        table: String::new(),
    };
    let mut variants: Vec<Variant> = grid.keys().map(|k| k.0).collect();
    variants.dedup();
    for v in variants {
        let _ = writeln!(
            s.table,
            "\n{}: false incidents per 100 host-days (volume × normal 5xx share)",
            v.name()
        );
        let _ = write!(s.table, "{:>10}", "req/s");
        for b in BASES {
            let _ = write!(s.table, "{:>9}", format!("{}%", b * 100.0));
        }
        let _ = writeln!(s.table);
        for (vi, volume) in VOLUMES.iter().enumerate() {
            let _ = write!(s.table, "{volume:>10}");
            for bi in 0..BASES.len() {
                // A cell left out (`LOGBURST_NOISE_CELL`) reads as a dot.
                let Some(t) = grid.get(&(v, vi, bi)) else {
                    let _ = write!(s.table, "{:>9}", "·");
                    continue;
                };
                let rate = 100.0 * t.false_incidents as f64 / t.host_days.max(1) as f64;
                let _ = write!(s.table, "{:>9}", format!("{rate:.1}"));
                s.worst_cell_rate = s.worst_cell_rate.max(rate);
                s.host_days += t.host_days;
                s.false_incidents += t.false_incidents;
                s.outages += t.outages;
                s.found += t.found;
                s.sharp_lags.extend(&t.sharp_lags);
                s.sharp += t.sharp;
                s.late += t.late;
                s.beyond += t.beyond;
                s.out_of_reach += t.out_of_reach;
                s.beyond_blind += t.beyond_blind;
            }
            let _ = writeln!(s.table);
        }
    }
    type Pick = fn(&Tally) -> &Vec<String>;
    let lists: [(&str, Pick); 3] = [
        ("sharp outages late or missed", |t| &t.late_examples),
        ("outages missed", |t| &t.missed_examples),
        ("false incidents, first of each cell", |t| &t.examples),
    ];
    for (title, pick) in lists {
        let lines = listed(grid, pick);
        if !lines.is_empty() {
            let _ = writeln!(s.table, "\n{title}:");
            for e in lines {
                let _ = writeln!(s.table, "{e}");
            }
        }
    }
    let _ = writeln!(
        s.table,
        "\n{} host-days, {} false incidents ({:.2} per 100 host-days, worst cell {:.1}); outages found {}/{}; {} sharp (≥ 20 % at ≥ 2 req/s): median lag {} s, {} later than 60 s or missed, {} of them beyond the reach of a test at the level that knows the normal share and tests the first minute whole ({} of all sharp outages are beyond that reach); {} of the late beyond it when it is not told where the simulator's minutes begin",
        s.host_days,
        s.false_incidents,
        100.0 * s.false_incidents as f64 / s.host_days.max(1) as f64,
        s.worst_cell_rate,
        s.found,
        s.outages,
        s.sharp,
        median(&s.sharp_lags).map_or("-".into(), |m| m.to_string()),
        s.late,
        s.beyond,
        s.out_of_reach,
        s.beyond_blind
    );
    s
}

/// CI's gate: a fixed seed set (so it never fails by chance), two
/// host-days per cell of the tuned variants and the held-out ones; fails
/// when a target is crossed. Recall and lag are gated where the outages
/// stand out of healthy variation: on the overdispersed variant a share
/// that wanders log-normally (σ = 0.3 a minute) reaches four times its
/// normal once a year, so outages of less than that on a high-share host
/// are within its healthy noise (reported, not promised).
#[test]
fn noise_gate() {
    let params = Params::default();
    assert_eq!(DEFAULT, params, "DEFAULT is Params::default() written out");
    let mut variants = TUNED.to_vec();
    variants.extend(HELD_OUT);
    let mut grid = run_grid(&variants, 2, 0x1ab5_2022, &params);
    grid.extend(run_grid(&[Variant::Retries], 2, 0x1ab5_2023, &NARROW));
    let s = summarise(&grid);
    println!("{}", s.table);
    let rate = 100.0 * s.false_incidents as f64 / s.host_days as f64;
    assert!(
        rate <= 1.0,
        "{rate:.2} false incidents per 100 host-days\n{}",
        s.table
    );
    let clear: BTreeMap<_, _> = grid
        .into_iter()
        .filter(|((v, _, _), _)| *v != Variant::Overdispersed)
        .collect();
    let c = summarise(&clear);
    // Every sharp outage (≥ 20 % at ≥ 2 req/s) found within 60 s; the
    // others (at night on a diurnal host, a fifth of requests failing at
    // 0.2 req/s is under --min-errors a minute) are reported.
    assert_eq!(c.late, 0, "sharp outages missed or late\n{}", s.table);
    assert!(
        median(&s.sharp_lags).is_some_and(|m| m <= 30),
        "median lag\n{}",
        s.table
    );
}

/// The benchmark: fresh seeds every run (printed), `LOGBURST_NOISE_DAYS`
/// host-days per cell.
#[test]
#[ignore = "a benchmark: run with --ignored --nocapture in release"]
fn noise_benchmark() {
    let days: u64 = std::env::var("LOGBURST_NOISE_DAYS")
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(4);
    let seed: u64 = std::env::var("LOGBURST_NOISE_SEED")
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(rand::random);
    println!("noise benchmark: seed {seed} (LOGBURST_NOISE_SEED={seed} replays it), {days} host-days per cell");
    for detector in [Detector::Baseline, Detector::Threshold] {
        let params = Params {
            detector,
            ..Params::default()
        };
        let mut variants = TUNED.to_vec();
        variants.extend(HELD_OUT);
        let mut grid = run_grid(&variants, days, seed, &params);
        let narrow = Params {
            min_clients: 2,
            ..params
        };
        grid.extend(run_grid(&[Variant::Retries], days, seed, &narrow));
        let s = summarise(&grid);
        println!(
            "\n== detector {} (retry storms with --min-clients 2){}",
            detector.name(),
            s.table
        );
    }
    // What the retry storms give without --min-clients.
    let s = summarise(&run_grid(&[Variant::Retries], days, seed, &DEFAULT));
    println!("\n== retry storms without --min-clients{}", s.table);
    // The trade-off: the baseline rule's level against false incidents
    // and lag, on every variant.
    println!("\n== trade-off (--false-alarm-every): level, false incidents per 100 host-days, median lag of sharp outages, sharp outages late or missed");
    for (name, every) in [
        ("1d", 86_400),
        ("7d", 7 * 86_400),
        ("30d", 30 * 86_400),
        ("365d (default)", 365 * 86_400),
    ] {
        let params = Params {
            alarm_every: every,
            ..Params::default()
        };
        let mut variants = TUNED.to_vec();
        variants.extend(HELD_OUT);
        let s = summarise(&run_grid(&variants, days, seed, &params));
        println!(
            "{name:>15}  {:6.2}  {:>4} s  {}",
            100.0 * s.false_incidents as f64 / s.host_days as f64,
            median(&s.sharp_lags).map_or("-".into(), |m| m.to_string()),
            s.late
        );
    }
}

/// One kind alone, many host-days a cell, to tell a cell's rate apart from
/// ≤ 1 per 100 host-days (at 20 host-days a cell one false incident reads
/// as 5): `LOGBURST_NOISE_VARIANT` (a kind's name's first word, e.g.
/// `overdispersed`, or `all`), `LOGBURST_NOISE_DAYS` (default 200), fresh seed
/// printed (`LOGBURST_NOISE_SEED` replays it), `LOGBURST_NOISE_EVERY` the
/// level in days (default the rule's). `cargo test --release
/// --test it noise_variant -- --ignored --nocapture`.
#[test]
#[ignore = "a benchmark: run with --ignored --nocapture in release"]
fn noise_variant() {
    let var = |k: &str| std::env::var(k).ok();
    let days: u64 = var("LOGBURST_NOISE_DAYS")
        .and_then(|d| d.parse().ok())
        .unwrap_or(200);
    let seed: u64 = var("LOGBURST_NOISE_SEED")
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(rand::random);
    let name = var("LOGBURST_NOISE_VARIANT").unwrap_or_else(|| "overdispersed".into());
    let mut all = TUNED.to_vec();
    all.extend(HELD_OUT);
    all.push(Variant::Retries);
    let first_word = |v: &Variant| v.name().split(|c: char| !c.is_alphanumeric()).next();
    let picked: Vec<Variant> = all
        .into_iter()
        .filter(|v| name == "all" || first_word(v) == Some(name.as_str()))
        .collect();
    assert!(!picked.is_empty(), "no kind named {name}");
    println!("noise variant {name}: seed {seed} (LOGBURST_NOISE_SEED={seed} replays it), {days} host-days per cell");
    // `LOGBURST_NOISE_EVERY`: the level in days (`--false-alarm-every`).
    let every = var("LOGBURST_NOISE_EVERY")
        .and_then(|d| d.parse::<i64>().ok())
        .map_or(DEFAULT.alarm_every, |d| d * 86_400);
    println!("level: one false alarm per {} days", every / 86_400);
    let mut grid = BTreeMap::new();
    for v in picked {
        let params = Params {
            alarm_every: every,
            ..if v == Variant::Retries {
                NARROW
            } else {
                DEFAULT
            }
        };
        grid.extend(run_grid(&[v], days, seed, &params));
    }
    println!("{}", summarise(&grid).table);
}

/// The oracle's tail against sums done by hand.
#[test]
fn binomial_tail_is_exact() {
    // (45 + 10 + 1) / 1024.
    assert!((binomial_tail(10, 8, 0.5) - 56.0 / 1024.0).abs() < 1e-12);
    assert_eq!(binomial_tail(10, 0, 0.3), 1.0);
    assert_eq!(binomial_tail(10, 11, 0.3), 0.0);
    // 1 − 0.99^100.
    assert!((binomial_tail(100, 1, 0.01) - (1.0 - 0.99f64.powi(100))).abs() < 1e-12);
    // Far in the tail, and near the rule's level (both summed exactly in
    // rationals by Python's fractions).
    let close = |got: f64, want: f64| (got / want - 1.0).abs() < 1e-9;
    assert!(close(
        binomial_tail(1000, 60, 0.01),
        1.843_827_984_012_201_3e-27
    ));
    assert!(close(
        binomial_tail(120, 30, 0.1),
        1.892_150_972_587_341_6e-6
    ));
}

/// The oracle under a wobbling share: for many requests the binomial is
/// all but a step at the window's share, so the chance is that of the
/// wobble reaching it, P(Z ≥ (ln(q/p) + σ²/2)/σ) — 6.9e-5 for 30 % over
/// 10 % at σ = 0.3 — while without the wobble it is far below any level.
#[test]
fn the_oracle_knows_the_share_not_its_wobble() {
    let window: Vec<Second> = (0..60)
        .map(|s| Second {
            n: 200,
            e: 60,
            normal: 0.1,
            base: 0.1,
            minute: 7 + s / 120,
        })
        .collect();
    for grid in [true, false] {
        assert!(reachable(&window, 1e-10, 0.0, grid));
        assert!(reachable(&window, 1e-4, WOBBLE * WOBBLE, grid));
        assert!(!reachable(&window, 3e-5, WOBBLE * WOBBLE, grid));
    }
    // Spread over two minutes that wobble independently, the same share
    // is reachable at a lower level.
    let two: Vec<Second> = window
        .iter()
        .enumerate()
        .map(|(i, s)| Second {
            minute: 7 + i as i64 / 30,
            ..*s
        })
        .collect();
    assert!(reachable(&two, 3e-5, WOBBLE * WOBBLE, true));
    // Unless it is not told where the minutes begin: then the window
    // wobbles as one minute does.
    assert!(!reachable(&two, 3e-5, WOBBLE * WOBBLE, false));
}

/// A burst too mild for one minute's wandering: a host at 200 req/s whose
/// 10 % share wobbles ±30 % a minute (σ = 0.3), then 8 minutes at four
/// times its share. No one minute of it is beyond the wobble at the
/// one-a-year level (that takes about 4.6 times); five minutes are. Found by
/// the sustained window within its five minutes, and over when the burst
/// is (not five minutes after).
#[test]
fn a_mild_burst_over_a_wobbling_share_is_found_by_five_minutes() {
    for seed in 0..8 {
        let mut rng = StdRng::seed_from_u64(0x5057 + seed);
        let wobble = LogNormal::new(-WOBBLE * WOBBLE / 2.0, WOBBLE).expect("valid log-normal");
        let mut buckets = BucketSet::default();
        let series = buckets.series_mut("web-01");
        let onset = T0 + 3 * 3600;
        let end = onset + 480;
        let mut factor = 1.0;
        for t in T0..T0 + 4 * 3600 {
            if (t - T0) % 60 == 0 {
                factor = wobble.sample(&mut rng);
            }
            let share = if (onset..end).contains(&t) {
                0.4
            } else {
                0.1 * factor
            };
            series.add_second(t, 200, binomial(&mut rng, 200, share));
        }
        let incidents = detect(&buckets, &[], &DEFAULT);
        let bursts: Vec<&Incident> = incidents
            .iter()
            .filter(|i| i.kind == Kind::ErrorBurst)
            .collect();
        assert_eq!(bursts.len(), 1, "seed {seed}: {incidents:#?}");
        let b = bursts[0];
        assert!(
            (onset..=onset + 300).contains(&b.detected),
            "seed {seed}: detected {} s after onset",
            b.detected - onset
        );
        assert!(
            b.end <= end + 60,
            "seed {seed}: over {} s after the burst",
            b.end - end
        );
    }
}
