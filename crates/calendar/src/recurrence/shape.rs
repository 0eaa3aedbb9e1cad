//! How the instances of one component are timed (RFC 4791 §9.9, RFC 5545 §3.6).
//!
//! [`Shape`] is a start that recurrence shifts plus a rule for the end, or times that
//! do not move; [`Shape::span_at`] gives the [`Span`] of one instance. [`Env`] is
//! how an object's times are read (its VTIMEZONEs, the zone of floating times).

use crate::duration::{parse_duration, Length};
use crate::recurrence::overlap::{Span, TodoSpan};
use crate::scan::{Node, Prop};
use crate::time::{parse_date_value, prop_zone, DateValue, Zone};
use crate::tz::ZoneTable;
use crate::{ComponentKind, Limits};
use chrono::NaiveDateTime;
use chrono_tz::Tz;

/// Seconds in a nominal day, used for upper bounds only.
const DAY: i64 = 86_400;
/// Added to the upper bound of a nominal length for a daylight-saving shift.
const DST_SLACK: i64 = 3_600;

/// How the times of one object are read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Env<'a> {
    /// The object's VTIMEZONE definitions.
    pub zones: &'a ZoneTable,
    /// The zone floating DATE-TIMEs and DATEs are read in (the calendar's zone);
    /// `None` reads them as UTC.
    pub floating: Option<Tz>,
    /// Bounds on expansion and on value lists.
    pub limits: &'a Limits,
}

impl Env<'_> {
    /// `zone`, with floating read in the calendar's zone when one is known.
    pub(crate) fn resolve(&self, zone: Zone) -> Zone {
        match (zone, self.floating) {
            (Zone::Floating, Some(tz)) => Zone::Named(tz),
            _ => zone,
        }
    }

    /// One DATE or DATE-TIME text in `zone`, floating resolved.
    pub(crate) fn parse(&self, text: &str, zone: Zone) -> Option<DateValue> {
        let value = parse_date_value(text, zone)?;
        Some(DateValue {
            zone: self.resolve(value.zone),
            ..value
        })
    }

    /// The single date value of `prop`.
    pub(crate) fn prop_date(&self, prop: &Prop) -> Option<DateValue> {
        self.parse(&prop.value, prop_zone(prop, self.zones))
    }

    /// The first `name` property of `comp` as a date value.
    pub(crate) fn comp_date(&self, comp: &Node, name: &str) -> Option<DateValue> {
        comp.prop(name).and_then(|p| self.prop_date(p))
    }

    /// The zone recurrences of `start` are computed in (a DATE's is the floating zone).
    pub(crate) fn frame(&self, start: &DateValue) -> Zone {
        self.resolve(start.frame())
    }

    /// Most values read from one multi-valued property.
    pub(crate) fn max_values(&self) -> usize {
        usize::try_from(self.limits.max_instances).unwrap_or(usize::MAX)
    }
}

/// How the end of an instance follows its start.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Tail {
    /// VEVENT, VJOURNAL: the instance lasts this long (zero: an instant).
    Event(Length),
    /// VTODO with DTSTART: DUE as seconds after DTSTART, or a DURATION.
    Todo {
        /// DUE minus DTSTART.
        due: Option<i64>,
        /// DURATION (only without DUE).
        duration: Option<Length>,
    },
}

/// How the instances of one component are timed.
#[derive(Debug, Clone)]
pub(crate) enum Shape {
    /// A start that recurrences shift.
    Dated {
        /// DTSTART (zone resolved).
        start: DateValue,
        /// The zone instance wall clocks are read in: the DTSTART's, or for DATE and
        /// floating values the calendar's.
        frame: Zone,
        /// The frame the recurrence rule is computed in: the DTSTART's own zone,
        /// [`Zone::Floating`] for DATE and floating values (wall clocks, converted to
        /// UTC through `frame` afterwards, so a local midnight lost to daylight
        /// saving does not lose an instance).
        rules: Zone,
        /// How the end follows.
        tail: Tail,
    },
    /// Times that do not follow a DTSTART.
    Fixed(Span),
}

impl Shape {
    /// The shape of `comp`, a component of type `kind`. Unreadable dates count as
    /// absent: stored data was validated when it was written.
    pub(crate) fn of(comp: &Node, kind: ComponentKind, env: Env<'_>) -> Shape {
        match kind {
            ComponentKind::Todo => todo_shape(comp, env),
            ComponentKind::FreeBusy => Shape::Fixed(freebusy_span(comp, env)),
            ComponentKind::Event | ComponentKind::Journal => {
                // An override without DTSTART starts at its RECURRENCE-ID (lenient).
                let start = env.comp_date(comp, "DTSTART").or_else(|| {
                    (kind == ComponentKind::Event)
                        .then(|| env.comp_date(comp, "RECURRENCE-ID"))
                        .flatten()
                });
                let Some(start) = start else {
                    // VJOURNAL table: "| N | * | FALSE".
                    return Shape::Fixed(Span::Never);
                };
                let length = match kind {
                    ComponentKind::Event => event_length(comp, &start, env),
                    _ if start.is_date => Length::ONE_DAY,
                    _ => Length::ZERO,
                };
                Shape::Dated {
                    frame: env.frame(&start),
                    rules: rules_frame(comp, env),
                    start,
                    tail: Tail::Event(length),
                }
            }
        }
    }

    /// The span of an instance starting at `wall` (in the frame) = `epoch`; `end`
    /// is an end of its own (RDATE;VALUE=PERIOD).
    pub(crate) fn span_at(&self, wall: NaiveDateTime, epoch: i64, end: Option<i64>) -> Span {
        match self {
            Shape::Fixed(span) => span.clone(),
            Shape::Dated {
                frame,
                tail: Tail::Event(length),
                ..
            } => Span::Interval {
                start: epoch,
                end: end.unwrap_or_else(|| length.end(*frame, wall, epoch)),
            },
            Shape::Dated {
                frame,
                tail: Tail::Todo { due, duration },
                ..
            } => Span::Todo(TodoSpan {
                start: Some(epoch),
                duration_end: duration.map(|l| l.end(*frame, wall, epoch)),
                due: end.or_else(|| due.map(|d| epoch.saturating_add(d))),
                completed: None,
                created: None,
            }),
        }
    }

    /// The span of an instance starting at UTC second `epoch`.
    pub(crate) fn span_from(&self, epoch: i64) -> Span {
        match self {
            Shape::Fixed(span) => span.clone(),
            Shape::Dated { frame, .. } => match frame.epoch_to_wall(epoch) {
                Some(wall) => self.span_at(wall, epoch, None),
                None => Span::Never,
            },
        }
    }

    /// An upper bound on how long after its start an instance can end.
    pub(crate) fn reach(&self) -> i64 {
        match self {
            Shape::Fixed(_) => 0,
            Shape::Dated {
                tail: Tail::Event(length),
                ..
            } => upper_bound(*length),
            Shape::Dated {
                tail: Tail::Todo { due, duration },
                ..
            } => due.unwrap_or(0).max(duration.map_or(0, upper_bound)).max(0),
        }
    }
}

/// The frame of the DTSTART as written, before floating values are resolved.
fn rules_frame(comp: &Node, env: Env<'_>) -> Zone {
    comp.prop("DTSTART")
        .and_then(|p| parse_date_value(&p.value, prop_zone(p, env.zones)))
        .map_or(Zone::Floating, |raw| raw.frame())
}

fn upper_bound(length: Length) -> i64 {
    match length {
        Length::Exact(secs) => secs.max(0),
        Length::Nominal { days, secs } => days
            .max(0)
            .saturating_mul(DAY)
            .saturating_add(secs.max(0))
            .saturating_add(DST_SLACK),
    }
}

/// RFC 4791 §9.9: "The duration of a VEVENT component with no DTEND and DURATION
/// properties is 1 day (+P1D) when the DTSTART is a DATE value, and 0 seconds when
/// the DTSTART is a DATE-TIME value." A DATE-to-DATE DTEND counts calendar days, so
/// an all-day event keeps its days across a daylight-saving change.
fn event_length(comp: &Node, start: &DateValue, env: Env<'_>) -> Length {
    if let Some(end) = env.comp_date(comp, "DTEND") {
        if start.is_date && end.is_date {
            let days = end
                .wall
                .date()
                .signed_duration_since(start.wall.date())
                .num_days();
            return Length::Nominal { days, secs: 0 };
        }
        return Length::Exact(end.epoch().saturating_sub(start.epoch()));
    }
    match comp.value("DURATION").and_then(parse_duration) {
        Some(length) => length,
        None if start.is_date => Length::ONE_DAY,
        None => Length::ZERO,
    }
}

/// VTODO: with DTSTART its instances recur; without, the DUE / COMPLETED / CREATED
/// rows of the table apply as they are.
fn todo_shape(comp: &Node, env: Env<'_>) -> Shape {
    let due = env.comp_date(comp, "DUE");
    match env.comp_date(comp, "DTSTART") {
        Some(start) => {
            let duration = match due {
                Some(_) => None,
                None => comp.value("DURATION").and_then(parse_duration),
            };
            Shape::Dated {
                frame: env.frame(&start),
                rules: rules_frame(comp, env),
                tail: Tail::Todo {
                    due: due.map(|d| d.epoch().saturating_sub(start.epoch())),
                    duration,
                },
                start,
            }
        }
        None => Shape::Fixed(Span::Todo(TodoSpan {
            start: None,
            duration_end: None,
            due: due.map(|d| d.epoch()),
            completed: env.comp_date(comp, "COMPLETED").map(|d| d.epoch()),
            created: env.comp_date(comp, "CREATED").map(|d| d.epoch()),
        })),
    }
}

/// The VFREEBUSY table: DTSTART and DTEND if both are there, else the FREEBUSY
/// periods, else nothing.
fn freebusy_span(comp: &Node, env: Env<'_>) -> Span {
    if let (Some(start), Some(end)) = (env.comp_date(comp, "DTSTART"), env.comp_date(comp, "DTEND"))
    {
        return Span::Closed {
            start: start.epoch(),
            end: end.epoch(),
        };
    }
    let periods: Vec<(i64, i64)> = comp
        .props("FREEBUSY")
        .flat_map(|p| value_spans(p, env))
        .take(env.max_values())
        .collect();
    if periods.is_empty() {
        Span::Never
    } else {
        Span::Periods(periods)
    }
}

/// The times the values of a DATE, DATE-TIME or PERIOD property cover: a DATE its
/// whole day, a DATE-TIME an instant, a PERIOD its interval. Unreadable values are
/// skipped.
pub(crate) fn value_spans(prop: &Prop, env: Env<'_>) -> Vec<(i64, i64)> {
    let zone = prop_zone(prop, env.zones);
    prop.value
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .take(env.max_values())
        .filter_map(|t| value_span(t, zone, env))
        .collect()
}

/// One value of a date, date-time or period property (RFC 5545 §3.3.4, §3.3.5,
/// §3.3.9) as `(start, end)` UTC seconds.
pub(crate) fn value_span(text: &str, zone: Zone, env: Env<'_>) -> Option<(i64, i64)> {
    if let Some((from, to)) = text.split_once('/') {
        let start = env.parse(from, zone)?;
        let epoch = start.epoch();
        let end = match parse_duration(to) {
            Some(length) => length.end(env.frame(&start), start.wall, epoch),
            None => env.parse(to, zone)?.epoch(),
        };
        return Some((epoch, end.max(epoch)));
    }
    let value = env.parse(text, zone)?;
    let epoch = value.epoch();
    let end = if value.is_date {
        Length::ONE_DAY.end(env.frame(&value), value.wall, epoch)
    } else {
        epoch
    };
    Some((epoch, end))
}
