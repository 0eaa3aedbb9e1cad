//! PROPFIND (RFC 4918 §9.1), streamed: the multistatus body is written on the blocking
//! pool in chunks while rows are read, so a Depth 1 listing of a large calendar never
//! sits whole in memory and never loads object bodies.

use super::stream::StreamError;
use super::{resolve, Request, Resolved};
use crate::body::Body;
use crate::error::DavError;
use crate::props::{
    is_quota_prop, live_names, live_value, member, quota_value, PropEnv, QuotaInfo, Subject,
};
use crate::{path, Context};
use hyper::{Response, StatusCode};
use std::collections::{HashMap, HashSet};
use tributary_dav_proto::headers::Depth;
use tributary_dav_proto::request::Propfind;
use tributary_dav_proto::response::{
    MemberProp, PropContent, PropEntry, Propstat, Response as DavResponse,
};
use tributary_dav_proto::{LiveProp, Namespace, Precondition, PropName};
use tributary_store::{DeadProperty, PropTarget, Store, User};

pub(super) async fn handle(ctx: &Context, req: Request) -> Result<Response<Body>, DavError> {
    let depth = Depth::parse(req.header("depth"), Depth::Infinity)?;
    if depth == Depth::Infinity {
        // RFC 4918 §9.1: servers may refuse Depth: infinity with this precondition.
        return Err(DavError::condition(
            StatusCode::FORBIDDEN,
            Precondition::PropfindFiniteDepth,
        ));
    }
    let query = Propfind::parse(&req.body)?;
    let resolved = resolve(ctx, &req.user, &req.target).await?;
    if let Resolved::Missing { .. } = resolved {
        return Err(DavError::Status(StatusCode::NOT_FOUND));
    }
    let store = ctx.store.clone();
    let max_resource_bytes = ctx.settings.max_resource_bytes;
    let user = req.user;
    let owner = user.clone();
    let answer = super::stream::multistatus(ctx, &owner, None, move |sink| {
        // RFC 4331: the user's usage, read once, only when a property asks for it.
        let wants_quota = match &query {
            Propfind::Prop(names) | Propfind::AllProp(names) => names.iter().any(is_quota_prop),
            Propfind::PropName => false,
        };
        let quota = if wants_quota {
            Some(QuotaInfo {
                usage: store.get_usage(user.id).map_err(|e| e.to_string())?,
                quota: store.quota(),
            })
        } else {
            None
        };
        let mut job = Job {
            store: &store,
            user: &user,
            query: &query,
            max_resource_bytes,
            quota,
            read_only_members: false,
            sink,
        };
        job.run(&resolved, depth == Depth::One)?;
        Ok(None)
    });
    Ok(answer.await)
}

struct Job<'a> {
    store: &'a Store,
    user: &'a User,
    query: &'a Propfind,
    max_resource_bytes: usize,
    /// The user's usage and quota when the request names an RFC 4331 property.
    quota: Option<QuotaInfo>,
    /// The resources answered are members of a pull-only calendar (read-only).
    read_only_members: bool,
    sink: &'a mut super::stream::Sink,
}

impl Job<'_> {
    fn run(&mut self, resolved: &Resolved, children: bool) -> Result<(), StreamError> {
        let name = self.user.name.clone();
        match resolved {
            Resolved::Container(href) => {
                self.entry(&Subject::Container, href.to_string(), None)?;
                if children && *href == path::PRINCIPALS {
                    self.entry(&Subject::Principal, path::principal_href(&name), None)?;
                } else if children && *href == path::CALENDARS {
                    let home = self
                        .store
                        .get_collection(self.user.id, "")
                        .map_err(|e| e.to_string())?;
                    self.entry(
                        &Subject::Collection(&home),
                        path::home_href(&name),
                        Some(PropTarget::Collection(home.id)),
                    )?;
                }
            }
            Resolved::Principal => {
                self.entry(&Subject::Principal, path::principal_href(&name), None)?
            }
            Resolved::Resource(parent, meta) => {
                self.read_only_members = parent.read_only;
                let href = path::resource_href(&name, &parent.path, &meta.name);
                self.entry(
                    &Subject::Resource(meta),
                    href,
                    Some(PropTarget::Resource(meta.id)),
                )?;
            }
            Resolved::Collection(c) => {
                self.entry(
                    &Subject::Collection(c),
                    path::collection_href(&name, &c.path),
                    Some(PropTarget::Collection(c.id)),
                )?;
                if children {
                    self.read_only_members = c.read_only;
                    self.members(c)?;
                }
            }
            Resolved::Missing { .. } => {}
        }
        Ok(())
    }

    fn members(&mut self, c: &tributary_store::Collection) -> Result<(), StreamError> {
        let name = self.user.name.clone();
        let subs = self
            .store
            .list_child_collections(self.user.id, &c.path)
            .map_err(|e| e.to_string())?;
        for sub in &subs {
            self.entry(
                &Subject::Collection(sub),
                path::collection_href(&name, &sub.path),
                Some(PropTarget::Collection(sub.id)),
            )?;
        }
        let store = self.store;
        if self.needs_dead(&Subject::Resource(&placeholder_meta())) {
            // Dead properties need their own queries: collect the (body-less) rows first so
            // no pooled connection is held while taking another.
            let mut metas = Vec::new();
            store
                .for_each_resource(c.id, |m| {
                    metas.push(m);
                    Ok(())
                })
                .map_err(|e| e.to_string())?;
            for m in &metas {
                self.entry(
                    &Subject::Resource(m),
                    path::resource_href(&name, &c.path, &m.name),
                    Some(PropTarget::Resource(m.id)),
                )?;
            }
            return Ok(());
        }
        let fast = MemberProp::plan(self.query).filter(|p| !p.contains(&MemberProp::CalendarData));
        let prefix = path::collection_href(&name, &c.path);
        let mut href = String::with_capacity(prefix.len() + 64);
        let mut failure = None;
        let result = store.for_each_resource_ref(c.id, |m| {
            let pushed = match &fast {
                Some(plan) => {
                    href.clear();
                    href.push_str(&prefix);
                    path::encode_into(&m.name, &mut href);
                    self.sink
                        .push_with(|w| w.member(plan, &member(&href, m, None)))
                }
                None => self.entry(
                    &Subject::Resource(m),
                    path::resource_href(&name, &c.path, &m.name),
                    None,
                ),
            };
            if let Err(e) = pushed {
                failure = Some(e);
                return Err(tributary_store::Error::Conflict("client went away".into()));
            }
            Ok(())
        });
        match (failure, result) {
            (Some(e), _) => Err(e),
            (None, Err(e)) => Err(e.to_string().into()),
            (None, Ok(())) => Ok(()),
        }
    }

    /// Whether answering needs the subject's dead properties.
    fn needs_dead(&self, subject: &Subject<'_>) -> bool {
        match self.query {
            Propfind::AllProp(_) | Propfind::PropName => true,
            Propfind::Prop(names) => {
                let live = live_names(subject, false);
                names
                    .iter()
                    .any(|n| LiveProp::from_name(n).is_none_or(|p| !live.contains(&p)))
            }
        }
    }

    fn entry(
        &mut self,
        subject: &Subject<'_>,
        href: String,
        dead_of: Option<PropTarget>,
    ) -> Result<(), StreamError> {
        let dead = match dead_of {
            Some(t) if self.needs_dead(subject) => self
                .store
                .list_dead_properties(t)
                .map_err(|e| e.to_string())?,
            _ => Vec::new(),
        };
        let env = PropEnv {
            user: self.user,
            max_resource_bytes: self.max_resource_bytes,
            read_only_members: self.read_only_members,
        };
        let propstats =
            build_propstats_quota(subject, self.query, &env, &dead, self.quota.as_ref());
        self.sink.push(&DavResponse::Props { href, propstats })
    }
}

fn placeholder_meta() -> tributary_store::ResourceMeta {
    tributary_store::ResourceMeta::default()
}

fn dead_name(d: &DeadProperty) -> PropName {
    PropName::new(Namespace::from_uri(&d.namespace), &d.name)
}

/// The propstats answering `query` for one subject.
pub(crate) fn build_propstats(
    subject: &Subject<'_>,
    query: &Propfind,
    env: &PropEnv<'_>,
    dead: &[DeadProperty],
) -> Vec<Propstat> {
    build_propstats_quota(subject, query, env, dead, None)
}

/// [`build_propstats`] with the user's quota for the RFC 4331 properties (without it
/// they are answered 404).
fn build_propstats_quota(
    subject: &Subject<'_>,
    query: &Propfind,
    env: &PropEnv<'_>,
    dead: &[DeadProperty],
    quota: Option<&QuotaInfo>,
) -> Vec<Propstat> {
    let value = |subject: &Subject<'_>, name: &PropName, env: &PropEnv<'_>| match quota {
        Some(q) if is_quota_prop(name) => quota_value(subject, name, q),
        _ => live_value(subject, name, env),
    };
    let mut found = Vec::new();
    let mut missing = Vec::new();
    match query {
        Propfind::PropName => {
            for prop in live_names(subject, false) {
                found.push(PropEntry::empty(prop.name()));
            }
            for d in dead {
                found.push(PropEntry::empty(dead_name(d)));
            }
        }
        Propfind::AllProp(include) => {
            let mut names: Vec<PropName> = live_names(subject, true)
                .into_iter()
                .map(LiveProp::name)
                .collect();
            names.extend(include.iter().cloned());
            // Looked up in a set, not in `found`: a scan per dead property made a
            // Depth 1 allprop of resources with 100,000 of them take 95 s.
            let mut live = HashSet::new();
            for name in names {
                if let Some(v) = value(subject, &name, env) {
                    live.insert(name.clone());
                    found.push(PropEntry { name, content: v });
                }
            }
            for d in dead {
                let name = dead_name(d);
                if !live.contains(&name) {
                    found.push(PropEntry {
                        name,
                        content: PropContent::Xml(d.value.clone()),
                    });
                }
            }
        }
        Propfind::Prop(names) => {
            let by_name: HashMap<(&str, &str), &DeadProperty> = dead
                .iter()
                .map(|d| ((d.namespace.as_str(), d.name.as_str()), d))
                .collect();
            for name in names {
                if let Some(v) = value(subject, name, env) {
                    found.push(PropEntry {
                        name: name.clone(),
                        content: v,
                    });
                } else if let Some(d) = by_name.get(&(name.ns.uri(), name.local.as_str())) {
                    found.push(PropEntry {
                        name: name.clone(),
                        content: PropContent::Xml(d.value.clone()),
                    });
                } else {
                    missing.push(PropEntry::empty(name.clone()));
                }
            }
        }
    }
    vec![Propstat::new(200, found), Propstat::new(404, missing)]
}
