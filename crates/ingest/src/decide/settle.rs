//! The conflict paths of [`decide`](super::decide): a local CalDAV edit in the way, or
//! another source's copy of the same meeting. The policy itself is in
//! [`crate::conflict`]; this turns its settlement into a write that keeps both versions.

use super::{Ctx, Step};
use crate::conflict::{settle_local_edit, settle_two_sources, Contender, Settlement, Winner};
use crate::error::Result;
use crate::ical::render;
use tributary_store::{
    ConflictKind, IngestKind, IngestStatus, MappingWrite, NewIngestConflict, SourceMapping,
};

impl Ctx<'_> {
    /// A CalDAV client changed the object since ingestion wrote it: settle by policy and
    /// keep both versions. `mapping` is what the mapping becomes if the source wins;
    /// `theirs` the new object (`None` for a delete).
    pub(super) fn local_edit(
        &self,
        m: &SourceMapping,
        mapping: MappingWrite,
        theirs: Option<String>,
    ) -> Result<Step> {
        let local_modified = self.st.current.as_ref().map(|c| c.modified_at);
        let settle = settle_local_edit(
            self.source.conflict_policy,
            self.ev.last_modified,
            local_modified,
        );
        let ours = self.body_of(&m.resource_name)?;
        let conflict = self.conflict(
            ConflictKind::LocalEdit,
            &m.resource_name,
            None,
            ours,
            theirs.clone(),
            &settle,
        );
        let mut step = match (settle.winner, theirs) {
            (Winner::Incoming, Some(body)) => {
                let kind = self.put(body, self.current_etag())?;
                let why =
                    Some("replaced a local edit; both versions kept as a conflict".to_string());
                self.step(
                    kind,
                    Some(mapping),
                    &m.resource_name,
                    IngestStatus::Updated,
                    why,
                )
            }
            (Winner::Incoming, None) => {
                let kind = match self.current_etag() {
                    Some(etag) => IngestKind::Delete {
                        expected_etag: etag,
                    },
                    None => IngestKind::MappingOnly,
                };
                let why = Some(
                    "deleted a locally edited copy; both versions kept as a conflict".to_string(),
                );
                self.step(
                    kind,
                    Some(mapping),
                    &m.resource_name,
                    IngestStatus::Deleted,
                    why,
                )
            }
            (Winner::Existing, _) => {
                let mut keep = mapping;
                keep.etag_at_ingest = m.etag_at_ingest.clone(); // the edit stays detectable
                let why = Some(
                    "the calendar copy was edited by a CalDAV client; conflict recorded"
                        .to_string(),
                );
                self.step(
                    IngestKind::MappingOnly,
                    Some(keep),
                    &m.resource_name,
                    IngestStatus::Ignored,
                    why,
                )
            }
        };
        step.write.conflict = Some(conflict);
        Ok(step)
    }

    /// The same meeting is in the calendar from another source: settle by policy.
    pub(super) fn two_sources(&self) -> Result<Step> {
        let Some(other) = &self.st.other else {
            return self.create();
        };
        let om = &other.mapping;
        let incoming = Contender {
            priority: self.source.priority,
            last_modified: self.ev.last_modified,
        };
        let existing = Contender {
            priority: other.source.priority,
            last_modified: om.last_modified,
        };
        let settle = settle_two_sources(self.source.conflict_policy, incoming, existing);
        let theirs = render(
            self.ev,
            &om.object_uid,
            &self.source.id,
            self.source.privacy,
        );
        let ours = self.body_of(&om.resource_name)?;
        let conflict = self.conflict(
            ConflictKind::TwoSources,
            &om.resource_name,
            Some(om.source_id.as_str()),
            ours,
            Some(theirs.clone()),
            &settle,
        );
        let mut mapping = self.mapping(None);
        mapping.object_uid = om.object_uid.clone();
        let mut step = if settle.winner == Winner::Incoming {
            let kind = self.put(theirs, other.current.as_ref().map(|c| c.etag.clone()))?;
            let why = Some(format!(
                "replaced source {}'s copy of the same meeting",
                om.source_id
            ));
            let mut s = self.step(
                kind,
                Some(mapping),
                &om.resource_name,
                IngestStatus::Updated,
                why,
            );
            s.write.shadow_mapping_id = Some(om.id);
            s
        } else {
            mapping.shadowed_by = Some(om.source_id.clone());
            mapping.etag_at_ingest = None;
            let why = Some(format!(
                "the calendar shows source {}'s copy of the same meeting",
                om.source_id
            ));
            self.step(
                IngestKind::MappingOnly,
                Some(mapping),
                &om.resource_name,
                IngestStatus::Ignored,
                why,
            )
        };
        step.write.conflict = Some(conflict);
        Ok(step)
    }

    #[allow(clippy::too_many_arguments)]
    fn conflict(
        &self,
        kind: ConflictKind,
        name: &str,
        other: Option<&str>,
        ours: String,
        theirs: Option<String>,
        settle: &Settlement,
    ) -> NewIngestConflict {
        NewIngestConflict {
            collection_id: self.st.collection_id,
            resource_name: name.to_string(),
            source_id: self.source.id.clone(),
            other_source_id: other.map(str::to_string),
            kind,
            ours,
            theirs: theirs.unwrap_or_default(),
            created_at: self.now,
            resolution: settle.resolution.clone(),
        }
    }
}
