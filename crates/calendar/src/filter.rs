//! Query types of RFC 4791 §9.7 (calendar-query filters) and §9.6 (calendar-data
//! requests), as plain data. `tributary-dav-proto` parses XML into them; this crate
//! evaluates them ([`crate::query`]).

/// A UTC time range; `None` bounds are open (RFC 4791 §9.9: start defaults to -infinity,
/// end to +infinity). Seconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeRange {
    /// Inclusive start.
    pub start: Option<i64>,
    /// Exclusive end.
    pub end: Option<i64>,
}

/// A collation for text-match (RFC 4790; RFC 4791 §7.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Collation {
    /// `i;ascii-casemap` (the default).
    #[default]
    AsciiCasemap,
    /// `i;octet`.
    Octet,
    /// `i;unicode-casemap` (RFC 5051).
    UnicodeCasemap,
}

impl Collation {
    /// The collation for a name; `None` when unsupported (the caller answers with the
    /// CALDAV:supported-collation precondition).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "i;ascii-casemap" => Some(Self::AsciiCasemap),
            "i;octet" => Some(Self::Octet),
            "i;unicode-casemap" => Some(Self::UnicodeCasemap),
            _ => None,
        }
    }
}

/// CALDAV:text-match (§9.7.5): substring match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextMatch {
    /// The text to find.
    pub value: String,
    /// How to compare.
    pub collation: Collation,
    /// `negate-condition="yes"`.
    pub negate: bool,
}

/// CALDAV:param-filter (§9.7.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamFilter {
    /// Parameter name, upper case.
    pub name: String,
    /// `is-not-defined`: matches when the parameter is absent.
    pub is_not_defined: bool,
    /// Text match on the parameter value.
    pub text_match: Option<TextMatch>,
}

/// CALDAV:prop-filter (§9.7.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropFilter {
    /// Property name, upper case.
    pub name: String,
    /// `is-not-defined`.
    pub is_not_defined: bool,
    /// Time range on a date or date-time property.
    pub time_range: Option<TimeRange>,
    /// Text match on the value.
    pub text_match: Option<TextMatch>,
    /// Parameter filters; all must match.
    pub param_filters: Vec<ParamFilter>,
}

/// CALDAV:comp-filter (§9.7.1). The query's top-level filter names VCALENDAR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompFilter {
    /// Component name, upper case.
    pub name: String,
    /// `is-not-defined`.
    pub is_not_defined: bool,
    /// Time range (§9.9), evaluated per instance for recurring components.
    pub time_range: Option<TimeRange>,
    /// Property filters; all must match.
    pub prop_filters: Vec<PropFilter>,
    /// Nested component filters; all must match.
    pub comp_filters: Vec<CompFilter>,
}

/// What part of the calendar data to return (CALDAV:calendar-data in a REPORT, §9.6).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DataRequest {
    /// `comp`/`prop` subsetting (§9.6.1); `None` returns every component and property.
    pub comp: Option<CompSelect>,
    /// §9.6.5 `expand`: recurrence instances in the range as separate components with
    /// RECURRENCE-ID in UTC, overrides applied, EXDATEs removed.
    pub expand: Option<TimeRange>,
    /// §9.6.6 `limit-recurrence-set`: the master plus only the overrides that overlap.
    pub limit_recurrence_set: Option<TimeRange>,
    /// §9.6.7 `limit-freebusy-set`: only FREEBUSY periods that overlap.
    pub limit_freebusy_set: Option<TimeRange>,
}

/// CALDAV:comp in calendar-data (§9.6.1–9.6.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompSelect {
    /// Component name, upper case.
    pub name: String,
    /// `allprop` (true) or the listed properties.
    pub all_props: bool,
    /// Listed property names (upper case) when not `all_props`.
    pub props: Vec<String>,
    /// `allcomp` (true) or the listed sub-components.
    pub all_comps: bool,
    /// Listed sub-components when not `all_comps`.
    pub comps: Vec<CompSelect>,
}
