//! From a [`Plan`] to the one [`IngestWrite`] that carries it out, with the conflict
//! policy applied where another version is in the way.

use crate::error::{invalid, Result};
use crate::event::NormalizedEvent;
use crate::ical::{content_hash, object_uid, render};
use crate::plan::{plan, MappingView, MatchedBy, Plan};
use tributary_calendar::{parse_object, Limits};
use tributary_store::{
    Error as StoreError, Expected, IcalMatch, IngestKind, IngestStatus, IngestWrite, MappingWrite,
    NewHistoryEntry, ResourceMeta, Source, SourceMapping, Store,
};

mod settle;

/// Another source's copy of the same meeting, already in the calendar.
pub(crate) struct Other {
    /// Its mapping.
    pub mapping: SourceMapping,
    /// Its source (for the priority).
    pub source: Source,
    /// Its object.
    pub current: Option<ResourceMeta>,
}

/// What the store held when the delivery was read.
pub(crate) struct State {
    /// The mapping of (source, event id).
    pub by_event: Option<SourceMapping>,
    /// The rows the look-up by iCalUId returned, when it was made.
    pub ical: Option<Vec<SourceMapping>>,
    /// The mapping the plan works on.
    pub view: Option<MappingView>,
    /// Another source's copy of the meeting, when there is no own mapping.
    pub other: Option<Other>,
    /// The calendar collection.
    pub collection_id: i64,
    /// The member name of this source's object (mapped, or the deterministic new one).
    pub target: String,
    /// The object at `target`.
    pub current: Option<ResourceMeta>,
}

/// A write and the answer it gives once committed.
pub(crate) struct Step {
    /// What to commit.
    pub write: IngestWrite,
    /// The answer's status.
    pub status: IngestStatus,
    /// The answer's reason.
    pub reason: Option<String>,
    /// The object concerned, if any.
    pub resource_name: Option<String>,
}

/// Plans one delivery and turns the plan into a write.
pub(crate) fn decide(
    store: &Store,
    source: &Source,
    ev: &NormalizedEvent,
    st: &State,
    now: i64,
    limits: &Limits,
) -> Result<Step> {
    let cx = Ctx {
        store,
        source,
        ev,
        st,
        now,
        limits,
        hash: content_hash(ev, source.privacy),
    };
    let window = (source.window_past_days, source.window_future_days);
    let mapping = st.view.as_ref().map(|v| &v.mapping);
    match (
        plan(ev, st.view.as_ref(), now, window, source.privacy),
        mapping,
    ) {
        (Plan::Create, _) if st.other.is_some() => cx.two_sources(),
        (Plan::Create, _) => cx.create(),
        (Plan::Update, Some(m)) | (Plan::Rekey { write: true }, Some(m)) => cx.update(m),
        (Plan::Rekey { write: false }, Some(m)) => Ok(cx.record(
            m,
            IngestStatus::Unchanged,
            "re-keyed: the event's id changed",
        )),
        (Plan::Delete, Some(m)) => cx.delete(m),
        (Plan::Tombstone, Some(m)) => Ok(cx.tombstone(m)),
        (Plan::Withhold, m) => cx.withhold(m),
        (Plan::Touch, Some(m)) => Ok(cx.record(m, IngestStatus::Unchanged, "")),
        (Plan::Shadowed { owner }, Some(m)) => {
            let why = format!("the calendar shows source {owner}'s copy of this meeting");
            Ok(cx.record(m, IngestStatus::Ignored, &why))
        }
        (Plan::Unchanged, _) => Ok(cx.history_only(IngestStatus::Unchanged, None)),
        (Plan::Ignore { reason }, _) => Ok(cx.history_only(IngestStatus::Ignored, Some(reason))),
        (_, None) => Ok(cx.history_only(
            IngestStatus::Ignored,
            Some("nothing stored for this event".into()),
        )),
    }
}

struct Ctx<'a> {
    store: &'a Store,
    source: &'a Source,
    ev: &'a NormalizedEvent,
    st: &'a State,
    now: i64,
    /// The server's limits, so an ingested object is held to what a client PUT is.
    limits: &'a Limits,
    hash: String,
}

impl Ctx<'_> {
    fn create(&self) -> Result<Step> {
        let mapping = self.mapping(None);
        let body = render(
            self.ev,
            &mapping.object_uid,
            &self.source.id,
            self.source.privacy,
        );
        let kind = self.put(body, self.current_etag())?;
        Ok(self.step(
            kind,
            Some(mapping),
            &self.st.target,
            IngestStatus::Created,
            None,
        ))
    }

    fn update(&self, m: &SourceMapping) -> Result<Step> {
        let mapping = self.mapping(Some(m));
        let body = render(
            self.ev,
            &mapping.object_uid,
            &self.source.id,
            self.source.privacy,
        );
        if self.locally_edited(m) {
            return self.local_edit(m, mapping, Some(body));
        }
        // A mapping without an object (withheld while private, released by another
        // source) gets its object now: to the sender that is a creation.
        let status = if self.st.current.is_none() {
            IngestStatus::Created
        } else {
            IngestStatus::Updated
        };
        let kind = self.put(body, self.current_etag())?;
        Ok(self.step(kind, Some(mapping), &m.resource_name, status, None))
    }

    fn delete(&self, m: &SourceMapping) -> Result<Step> {
        let mapping = self.tombstone_mapping(m);
        let Some(etag) = self.current_etag() else {
            let why = Some("the object was already gone".to_string());
            return Ok(self.step(
                IngestKind::MappingOnly,
                Some(mapping),
                &m.resource_name,
                IngestStatus::Deleted,
                why,
            ));
        };
        if self.locally_edited(m) {
            return self.local_edit(m, mapping, None);
        }
        let kind = IngestKind::Delete {
            expected_etag: etag,
        };
        Ok(self.step(
            kind,
            Some(mapping),
            &m.resource_name,
            IngestStatus::Deleted,
            None,
        ))
    }

    fn tombstone(&self, m: &SourceMapping) -> Step {
        let why = m
            .shadowed_by
            .as_ref()
            .map(|o| format!("the calendar shows source {o}'s copy of this meeting, which stays"));
        let mapping = self.tombstone_mapping(m);
        self.step(
            IngestKind::MappingOnly,
            Some(mapping),
            &m.resource_name,
            IngestStatus::Deleted,
            why,
        )
    }

    /// skip-private: remove this source's copy if it holds one, keep the mapping live.
    fn withhold(&self, m: Option<&SourceMapping>) -> Result<Step> {
        let mut mapping = self.mapping(m);
        mapping.etag_at_ingest = None;
        let owns = m.is_some_and(|m| m.shadowed_by.is_none() && m.etag_at_ingest.is_some());
        let name = m.map_or(self.st.target.as_str(), |m| m.resource_name.as_str());
        if let Some(m) =
            m.filter(|m| owns && self.current_etag().is_some() && self.locally_edited(m))
        {
            return self.local_edit(m, mapping, None);
        }
        match (owns, self.current_etag()) {
            (true, Some(etag)) => {
                let why =
                    Some("the event is private (skip-private); its copy was removed".to_string());
                let kind = IngestKind::Delete {
                    expected_etag: etag,
                };
                Ok(self.step(kind, Some(mapping), name, IngestStatus::Deleted, why))
            }
            _ => {
                let why = Some("private event not ingested (skip-private)".to_string());
                Ok(self.step(
                    IngestKind::MappingOnly,
                    Some(mapping),
                    name,
                    IngestStatus::Ignored,
                    why,
                ))
            }
        }
    }

    /// Record the new version in the mapping only.
    fn record(&self, m: &SourceMapping, status: IngestStatus, why: &str) -> Step {
        let why = Some(why.to_string()).filter(|w| !w.is_empty());
        let mapping = self.mapping(Some(m));
        self.step(
            IngestKind::MappingOnly,
            Some(mapping),
            &m.resource_name,
            status,
            why,
        )
    }

    fn history_only(&self, status: IngestStatus, why: Option<String>) -> Step {
        let target = self.st.target.clone();
        let mut step = self.step(IngestKind::HistoryOnly, None, &target, status, why);
        if self.st.view.is_none() {
            step.resource_name = None;
        }
        step
    }

    fn locally_edited(&self, m: &SourceMapping) -> bool {
        m.shadowed_by.is_none()
            && m.etag_at_ingest.is_some()
            && self.current_etag() != m.etag_at_ingest
    }

    fn current_etag(&self) -> Option<String> {
        self.st.current.as_ref().map(|c| c.etag.clone())
    }

    /// A body as a `Put`, validated the way a client PUT is.
    fn put(&self, body: String, expected_etag: Option<String>) -> Result<IngestKind> {
        let index = parse_object(body.as_bytes(), self.limits).map_err(|e| {
            invalid(format!(
                "the event cannot be stored as a calendar object: {e}"
            ))
        })?;
        Ok(IngestKind::Put {
            body: body.into_bytes(),
            index,
            expected_etag,
        })
    }

    /// The text of an object in the calendar ('' when it is gone).
    fn body_of(&self, name: &str) -> Result<String> {
        match self.store.get_resource_body(self.st.collection_id, name) {
            Ok((_, body)) => Ok(String::from_utf8_lossy(&body).into_owned()),
            Err(StoreError::NotFound) => Ok(String::new()),
            Err(e) => Err(e.into()),
        }
    }

    /// The mapping for this event, continuing `base` (its object and UID) when given.
    fn mapping(&self, base: Option<&SourceMapping>) -> MappingWrite {
        let ev = self.ev;
        MappingWrite {
            ical_uid: ev.ical_uid.clone(),
            organizer: ev.organizer.clone(),
            start_utc: ev.start_utc(),
            last_modified: ev.last_modified.or(base.and_then(|m| m.last_modified)),
            content_hash: self.hash.clone(),
            object_uid: base.map_or_else(
                || object_uid(&self.source.id, &ev.source_event_id),
                |m| m.object_uid.clone(),
            ),
            etag_at_ingest: base.and_then(|m| m.etag_at_ingest.clone()),
            deleted: false,
            shadowed_by: base.and_then(|m| m.shadowed_by.clone()),
            series_master_id: ev
                .series_master_id
                .clone()
                .or_else(|| base.and_then(|m| m.series_master_id.clone())),
        }
    }

    /// The mapping as a tombstone (a delete payload carries little but the id).
    fn tombstone_mapping(&self, m: &SourceMapping) -> MappingWrite {
        MappingWrite {
            ical_uid: m.ical_uid.clone(),
            organizer: m.organizer.clone(),
            start_utc: m.start_utc,
            last_modified: self.ev.last_modified.or(m.last_modified),
            content_hash: m.content_hash.clone(),
            object_uid: m.object_uid.clone(),
            etag_at_ingest: None,
            deleted: true,
            shadowed_by: m.shadowed_by.clone(),
            series_master_id: m.series_master_id.clone(),
        }
    }

    /// The write skeleton: expectations from the state read, the history row, and the
    /// retirement of the old id when the mapping was found by iCalUId.
    fn step(
        &self,
        kind: IngestKind,
        mapping: Option<MappingWrite>,
        name: &str,
        status: IngestStatus,
        reason: Option<String>,
    ) -> Step {
        let retire = match (&self.st.view, &mapping) {
            (Some(v), Some(_)) if v.matched_by == MatchedBy::IcalUid => {
                Some(v.mapping.source_event_id.clone())
            }
            _ => None,
        };
        let write = IngestWrite {
            source_id: self.source.id.clone(),
            source_event_id: self.ev.source_event_id.clone(),
            collection_id: self.st.collection_id,
            resource_name: name.to_string(),
            kind,
            mapping,
            expected: self.expected(),
            retire_event_id: retire,
            shadow_mapping_id: None,
            conflict: None,
            history: NewHistoryEntry {
                source_id: self.source.id.clone(),
                received_at: self.now,
                action: self.ev.action.as_str().to_string(),
                source_event_id: Some(self.ev.source_event_id.clone()),
                outcome: status,
                reason: reason.clone(),
                duration_ms: 0,
                detail: None,
            },
            now: self.now,
        };
        Step {
            write,
            status,
            reason,
            resource_name: Some(name.to_string()),
        }
    }

    fn expected(&self) -> Expected {
        Expected {
            by_event: self.st.by_event.as_ref().map(SourceMapping::version),
            by_ical_uid: match &self.st.ical {
                Some(rows) => IcalMatch::Checked(rows.iter().map(SourceMapping::version).collect()),
                None => IcalMatch::NotChecked,
            },
        }
    }
}
