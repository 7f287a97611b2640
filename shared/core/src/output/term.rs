//! The terminal: kubectl's humanised ages, colour (on a TTY only, `NO_COLOR`, `--color`) and
//! fitting a table to the terminal's width. Pure: the binary says whether its streams are
//! terminals and how wide; nothing here looks.

use std::time::Duration;

/// kubectl's AGE: `5s`, `3m2s`, `12m`, `4h5m`, `10h`, `3d4h`, `12d`, `2y30d`, `9y`
/// (apimachinery's `duration.HumanDuration`). Negative durations (clock skew) are `0s`.
pub fn human_age(d: Duration) -> String {
    let secs = d.as_secs();
    if secs < 120 {
        return format!("{secs}s");
    }
    let minutes = secs / 60;
    if minutes < 10 {
        let s = secs % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// The AGE of an object created at `created` (RFC 3339), seen at `now`; `-` when unknown.
pub fn age_since(created: Option<&str>, now_unix_secs: i64) -> String {
    let Some(t) = created.and_then(parse_rfc3339_secs) else {
        return "-".into();
    };
    human_age(Duration::from_secs(
        now_unix_secs.saturating_sub(t).max(0) as u64
    ))
}

/// Seconds since the epoch of an RFC 3339 UTC time as the API writes it
/// (`2026-12-03T13:01:15Z`, fractions allowed), without a date library.
fn parse_rfc3339_secs(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || !s.ends_with('Z') {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (h, mi, se) = (n(11..13)?, n(14..16)?, n(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + se)
}

/// `--color`: kubectl-style `auto` (on a terminal, unless `NO_COLOR`), `always`, `never`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour a stream: `always` does, `never` does not; `auto` only a terminal,
    /// and never when `NO_COLOR` is set to anything but the empty string (no-color.org).
    pub fn enabled(self, is_terminal: bool, no_color: Option<&str>) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => is_terminal && no_color.is_none_or(str::is_empty),
        }
    }
}

/// The colours the plugins use, by meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// errors, failed, lost
    Bad,
    /// warnings, pending, in progress
    Warn,
    /// bound, ready, succeeded
    Good,
    /// info, not applicable
    Dim,
}

impl Tone {
    fn ansi(self) -> &'static str {
        match self {
            Tone::Bad => "\x1b[31m",
            Tone::Warn => "\x1b[33m",
            Tone::Good => "\x1b[32m",
            Tone::Dim => "\x1b[2m",
        }
    }

    /// comfy-table's colour of the tone (`None`: its default style).
    pub fn table_color(self) -> comfy_table::Color {
        match self {
            Tone::Bad => comfy_table::Color::Red,
            Tone::Warn => comfy_table::Color::Yellow,
            Tone::Good => comfy_table::Color::Green,
            Tone::Dim => comfy_table::Color::DarkGrey,
        }
    }
}

/// `text` in `tone` when `on`, else as is.
pub fn paint(text: &str, tone: Tone, on: bool) -> String {
    if on {
        format!("{}{text}\x1b[0m", tone.ansi())
    } else {
        text.to_string()
    }
}

/// kubectl's `error:` prefix, red and bold when `on`.
pub fn error_prefix(on: bool) -> String {
    if on {
        "\x1b[1;31merror:\x1b[0m".into()
    } else {
        "error:".into()
    }
}

/// The tone of a word the plugins print in a status-like cell (phases, states, severities,
/// `severity:code` lists); `None` leaves it plain.
pub fn tone_of(word: &str) -> Option<Tone> {
    let first = word.split([',', ' ', ':', '(']).next().unwrap_or(word);
    match first {
        "error" | "Error" | "Failed" | "Lost" | "Missing" | "FAIL" | "BLOCKED" | "down"
        | "Unknown" => Some(Tone::Bad),
        "warning" | "Warning" | "Pending" | "Released" | "Cut" | "warn" | "Terminating"
        | "recovering" | "STARTUP" | "RECOVERING" => Some(Tone::Warn),
        "Bound" | "Available" | "Succeeded" | "Running" | "Ready" | "streaming" | "PRIMARY"
        | "SECONDARY" | "primary" | "replica" | "master" | "slave" | "connected" | "ok" => {
            Some(Tone::Good)
        }
        "info" => Some(Tone::Dim),
        _ => None,
    }
}

/// Text from object data made safe for a terminal: every control character (C0, DEL, C1, so
/// no escape sequence gets through) is written as a Rust-style escape (`\x1b`, `\u{9b}`);
/// newlines too when `newlines` (one table cell is one line).
pub fn escape_control(s: &str, newlines: bool) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && (newlines || c != '\n');
    if !s.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !unsafe_char(c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The ellipsis that ends a shortened cell.
pub const ELLIPSIS: char = '…';

/// `s` cut to `width` characters, ending with `…` when cut.
pub fn ellipsize(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(width - 1).collect();
    out.push(ELLIPSIS);
    out
}

/// A column that may be shortened to fit the terminal: its index, and the narrowest it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shrink {
    pub column: usize,
    pub min: usize,
}

/// Column widths that fit `budget` characters (columns `gap` apart); `None`: the column is
/// left out. First, while the table would not fit even with every column of `order` at its
/// minimum, the columns of `order` are left out, in that order. Then the columns kept are
/// shortened in that order, each down to its minimum before the next one is touched. Columns
/// not in `order` (the names a user copies) are never shortened nor left out, so the result may
/// still be wider than the budget: then lines wrap, names stay whole.
pub fn fit_widths(
    widths: &[usize],
    gap: usize,
    order: &[Shrink],
    budget: usize,
) -> Vec<Option<usize>> {
    let mut w: Vec<Option<usize>> = widths.iter().copied().map(Some).collect();
    let total = |w: &[Option<usize>]| {
        let kept: Vec<usize> = w.iter().flatten().copied().collect();
        kept.iter().sum::<usize>() + gap * kept.len().saturating_sub(1)
    };
    let at_min = |w: &[Option<usize>]| {
        let mut m = w.to_vec();
        for s in order {
            if let Some(Some(cur)) = m.get(s.column).copied() {
                m[s.column] = Some(cur.min(s.min));
            }
        }
        total(&m)
    };
    for s in order {
        if at_min(&w) <= budget {
            break;
        }
        if let Some(slot) = w.get_mut(s.column) {
            *slot = None;
        }
    }
    for s in order {
        let over = total(&w).saturating_sub(budget);
        if over == 0 {
            break;
        }
        if let Some(Some(cur)) = w.get(s.column).copied() {
            w[s.column] = Some(cur.saturating_sub(over).max(s.min.min(cur)));
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    /// apimachinery's HumanDuration, boundary by boundary.
    #[test]
    fn ages_as_kubectl() {
        let cases = [
            (0, "0s"),
            (5, "5s"),
            (119, "119s"),
            (120, "2m"),
            (182, "3m2s"),
            (600, "10m"),
            (179 * 60, "179m"),
            (3 * 3600, "3h"),
            (4 * 3600 + 5 * 60, "4h5m"),
            (8 * 3600, "8h"),
            (47 * 3600, "47h"),
            (48 * 3600, "2d"),
            (3 * 86400 + 4 * 3600, "3d4h"),
            (12 * 86400, "12d"),
            (729 * 86400, "729d"),
            (730 * 86400, "2y"),
            (760 * 86400, "2y30d"),
            (9 * 365 * 86400, "9y"),
        ];
        for (s, want) in cases {
            assert_eq!(human_age(Duration::from_secs(s)), want, "{s}s");
        }
    }

    #[test]
    fn ages_from_timestamps() {
        let now = parse_rfc3339_secs("2026-12-03T13:01:15Z").unwrap();
        assert_eq!(age_since(Some("2026-12-03T13:01:10Z"), now), "5s");
        assert_eq!(age_since(Some("2026-11-21T13:01:15.123Z"), now), "12d");
        assert_eq!(age_since(Some("2024-12-03T13:01:15Z"), now), "2y");
        assert_eq!(age_since(Some("2026-12-03T13:02:15Z"), now), "0s");
        assert_eq!(age_since(Some("yesterday"), now), "-");
        assert_eq!(age_since(None, now), "-");
        assert_eq!(parse_rfc3339_secs("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339_secs("2000-03-01T00:00:00Z"),
            Some(951_868_800)
        );
    }

    #[test]
    fn colour_only_where_asked() {
        use ColorChoice::*;
        assert!(Auto.enabled(true, None));
        assert!(Auto.enabled(true, Some("")));
        assert!(!Auto.enabled(true, Some("1")));
        assert!(!Auto.enabled(false, None));
        assert!(Always.enabled(false, Some("1")));
        assert!(!Never.enabled(true, None));
        assert_eq!(paint("x", Tone::Bad, false), "x");
        assert_eq!(paint("x", Tone::Bad, true), "\x1b[31mx\x1b[0m");
    }

    #[test]
    fn fitting_shortens_in_order_and_never_names() {
        // name 10, backend 30, problems 20, gaps 3: 66 wide.
        let w = [10, 30, 20];
        let order = [Shrink { column: 1, min: 8 }, Shrink { column: 2, min: 9 }];
        let some = |v: &[usize]| v.iter().copied().map(Some).collect::<Vec<_>>();
        assert_eq!(fit_widths(&w, 3, &order, 80), some(&[10, 30, 20]));
        assert_eq!(fit_widths(&w, 3, &order, 56), some(&[10, 20, 20]));
        assert_eq!(fit_widths(&w, 3, &order, 40), some(&[10, 8, 16]));
        assert_eq!(fit_widths(&w, 3, &order, 33), some(&[10, 8, 9]));
        // Too narrow for every minimum: the backend is left out first, then the problems,
        // and the rest shortened; the name stays whole even when it alone does not fit.
        assert_eq!(
            fit_widths(&w, 3, &order, 32),
            vec![Some(10), None, Some(19)]
        );
        assert_eq!(fit_widths(&w, 3, &order, 22), vec![Some(10), None, Some(9)]);
        assert_eq!(fit_widths(&w, 3, &order, 21), vec![Some(10), None, None]);
        assert_eq!(fit_widths(&w, 3, &order, 5), vec![Some(10), None, None]);
        assert_eq!(ellipsize("abcdef", 4), "abc…");
        assert_eq!(ellipsize("abc", 4), "abc");
    }
}
