//! Civil dates, the time zones the dataset uses, and their VTIMEZONE blocks.
//!
//! Times are plain `i64` seconds: "UTC seconds" are Unix time, "local seconds" are the
//! wall-clock reading of a zone counted as if it were UTC. The dataset only places
//! events between 07:00 and 23:00 local time, and every zone below changes its offset
//! between 01:00 and 03:00, so the offset of a dataset time depends on its date alone.
//! The rules are the 2007+ US, EU and Australian ones, which hold for 2025–2027.

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// Days from 1970-01-01 to 2025-01-01, where the dataset starts.
pub const START_DAY: i64 = 20_089;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(month) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day number.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Day of the week, 0 = Sunday.
pub fn weekday(days: i64) -> i64 {
    (days + 4).rem_euclid(7)
}

/// The `n`th Sunday (1-based) of a month, as a day number.
pub fn nth_sunday(year: i64, month: u32, n: i64) -> i64 {
    let first = days_from_civil(year, month, 1);
    first + (7 - weekday(first)) % 7 + (n - 1) * 7
}

/// The last Sunday of a month, as a day number.
pub fn last_sunday(year: i64, month: u32) -> i64 {
    let next = if month == 12 {
        days_from_civil(year + 1, 1, 1)
    } else {
        days_from_civil(year, month + 1, 1)
    };
    let last = next - 1;
    last - weekday(last)
}

/// `YYYYMMDD`.
pub fn fmt_date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}{m:02}{d:02}")
}

/// `YYYYMMDDTHHMMSS` of a local or UTC seconds value (no suffix).
pub fn fmt_datetime(secs: i64) -> String {
    let t = secs.rem_euclid(DAY);
    format!(
        "{}T{:02}{:02}{:02}",
        fmt_date(secs.div_euclid(DAY)),
        t / 3600,
        t % 3600 / 60,
        t % 60
    )
}

/// `YYYYMMDDTHHMMSSZ`.
pub fn fmt_utc(secs: i64) -> String {
    format!("{}Z", fmt_datetime(secs))
}

/// `2025-03-04T10:00:00.0000000`, the way PowerAutomate writes times.
pub fn fmt_power_automate(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(DAY));
    let t = secs.rem_euclid(DAY);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.0000000",
        t / 3600,
        t % 3600 / 60,
        t % 60
    )
}

/// A time zone of the dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// UTC, written with a `Z` suffix and no VTIMEZONE.
    Utc,
    /// Europe/Berlin: +01:00, +02:00 from the last Sunday of March to the last of October.
    Berlin,
    /// America/New_York: −05:00, −04:00 from the 2nd Sunday of March to the 1st of November.
    NewYork,
    /// Asia/Tokyo: +09:00 all year.
    Tokyo,
    /// Australia/Sydney: +10:00, +11:00 from the 1st Sunday of October to the 1st of April.
    Sydney,
    /// Asia/Kolkata: +05:30 all year (a half-hour offset).
    Kolkata,
}

/// Every zone, in the order the generator picks from.
pub const ZONES: [Zone; 6] = [
    Zone::Utc,
    Zone::Berlin,
    Zone::NewYork,
    Zone::Tokyo,
    Zone::Sydney,
    Zone::Kolkata,
];

impl Zone {
    /// The IANA name used as TZID.
    pub fn tzid(self) -> &'static str {
        match self {
            Zone::Utc => "UTC",
            Zone::Berlin => "Europe/Berlin",
            Zone::NewYork => "America/New_York",
            Zone::Tokyo => "Asia/Tokyo",
            Zone::Sydney => "Australia/Sydney",
            Zone::Kolkata => "Asia/Kolkata",
        }
    }

    /// UTC offset in seconds at a local time between 04:00 and 23:59.
    pub fn offset(self, local: i64) -> i64 {
        let date = local.div_euclid(DAY);
        let (year, _, _) = civil_from_days(date);
        match self {
            Zone::Utc => 0,
            Zone::Berlin => {
                let dst = (last_sunday(year, 3)..last_sunday(year, 10)).contains(&date);
                if dst {
                    7200
                } else {
                    3600
                }
            }
            Zone::NewYork => {
                let dst = (nth_sunday(year, 3, 2)..nth_sunday(year, 11, 1)).contains(&date);
                if dst {
                    -4 * 3600
                } else {
                    -5 * 3600
                }
            }
            Zone::Tokyo => 9 * 3600,
            Zone::Sydney => {
                let standard = (nth_sunday(year, 4, 1)..nth_sunday(year, 10, 1)).contains(&date);
                if standard {
                    10 * 3600
                } else {
                    11 * 3600
                }
            }
            Zone::Kolkata => 5 * 3600 + 1800,
        }
    }

    /// The UTC instant of a local time (between 04:00 and 23:59).
    pub fn to_utc(self, local: i64) -> i64 {
        local - self.offset(local)
    }

    /// A date-time property line, e.g. `DTSTART;TZID=Europe/Berlin:20250304T100000`.
    pub fn property(self, name: &str, local: i64) -> String {
        match self {
            Zone::Utc => format!("{name}:{}", fmt_utc(local)),
            _ => format!("{name};TZID={}:{}", self.tzid(), fmt_datetime(local)),
        }
    }

    /// The VTIMEZONE lines for this zone (none for UTC).
    pub fn vtimezone(self) -> &'static [&'static str] {
        match self {
            Zone::Utc => &[],
            Zone::Berlin => &BERLIN,
            Zone::NewYork => &NEW_YORK,
            Zone::Tokyo => &TOKYO,
            Zone::Sydney => &SYDNEY,
            Zone::Kolkata => &KOLKATA,
        }
    }
}

const BERLIN: [&str; 17] = [
    "BEGIN:VTIMEZONE",
    "TZID:Europe/Berlin",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200",
    "TZNAME:CEST",
    "DTSTART:19700329T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "TZNAME:CET",
    "DTSTART:19701025T030000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
];

const NEW_YORK: [&str; 17] = [
    "BEGIN:VTIMEZONE",
    "TZID:America/New_York",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:-0500",
    "TZOFFSETTO:-0400",
    "TZNAME:EDT",
    "DTSTART:20070311T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:-0400",
    "TZOFFSETTO:-0500",
    "TZNAME:EST",
    "DTSTART:20071104T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
];

const SYDNEY: [&str; 17] = [
    "BEGIN:VTIMEZONE",
    "TZID:Australia/Sydney",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+1100",
    "TZOFFSETTO:+1000",
    "TZNAME:AEST",
    "DTSTART:20080406T030000",
    "RRULE:FREQ=YEARLY;BYMONTH=4;BYDAY=1SU",
    "END:STANDARD",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+1000",
    "TZOFFSETTO:+1100",
    "TZNAME:AEDT",
    "DTSTART:20081005T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=1SU",
    "END:DAYLIGHT",
    "END:VTIMEZONE",
];

const TOKYO: [&str; 9] = [
    "BEGIN:VTIMEZONE",
    "TZID:Asia/Tokyo",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0900",
    "TZOFFSETTO:+0900",
    "TZNAME:JST",
    "DTSTART:19700101T000000",
    "END:STANDARD",
    "END:VTIMEZONE",
];

const KOLKATA: [&str; 9] = [
    "BEGIN:VTIMEZONE",
    "TZID:Asia/Kolkata",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0530",
    "TZOFFSETTO:+0530",
    "TZNAME:IST",
    "DTSTART:19700101T000000",
    "END:STANDARD",
    "END:VTIMEZONE",
];
