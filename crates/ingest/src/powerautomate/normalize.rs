//! Any accepted payload shape → [`NormalizedEvent`].
//!
//! Robust beats clever: every field is looked up case-insensitively and read in every
//! spelling the facts document lists (typed, stringified, JSON text in a string, Graph's
//! nested objects). Only what makes an event impossible is an error: no JSON object,
//! no `id`, no action, or (except for deletes) no readable start.

use crate::error::{invalid, Result};
use crate::event::{
    Action, AttendeeRole, Importance, NormalizedEvent, Recurrence, RecurrenceKind, Sensitivity,
    ShowAs,
};
use crate::html::{html_to_text, looks_like_html, plain_text, MAX_DESCRIPTION_BYTES};
use crate::payload::{Fields, MAX_LIST_ITEMS};
use crate::when::{parse_stamp, resolve_zone, timed, Stamp, When, Zone};
use serde_json::Value;

/// Longest event id accepted (Exchange ids are about 150 bytes).
const MAX_ID_BYTES: usize = 1024;

/// Longest subject, location or category kept, in characters.
const MAX_TEXT_CHARS: usize = 1024;

/// Most categories kept.
const MAX_CATEGORIES: usize = 50;

/// Reads one delivery. `action_hint` comes from the URL (`/event/created` …; `None` for
/// `/event`). A `deleted` from either the URL or the body wins, since a delete sent to
/// the wrong URL must not become an update; otherwise the URL wins over `ActionType`.
/// Without both, `IsAdded`/`IsUpdated` or Graph's `@removed` decide, and an item with a
/// start is taken as an update (the created/modified triggers carry no action; both
/// mean "create or update" here).
///
/// Errors: [`crate::Error::Invalid`] with a one-line reason.
pub fn normalize(action_hint: Option<Action>, body: &[u8]) -> Result<NormalizedEvent> {
    let f = Fields::from_body(body)?;
    let id = f
        .text("id")
        .ok_or_else(|| invalid("missing event id (\"id\")"))?;
    if id.len() > MAX_ID_BYTES {
        return Err(invalid("event id longer than 1024 bytes"));
    }
    let action = action_of(action_hint, &f)?;
    let all_day = f.flag("isAllDay").unwrap_or(false);
    let (start, end) = match action {
        // A delete carries little more than the id; its times do not matter.
        Action::Deleted => event_times(&f, all_day).unwrap_or((None, None)),
        Action::Created | Action::Updated => event_times(&f, all_day)?,
    };
    if action != Action::Deleted && start.is_none() {
        return Err(invalid("missing or unreadable start"));
    }
    Ok(NormalizedEvent {
        action,
        source_event_id: id,
        ical_uid: f.text("iCalUId").map(|s| cap(&s, MAX_ID_BYTES)),
        series_master_id: f.text("seriesMasterId").map(|s| cap(&s, MAX_ID_BYTES)),
        last_modified: stamp_utc(&f, "lastModifiedDateTime"),
        created: stamp_utc(&f, "createdDateTime"),
        subject: f.text("subject").map(|s| cap(&s, MAX_TEXT_CHARS)),
        location: location(&f),
        description: description(&f),
        start,
        end,
        all_day,
        organizer: organizer(&f),
        attendees: attendees(&f),
        sensitivity: sensitivity(f.text("sensitivity")),
        show_as: show_as(f.text("showAs")),
        categories: categories(&f),
        recurrence: recurrence(&f),
        response_type: response_type(&f),
        importance: importance(f.text("importance")),
        cancelled: f.flag("isCancelled").unwrap_or(false),
    })
}

fn action_of(hint: Option<Action>, f: &Fields) -> Result<Action> {
    let mut body_action = None;
    for key in ["ActionType", "changeType"] {
        if let Some(t) = f.text(key) {
            let a = Action::parse(&t)
                .ok_or_else(|| invalid(format!("unknown {key} {:?}", cap(&t, 32))))?;
            body_action = Some(a);
            break;
        }
    }
    if body_action.is_none() && f.has("@removed") {
        body_action = Some(Action::Deleted);
    }
    if body_action == Some(Action::Deleted) {
        return Ok(Action::Deleted);
    }
    if let Some(a) = hint.or(body_action) {
        return Ok(a);
    }
    match (f.flag("IsAdded"), f.flag("IsUpdated")) {
        (Some(true), _) => Ok(Action::Created),
        (_, Some(true)) => Ok(Action::Updated),
        _ if f.get("start").is_some() => Ok(Action::Updated),
        _ => Err(invalid(
            "no action: post to /event/created, /event/updated or /event/deleted, or send ActionType",
        )),
    }
}

/// Start and end, the end fixed up so it never precedes the start (all-day: at
/// least the next day, exclusive; timed: zero length when missing).
fn event_times(f: &Fields, all_day: bool) -> Result<(Option<When>, Option<When>)> {
    let zone_name = f.text("timeZone");
    let start = event_time(f, "start", all_day, zone_name.as_deref())?;
    let end = event_time(f, "end", all_day, zone_name.as_deref())?;
    let Some(start) = start else {
        return Ok((None, None));
    };
    let end = match (start, end) {
        (When::Date(s), Some(When::Date(e))) if e > s => When::Date(e),
        (When::Date(s), _) => When::Date(s.succ_opt().unwrap_or(s)),
        (_, Some(When::Date(_))) | (_, None) => start,
        (_, Some(e)) if e.to_utc() < start.to_utc() => start,
        (_, Some(e)) => e,
    };
    Ok((Some(start), Some(end)))
}

/// One of `start` / `end`: Graph's `{dateTime, timeZone}`, else for all-day events the
/// date of the wall time, else `<which>WithTimeZone` (explicit offset), else the wall
/// time in the item's `timeZone` (UTC when absent, as the V3 triggers send it).
fn event_time(f: &Fields, which: &str, all_day: bool, zone: Option<&str>) -> Result<Option<When>> {
    if let Some(obj) = f.object(which) {
        let Some(stamp) = obj.text("dateTime").and_then(|t| parse_stamp(&t)) else {
            return Ok(None);
        };
        if all_day {
            return Ok(Some(When::Date(stamp.all_day_date())));
        }
        return Ok(Some(timed(
            &stamp,
            resolve_zone(obj.text("timeZone").as_deref())?,
        )));
    }
    let wall = stamp_of(f, which);
    let offset = stamp_of(f, &format!("{which}WithTimeZone")).filter(|s| s.has_time);
    if all_day {
        return Ok(wall.or(offset).map(|s| When::Date(s.all_day_date())));
    }
    if let Some(s) = offset {
        return Ok(Some(timed(&s, Zone::Utc)));
    }
    match wall {
        Some(s) if !s.has_time => Ok(Some(When::Date(s.wall.date()))),
        Some(s) => Ok(Some(timed(&s, resolve_zone(zone)?))),
        None => Ok(None),
    }
}

fn stamp_of(f: &Fields, key: &str) -> Option<Stamp> {
    f.text(key).and_then(|t| parse_stamp(&t))
}

fn stamp_utc(f: &Fields, key: &str) -> Option<i64> {
    stamp_of(f, key).map(|s| s.utc())
}

/// A string cut to `max` characters.
fn cap(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

fn location(f: &Fields) -> Option<String> {
    f.text("location")
        .or_else(|| f.object("location")?.text("displayName"))
        .map(|s| cap(&s, MAX_TEXT_CHARS))
}

/// The body as plain text: Graph's `{contentType, content}`, else `body` (HTML when
/// `isHtml` says so or it looks like HTML), else `bodyPreview`. Empty becomes absent.
fn description(f: &Fields) -> Option<String> {
    let text = if let Some(obj) = f.object("body") {
        let content = obj.text("content").unwrap_or_default();
        let is_html = obj
            .text("contentType")
            .is_some_and(|t| t.eq_ignore_ascii_case("html"));
        as_text(&content, is_html)
    } else if let Some(body) = f.text("body") {
        let is_html = f.flag("isHtml").unwrap_or_else(|| looks_like_html(&body));
        as_text(&body, is_html)
    } else {
        plain_text(
            &f.text("bodyPreview").unwrap_or_default(),
            MAX_DESCRIPTION_BYTES,
        )
    };
    Some(text).filter(|t| !t.is_empty())
}

fn as_text(body: &str, is_html: bool) -> String {
    if is_html {
        html_to_text(body, MAX_DESCRIPTION_BYTES)
    } else {
        plain_text(body, MAX_DESCRIPTION_BYTES)
    }
}

/// A usable e-mail address from `a@b`, `mailto:a@b` or `Name <a@b>`; `None` otherwise.
pub(crate) fn clean_address(raw: &str) -> Option<String> {
    let mut s = raw.trim();
    if let (Some(l), Some(r)) = (s.find('<'), s.rfind('>')) {
        s = s.get(l + 1..r)?.trim();
    }
    if s.get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("mailto:"))
    {
        s = s.get(7..)?.trim();
    }
    let at = s.find('@')?;
    let ok = s.len() <= 254
        && at > 0
        && at + 1 < s.len()
        && s.matches('@').count() == 1
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "\"';:,<>\\()[]".contains(c));
    ok.then(|| s.to_string())
}

fn organizer(f: &Fields) -> Option<String> {
    f.text("organizer")
        .or_else(|| {
            f.object("organizer")?
                .object("emailAddress")?
                .text("address")
        })
        .and_then(|s| clean_address(&s))
}

/// Attendees from the `;`-separated lists (trailing `;` fine), the templated
/// `attendees` string, and Graph's attendee objects; each address once.
fn attendees(f: &Fields) -> Vec<(String, AttendeeRole)> {
    let mut raw: Vec<(String, AttendeeRole)> = Vec::new();
    let lists = [
        ("requiredAttendees", AttendeeRole::Required),
        ("attendees", AttendeeRole::Required),
        ("optionalAttendees", AttendeeRole::Optional),
        ("resourceAttendees", AttendeeRole::Resource),
    ];
    for (key, role) in lists {
        raw.extend(f.list(key).into_iter().map(|a| (a, role)));
    }
    for item in f.array("attendees") {
        if let Value::Object(map) = item {
            let a = Fields::from_map(map);
            let role = match a.text("type").map(|t| t.to_ascii_lowercase()).as_deref() {
                Some("optional") => AttendeeRole::Optional,
                Some("resource") => AttendeeRole::Resource,
                _ => AttendeeRole::Required,
            };
            if let Some(addr) = a.object("emailAddress").and_then(|e| e.text("address")) {
                raw.push((addr, role));
            }
        }
    }
    let mut out: Vec<(String, AttendeeRole)> = Vec::new();
    for (addr, role) in raw.into_iter().take(MAX_LIST_ITEMS) {
        if let Some(addr) = clean_address(&addr) {
            if !out.iter().any(|(a, _)| a.eq_ignore_ascii_case(&addr)) {
                out.push((addr, role));
            }
        }
    }
    out
}

fn categories(f: &Fields) -> Vec<String> {
    f.list("categories")
        .into_iter()
        .take(MAX_CATEGORIES)
        .map(|c| cap(&c, MAX_TEXT_CHARS))
        .collect()
}

fn lower(v: Option<String>) -> String {
    v.map(|s| s.to_ascii_lowercase()).unwrap_or_default()
}

fn sensitivity(v: Option<String>) -> Sensitivity {
    match lower(v).as_str() {
        "private" => Sensitivity::Private,
        "confidential" => Sensitivity::Confidential,
        "personal" => Sensitivity::Personal,
        _ => Sensitivity::Normal,
    }
}

fn show_as(v: Option<String>) -> ShowAs {
    match lower(v).as_str() {
        "free" => ShowAs::Free,
        "tentative" => ShowAs::Tentative,
        "busy" | "" => ShowAs::Busy,
        "oof" => ShowAs::Oof,
        "workingelsewhere" => ShowAs::WorkingElsewhere,
        _ => ShowAs::Unknown,
    }
}

fn importance(v: Option<String>) -> Importance {
    match lower(v).as_str() {
        "low" => Importance::Low,
        "high" => Importance::High,
        _ => Importance::Normal,
    }
}

/// The trigger's `recurrence` string, or Graph's `recurrence.pattern.type`.
fn recurrence(f: &Fields) -> Recurrence {
    let name = f
        .text("recurrence")
        .or_else(|| f.object("recurrence")?.object("pattern")?.text("type"));
    let name = lower(name);
    let kind = match name.as_str() {
        "daily" => RecurrenceKind::Daily,
        "weekly" => RecurrenceKind::Weekly,
        n if n.ends_with("monthly") => RecurrenceKind::Monthly,
        n if n.ends_with("yearly") => RecurrenceKind::Yearly,
        _ => RecurrenceKind::None,
    };
    let count = f
        .number("numberOfOccurences")
        .or_else(|| f.number("numberOfOccurrences"))
        .filter(|n| *n > 0)
        .and_then(|n| u32::try_from(n).ok());
    Recurrence {
        kind,
        end: stamp_of(f, "recurrenceEnd").map(|s| s.wall.date()),
        count,
    }
}

fn response_type(f: &Fields) -> Option<String> {
    f.text("responseType")
        .or_else(|| f.object("responseStatus")?.text("response"))
        .map(|s| cap(&s.to_ascii_lowercase(), 32))
}
