//! Month names as localized systems write them: journalctl and syslog
//! daemons format `%b` in the locale they run under, so a Russian server's
//! journal says `апр 02 07:00:13`, a Japanese one ` 4月 02 07:00:13`.

/// Month abbreviations as `strftime("%b")` writes them in the locales
/// journalctl and syslog daemons run under (glibc's `abmon`, with the
/// variants older releases used), besides English: German, French,
/// Spanish, Italian, Portuguese, Russian, Polish, Dutch, Chinese and
/// Japanese. Compared without case and without a final dot (`févr.`).
const LOCAL_MONTHS: &[(&str, u32)] = &[
    // German
    ("mär", 3),
    ("mrz", 3),
    ("mai", 5),
    ("okt", 10),
    ("dez", 12),
    // French
    ("janv", 1),
    ("févr", 2),
    ("mars", 3),
    ("avr", 4),
    ("avril", 4),
    ("juin", 6),
    ("juil", 7),
    ("août", 8),
    ("sept", 9),
    ("déc", 12),
    // Spanish
    ("ene", 1),
    ("abr", 4),
    ("ago", 8),
    ("dic", 12),
    // Italian
    ("gen", 1),
    ("mag", 5),
    ("giu", 6),
    ("lug", 7),
    ("set", 9),
    ("ott", 10),
    // Portuguese
    ("fev", 2),
    ("out", 10),
    // Russian
    ("янв", 1),
    ("фев", 2),
    ("мар", 3),
    ("апр", 4),
    ("мая", 5),
    ("май", 5),
    ("июн", 6),
    ("июл", 7),
    ("авг", 8),
    ("сен", 9),
    ("окт", 10),
    ("ноя", 11),
    ("дек", 12),
    // Polish
    ("sty", 1),
    ("lut", 2),
    ("kwi", 4),
    ("maj", 5),
    ("cze", 6),
    ("lip", 7),
    ("sie", 8),
    ("wrz", 9),
    ("paź", 10),
    ("lis", 11),
    ("gru", 12),
    // Dutch
    ("mrt", 3),
    ("mei", 5),
    // Chinese and Japanese
    ("1月", 1),
    ("2月", 2),
    ("3月", 3),
    ("4月", 4),
    ("5月", 5),
    ("6月", 6),
    ("7月", 7),
    ("8月", 8),
    ("9月", 9),
    ("10月", 10),
    ("11月", 11),
    ("12月", 12),
];

/// A localized month at the start of `b` (Japanese pads ` 5月` with a
/// space): the month and where the day starts.
pub fn local_month(b: &[u8]) -> Option<(u32, usize)> {
    let lead = usize::from(b.first() == Some(&b' '));
    let sp = lead + memchr::memchr(b' ', b.get(lead..(lead + 16).min(b.len()))?)?;
    let token = &b[lead..sp];
    let token = token.strip_suffix(b".").unwrap_or(token);
    if token.is_empty() {
        return None;
    }
    let token = std::str::from_utf8(token).ok()?;
    let month = LOCAL_MONTHS.iter().find_map(|(name, m)| {
        token
            .chars()
            .flat_map(char::to_lowercase)
            .eq(name.chars())
            .then_some(*m)
    })?;
    Some((month, sp + 1))
}
