//! WebDAV request headers (RFC 4918 §10) and HTTP conditional headers (RFC 9110 §13).

use crate::{Error, Result};

/// The `Depth` header (RFC 4918 §10.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// `0`
    Zero,
    /// `1`
    One,
    /// `infinity`
    Infinity,
}

impl Depth {
    /// Parse a Depth header value; `None` when absent gives `default`.
    pub fn parse(value: Option<&str>, default: Depth) -> Result<Depth> {
        match value.map(str::trim) {
            None => Ok(default),
            Some("0") => Ok(Depth::Zero),
            Some("1") => Ok(Depth::One),
            Some(v) if v.eq_ignore_ascii_case("infinity") => Ok(Depth::Infinity),
            Some(v) => Err(Error::InvalidHeader("Depth", v.to_string())),
        }
    }
}

/// An entity-tag condition from `If-Match` or `If-None-Match`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EtagCondition {
    /// `*`: any current representation.
    Any,
    /// A list of entity tags, kept with their quotes (weak tags keep the `W/` prefix).
    Tags(Vec<String>),
}

impl EtagCondition {
    /// Parse the header value; `None` when the header is absent.
    pub fn parse(value: Option<&str>) -> Option<EtagCondition> {
        let v = value?.trim();
        if v == "*" {
            return Some(EtagCondition::Any);
        }
        let tags = v
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect();
        Some(EtagCondition::Tags(tags))
    }

    /// Strong comparison (RFC 9110 §8.8.3.2) of the current ETag against this condition.
    pub fn matches(&self, current: Option<&str>) -> bool {
        match (self, current) {
            (_, None) => false,
            (EtagCondition::Any, Some(_)) => true,
            (EtagCondition::Tags(tags), Some(cur)) => tags.iter().any(|t| t == cur),
        }
    }

    /// Weak comparison, used by If-None-Match on GET/HEAD (RFC 9110 §13.1.2).
    pub fn matches_weak(&self, current: Option<&str>) -> bool {
        let strip = |s: &str| s.strip_prefix("W/").unwrap_or(s).to_string();
        match (self, current) {
            (_, None) => false,
            (EtagCondition::Any, Some(_)) => true,
            (EtagCondition::Tags(tags), Some(cur)) => {
                let cur = strip(cur);
                tags.iter().any(|t| strip(t) == cur)
            }
        }
    }
}

/// The `Overwrite` header (RFC 4918 §10.6): true unless `F`.
pub fn parse_overwrite(value: Option<&str>) -> Result<bool> {
    match value.map(str::trim) {
        None => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("T") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("F") => Ok(false),
        Some(v) => Err(Error::InvalidHeader("Overwrite", v.to_string())),
    }
}

/// The path of a `Destination` header (RFC 4918 §10.3): an absolute URI or an absolute
/// path. Returns the raw (still percent-encoded) path; the authority is not checked here.
pub fn destination_path(value: &str) -> Result<String> {
    let v = value.trim();
    let path = if let Some(rest) = v
        .strip_prefix("http://")
        .or_else(|| v.strip_prefix("https://"))
    {
        match rest.find('/') {
            Some(i) => &rest[i..],
            None => "/",
        }
    } else if v.starts_with('/') {
        v
    } else {
        return Err(Error::InvalidHeader("Destination", v.to_string()));
    };
    let path = path.split(['?', '#']).next().unwrap_or("/");
    Ok(path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_values() {
        assert_eq!(
            Depth::parse(None, Depth::Infinity).unwrap(),
            Depth::Infinity
        );
        assert_eq!(Depth::parse(Some("1"), Depth::Zero).unwrap(), Depth::One);
        assert_eq!(
            Depth::parse(Some("Infinity"), Depth::Zero).unwrap(),
            Depth::Infinity
        );
        assert!(Depth::parse(Some("2"), Depth::Zero).is_err());
    }

    #[test]
    fn etag_conditions() {
        let c = EtagCondition::parse(Some("\"a\", \"b\"")).unwrap();
        assert!(c.matches(Some("\"b\"")));
        assert!(!c.matches(Some("\"c\"")));
        assert!(!c.matches(None));
        assert!(EtagCondition::parse(Some("*"))
            .unwrap()
            .matches(Some("\"x\"")));
        assert!(!EtagCondition::Any.matches(None));
    }

    #[test]
    fn destination_forms() {
        assert_eq!(destination_path("http://h:1/a/b?x").unwrap(), "/a/b");
        assert_eq!(destination_path("/a/b").unwrap(), "/a/b");
        assert_eq!(destination_path("https://h").unwrap(), "/");
        assert!(destination_path("a/b").is_err());
    }
}
