//! REPORT bodies: calendar-query (RFC 4791 §7.8), calendar-multiget (§7.9),
//! free-busy-query (§7.10) and sync-collection (RFC 6578 §3.2).

use crate::names::{Namespace, PropName};
use crate::property::LiveProp;
use crate::request::Propfind;
use crate::xml::{self, Element};
use crate::{Error, Result};
use tributary_calendar::filter::{
    Collation, CompFilter, CompSelect, DataRequest, ParamFilter, PropFilter, TextMatch, TimeRange,
};

/// Most hrefs accepted in one multiget.
pub const MAX_HREFS: usize = 10_000;
/// Deepest filter nesting accepted.
const MAX_FILTER_DEPTH: usize = 8;

/// Which properties a REPORT asks for, and how calendar-data should be shaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropRequest {
    /// The requested properties (calendar-data among them when asked for).
    pub props: Propfind,
    /// The calendar-data shaping, when calendar-data is requested.
    pub data: Option<DataRequest>,
}

/// A parsed REPORT body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// CALDAV:calendar-query.
    CalendarQuery {
        /// Properties to return.
        props: PropRequest,
        /// The top-level comp-filter (VCALENDAR).
        filter: CompFilter,
        /// CALDAV:timezone for floating times (a VCALENDAR text).
        timezone: Option<String>,
    },
    /// CALDAV:calendar-multiget.
    CalendarMultiget {
        /// Properties to return.
        props: PropRequest,
        /// Raw hrefs as sent.
        hrefs: Vec<String>,
    },
    /// CALDAV:free-busy-query.
    FreeBusyQuery {
        /// The range (both ends required by §7.10).
        range: TimeRange,
    },
    /// DAV:sync-collection.
    SyncCollection {
        /// The token; `None` for an initial sync (empty element, as DAVx5 sends).
        token: Option<String>,
        /// DAV:limit/DAV:nresults.
        limit: Option<u32>,
        /// Properties to return.
        props: PropRequest,
    },
    /// Any other report, by name (answered with the supported-report precondition).
    Other(PropName),
}

impl Report {
    /// Parse a REPORT body.
    pub fn parse(body: &[u8]) -> Result<Report> {
        let root = xml::parse(body)?;
        let n = &root.name;
        if n.is(&Namespace::CalDav, "calendar-query") {
            let filter_el = root
                .child(&Namespace::CalDav, "filter")
                .ok_or_else(|| Error::InvalidFilter("calendar-query without filter".into()))?;
            let top = filter_el
                .child(&Namespace::CalDav, "comp-filter")
                .ok_or_else(|| Error::InvalidFilter("filter without comp-filter".into()))?;
            let timezone = root
                .child(&Namespace::CalDav, "timezone")
                .map(Element::text);
            Ok(Report::CalendarQuery {
                props: prop_request(&root)?,
                filter: comp_filter(top, 0)?,
                timezone,
            })
        } else if n.is(&Namespace::CalDav, "calendar-multiget") {
            let hrefs: Vec<String> = root
                .elements()
                .filter(|e| e.name.is(&Namespace::Dav, "href"))
                .map(|e| e.text().trim().to_string())
                .collect();
            if hrefs.len() > MAX_HREFS {
                return Err(Error::InvalidBody(format!("more than {MAX_HREFS} hrefs")));
            }
            Ok(Report::CalendarMultiget {
                props: prop_request(&root)?,
                hrefs,
            })
        } else if n.is(&Namespace::CalDav, "free-busy-query") {
            let tr = root
                .child(&Namespace::CalDav, "time-range")
                .ok_or_else(|| Error::InvalidFilter("free-busy-query without time-range".into()))?;
            let range = time_range(tr)?;
            if range.start.is_none() || range.end.is_none() {
                return Err(Error::InvalidFilter(
                    "free-busy-query needs start and end".into(),
                ));
            }
            Ok(Report::FreeBusyQuery { range })
        } else if n.is(&Namespace::Dav, "sync-collection") {
            sync_collection(&root)
        } else {
            Ok(Report::Other(n.clone()))
        }
    }
}

fn sync_collection(root: &Element) -> Result<Report> {
    let token = root
        .child(&Namespace::Dav, "sync-token")
        .map(|t| t.text().trim().to_string())
        .filter(|t| !t.is_empty());
    let limit = match root
        .child(&Namespace::Dav, "limit")
        .and_then(|l| l.child(&Namespace::Dav, "nresults"))
    {
        Some(nr) => Some(
            nr.text()
                .trim()
                .parse::<u32>()
                .map_err(|_| Error::InvalidBody("nresults is not a number".into()))?,
        ),
        None => None,
    };
    Ok(Report::SyncCollection {
        token,
        limit,
        props: prop_request(root)?,
    })
}

fn prop_request(root: &Element) -> Result<PropRequest> {
    if root.child(&Namespace::Dav, "allprop").is_some() {
        return Ok(PropRequest {
            props: Propfind::AllProp(vec![]),
            data: None,
        });
    }
    if root.child(&Namespace::Dav, "propname").is_some() {
        return Ok(PropRequest {
            props: Propfind::PropName,
            data: None,
        });
    }
    let Some(prop) = root.child(&Namespace::Dav, "prop") else {
        return Ok(PropRequest {
            props: Propfind::Prop(vec![LiveProp::GetEtag.name()]),
            data: None,
        });
    };
    let mut names = Vec::new();
    let mut data = None;
    for p in prop.elements() {
        if LiveProp::CalendarData.is(&p.name) {
            data = Some(data_request(p)?);
        }
        names.push(p.name.clone());
    }
    Ok(PropRequest {
        props: Propfind::Prop(names),
        data,
    })
}

fn data_request(el: &Element) -> Result<DataRequest> {
    let mut req = DataRequest::default();
    for c in el.elements() {
        match (&c.name.ns, c.name.local.as_str()) {
            (Namespace::CalDav, "comp") => req.comp = Some(comp_select(c, 0)?),
            (Namespace::CalDav, "expand") => req.expand = Some(required_range(c)?),
            (Namespace::CalDav, "limit-recurrence-set") => {
                req.limit_recurrence_set = Some(required_range(c)?)
            }
            (Namespace::CalDav, "limit-freebusy-set") => {
                req.limit_freebusy_set = Some(required_range(c)?)
            }
            _ => {}
        }
    }
    Ok(req)
}

fn comp_select(el: &Element, depth: usize) -> Result<CompSelect> {
    if depth > MAX_FILTER_DEPTH {
        return Err(Error::InvalidBody("comp nesting too deep".into()));
    }
    let name = el.attr("name").unwrap_or("").to_ascii_uppercase();
    let all_props = el.child(&Namespace::CalDav, "allprop").is_some()
        || el.child(&Namespace::CalDav, "prop").is_none();
    let props = el
        .elements()
        .filter(|e| e.name.is(&Namespace::CalDav, "prop"))
        .filter_map(|e| e.attr("name").map(str::to_ascii_uppercase))
        .collect();
    let all_comps = el.child(&Namespace::CalDav, "allcomp").is_some()
        || el.child(&Namespace::CalDav, "comp").is_none();
    let mut comps = Vec::new();
    for c in el
        .elements()
        .filter(|e| e.name.is(&Namespace::CalDav, "comp"))
    {
        comps.push(comp_select(c, depth + 1)?);
    }
    Ok(CompSelect {
        name,
        all_props,
        props,
        all_comps,
        comps,
    })
}

fn comp_filter(el: &Element, depth: usize) -> Result<CompFilter> {
    if depth > MAX_FILTER_DEPTH {
        return Err(Error::InvalidFilter("comp-filter nesting too deep".into()));
    }
    let mut f = CompFilter {
        name: required_name(el)?,
        is_not_defined: el.child(&Namespace::CalDav, "is-not-defined").is_some(),
        time_range: None,
        prop_filters: vec![],
        comp_filters: vec![],
    };
    for c in el.elements() {
        match (&c.name.ns, c.name.local.as_str()) {
            (Namespace::CalDav, "time-range") => f.time_range = Some(time_range(c)?),
            (Namespace::CalDav, "prop-filter") => f.prop_filters.push(prop_filter(c)?),
            (Namespace::CalDav, "comp-filter") => f.comp_filters.push(comp_filter(c, depth + 1)?),
            _ => {}
        }
    }
    Ok(f)
}

fn prop_filter(el: &Element) -> Result<PropFilter> {
    let mut f = PropFilter {
        name: required_name(el)?,
        is_not_defined: el.child(&Namespace::CalDav, "is-not-defined").is_some(),
        time_range: None,
        text_match: None,
        param_filters: vec![],
    };
    for c in el.elements() {
        match (&c.name.ns, c.name.local.as_str()) {
            (Namespace::CalDav, "time-range") => f.time_range = Some(time_range(c)?),
            (Namespace::CalDav, "text-match") => f.text_match = Some(text_match(c)?),
            (Namespace::CalDav, "param-filter") => f.param_filters.push(ParamFilter {
                name: required_name(c)?,
                is_not_defined: c.child(&Namespace::CalDav, "is-not-defined").is_some(),
                text_match: c
                    .child(&Namespace::CalDav, "text-match")
                    .map(text_match)
                    .transpose()?,
            }),
            _ => {}
        }
    }
    Ok(f)
}

fn text_match(el: &Element) -> Result<TextMatch> {
    let collation = match el.attr("collation") {
        None => Collation::default(),
        Some(name) => Collation::from_name(name)
            .ok_or_else(|| Error::UnsupportedCollation(name.to_string()))?,
    };
    let negate = matches!(el.attr("negate-condition"), Some("yes"));
    Ok(TextMatch {
        value: el.text(),
        collation,
        negate,
    })
}

fn required_name(el: &Element) -> Result<String> {
    match el.attr("name") {
        Some(n) if !n.is_empty() => Ok(n.to_ascii_uppercase()),
        _ => Err(Error::InvalidFilter(format!(
            "{} without name",
            el.name.local
        ))),
    }
}

fn required_range(el: &Element) -> Result<TimeRange> {
    let r = time_range(el)?;
    if r.start.is_none() || r.end.is_none() {
        return Err(Error::InvalidFilter(format!(
            "{} needs start and end",
            el.name.local
        )));
    }
    Ok(r)
}

/// A time-range element (§9.9): UTC `start`/`end` attributes, at least one present.
fn time_range(el: &Element) -> Result<TimeRange> {
    let start = el.attr("start").map(parse_utc).transpose()?;
    let end = el.attr("end").map(parse_utc).transpose()?;
    if start.is_none() && end.is_none() {
        return Err(Error::InvalidFilter("time-range needs start or end".into()));
    }
    if let (Some(s), Some(e)) = (start, end) {
        if e <= s {
            return Err(Error::InvalidFilter(
                "time-range end is not after start".into(),
            ));
        }
    }
    Ok(TimeRange { start, end })
}

/// Parse an iCalendar UTC date-time (`20060104T000000Z`) into Unix seconds; RFC 4791
/// §9.9 requires UTC here.
pub fn parse_utc(s: &str) -> Result<i64> {
    chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y%m%dT%H%M%SZ")
        .map(|t| t.and_utc().timestamp())
        .map_err(|_| Error::InvalidFilter(format!("{s:?} is not a UTC date-time")))
}

#[cfg(test)]
mod tests;
