//! PROPPATCH (RFC 4918 §9.2): live properties clients set on calendars plus dead
//! properties stored verbatim, all or nothing.

use super::{resolve, Request, Resolved};
use crate::body::Body;
use crate::error::DavError;
use crate::props::is_protected;
use crate::{path, Context};
use hyper::{Response, StatusCode};
use tributary_dav_proto::request::{PropUpdate, PropValue, Proppatch};
use tributary_dav_proto::response::{
    MultistatusWriter, PropEntry, Propstat, Response as DavResponse,
};
use tributary_dav_proto::{Namespace, PropName};
use tributary_store::{CollectionKind, CollectionProps, DeadProperty, PropTarget};

/// The outcome of checking a property update list against a target.
pub(crate) struct Plan {
    pub props: CollectionProps,
    pub dead: Vec<DeadProperty>,
    pub removed: Vec<(String, String)>,
    /// Names that cannot be set, with the status to report.
    pub refused: Vec<(PropName, u16)>,
    /// Every name touched, in order.
    pub names: Vec<PropName>,
}

/// Check updates against a collection's (or resource's, `calendar = false`) properties.
pub(crate) fn plan(updates: &[PropUpdate], start: CollectionProps, calendar: bool) -> Plan {
    let mut p = Plan {
        props: start,
        dead: vec![],
        removed: vec![],
        refused: vec![],
        names: vec![],
    };
    for u in updates {
        let (name, value) = match u {
            PropUpdate::Set(PropValue { name, element }) => (name, Some(element)),
            PropUpdate::Remove(name) => (name, None),
        };
        p.names.push(name.clone());
        if is_protected(name) {
            p.refused.push((name.clone(), 403));
            continue;
        }
        if calendar {
            if let Some(slot) = live_slot(&mut p.props, name) {
                let text = value.map(|e| e.text());
                if name.is(&Namespace::CalDav, "calendar-timezone")
                    && text
                        .as_deref()
                        .is_some_and(|t| !t.contains("BEGIN:VCALENDAR"))
                {
                    p.refused.push((name.clone(), 409));
                    continue;
                }
                *slot = text;
                continue;
            }
        }
        // Instructions apply in document order (RFC 4918 §9.2): a later instruction on
        // the same property replaces an earlier one, so the store may apply removals and
        // sets in any order.
        let key = (name.ns.uri().to_string(), name.local.clone());
        p.dead.retain(|d| {
            (d.namespace.as_str(), d.name.as_str()) != (key.0.as_str(), key.1.as_str())
        });
        p.removed.retain(|r| *r != key);
        match value {
            Some(el) => p.dead.push(DeadProperty {
                namespace: key.0,
                name: key.1,
                value: el.inner_xml(),
            }),
            None => p.removed.push(key),
        }
    }
    p
}

fn live_slot<'a>(
    props: &'a mut CollectionProps,
    name: &PropName,
) -> Option<&'a mut Option<String>> {
    match (&name.ns, name.local.as_str()) {
        (Namespace::Dav, "displayname") => Some(&mut props.displayname),
        (Namespace::CalDav, "calendar-description") => Some(&mut props.description),
        (Namespace::AppleIcal, "calendar-color") => Some(&mut props.color),
        (Namespace::AppleIcal, "calendar-order") => Some(&mut props.order),
        (Namespace::CalDav, "calendar-timezone") => Some(&mut props.timezone),
        _ => None,
    }
}

pub(super) async fn handle(ctx: &Context, req: Request) -> Result<Response<Body>, DavError> {
    let patch = Proppatch::parse(&req.body)?;
    let resolved = resolve(ctx, &req.user, &req.target).await?;
    let user = req.user.name.clone();
    let (href, target, start, calendar) = match resolved {
        Resolved::Collection(c) => (
            path::collection_href(&user, &c.path),
            PropTarget::Collection(c.id),
            c.props.clone(),
            c.kind == CollectionKind::Calendar,
        ),
        Resolved::Resource(parent, meta) => (
            path::resource_href(&user, &parent.path, &meta.name),
            PropTarget::Resource(meta.id),
            CollectionProps::default(),
            false,
        ),
        Resolved::Missing { .. } => return Err(DavError::Status(StatusCode::NOT_FOUND)),
        Resolved::Container(_) | Resolved::Principal => {
            return Err(DavError::dav(
                StatusCode::FORBIDDEN,
                "cannot-modify-protected-property",
            ))
        }
    };
    let p = plan(&patch.updates, start, calendar);
    if p.refused.is_empty() {
        let Plan {
            props,
            dead,
            removed,
            ..
        } = p.clone_parts();
        ctx.blocking(move |s| {
            match target {
                PropTarget::Collection(id) => {
                    s.put_collection_props(id, &props, &dead, &removed)?
                }
                PropTarget::Resource(_) => s.put_dead_properties(target, &dead, &removed)?,
            }
            Ok(())
        })
        .await?;
    }
    Ok(multistatus(href, &p))
}

impl Plan {
    fn clone_parts(&self) -> Plan {
        Plan {
            props: self.props.clone(),
            dead: self.dead.clone(),
            removed: self.removed.clone(),
            refused: vec![],
            names: vec![],
        }
    }
}

/// The 207 answer: every property 200 on success; on failure the refused ones with their
/// status and all others 424 Failed Dependency (RFC 4918 §9.2.1).
pub(crate) fn multistatus(href: String, p: &Plan) -> Response<Body> {
    let mut ok = Vec::new();
    let mut failed_dep = Vec::new();
    let mut refused: Vec<Propstat> = Vec::new();
    for name in &p.names {
        match p.refused.iter().find(|(n, _)| n == name) {
            Some((_, code)) => match refused.iter_mut().find(|ps| ps.status == *code) {
                Some(ps) => ps.props.push(PropEntry::empty(name.clone())),
                None => refused.push(Propstat {
                    status: *code,
                    props: vec![PropEntry::empty(name.clone())],
                }),
            },
            None if p.refused.is_empty() => ok.push(PropEntry::empty(name.clone())),
            None => failed_dep.push(PropEntry::empty(name.clone())),
        }
    }
    let mut propstats = vec![Propstat {
        status: 200,
        props: ok,
    }];
    propstats.extend(refused);
    propstats.push(Propstat {
        status: 424,
        props: failed_dep,
    });
    let mut w = MultistatusWriter::new();
    w.response(&DavResponse::Props { href, propstats });
    Response::builder()
        .status(StatusCode::MULTI_STATUS)
        .header("Content-Type", "application/xml; charset=utf-8")
        .body(Body::full(w.finish(None)))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}
