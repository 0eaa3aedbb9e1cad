//! The answer of `POST /api/sources/NAME/sync` for a remote CalDAV source
//! (`{outcome, created, updated, deleted, unchanged, skipped, duration_ms, …}`, and for a
//! two-way source `pushed: {created, updated, deleted, conflicts, failed, first_error}`),
//! and the check of one run against what it must have done.

use serde::Deserialize;

/// The fields of the answer the checks read.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Answer {
    /// `updated`, `unchanged`, `failed`, …
    pub outcome: String,
    /// Objects written here for the first time.
    pub created: usize,
    /// Objects rewritten here.
    pub updated: usize,
    /// Objects deleted here.
    pub deleted: usize,
    /// Objects listed but left as they were.
    pub unchanged: usize,
    /// Objects the run could not take.
    pub skipped: Vec<serde_json::Value>,
    /// Why the run failed.
    pub error: Option<String>,
    /// The server's own time for the run.
    pub duration_ms: u64,
    /// What a two-way source pushed.
    pub pushed: Option<Pushed>,
}

/// What a two-way source pushed in one run.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Pushed {
    /// Objects created on the remote.
    pub created: usize,
    /// Objects updated on the remote.
    pub updated: usize,
    /// Objects deleted on the remote.
    pub deleted: usize,
    /// Pushes that met a newer remote version.
    pub conflicts: usize,
    /// Pushes that failed and stay queued.
    pub failed: usize,
    /// Why the first failed one failed.
    pub first_error: Option<String>,
}

/// What one run must have done here (and, two-way, pushed).
#[derive(Debug, Clone)]
pub struct Expect {
    /// The outcome.
    pub outcome: &'static str,
    /// Objects created here.
    pub created: usize,
    /// Objects rewritten here.
    pub updated: usize,
    /// What was pushed; `None` for a pull-only source (no `pushed` in the answer).
    pub pushed: Option<Pushed>,
}

impl Expect {
    /// A pull that writes `created` and `updated` objects and nothing else.
    pub fn pull(outcome: &'static str, created: usize, updated: usize) -> Expect {
        Expect {
            outcome,
            created,
            updated,
            pushed: None,
        }
    }
}

impl Answer {
    /// Parses the JSON body.
    pub fn parse(body: &[u8]) -> Result<Answer, String> {
        serde_json::from_slice(body).map_err(|e| format!("not a sync answer ({e})"))
    }

    /// `None` when the run did what `e` says and nothing else (nothing deleted or
    /// skipped, no error); else a description of both.
    pub fn mismatch(&self, e: &Expect) -> Option<String> {
        let held = self.outcome == e.outcome
            && (self.created, self.updated, self.deleted) == (e.created, e.updated, 0)
            && self.skipped.is_empty()
            && self.error.is_none()
            && self.pushed == e.pushed;
        if held {
            return None;
        }
        Some(format!(
            "expected {} with created {}, updated {}, deleted 0, pushed {}; the server answered \
             {} with created {}, updated {}, deleted {}, unchanged {}, skipped {}, pushed {}, error {:?}",
            e.outcome,
            e.created,
            e.updated,
            show(e.pushed.as_ref()),
            self.outcome,
            self.created,
            self.updated,
            self.deleted,
            self.unchanged,
            self.skipped.len(),
            show(self.pushed.as_ref()),
            self.error
        ))
    }
}

fn show(p: Option<&Pushed>) -> String {
    match p {
        None => "nothing (pull only)".to_string(),
        Some(p) => format!(
            "{{created {}, updated {}, deleted {}, conflicts {}, failed {}{}}}",
            p.created,
            p.updated,
            p.deleted,
            p.conflicts,
            p.failed,
            p.first_error
                .as_deref()
                .map(|e| format!(", first error {e:?}"))
                .unwrap_or_default()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INCREMENTAL: &str = r#"{"source":"r","outcome":"updated","url":"http://127.0.0.1:1/",
        "created":0,"updated":1,"deleted":0,"unchanged":0,"withheld":0,"skipped":[],
        "error":null,"http_status":207,"duration_ms":7,"next_run":1}"#;

    #[test]
    fn a_pull_that_wrote_one_object_matches_updated_1() {
        let a = Answer::parse(INCREMENTAL.as_bytes()).unwrap();
        assert_eq!(a.duration_ms, 7);
        assert!(a.mismatch(&Expect::pull("updated", 0, 1)).is_none());
        let why = a.mismatch(&Expect::pull("updated", 0, 2)).unwrap();
        assert!(
            why.contains("updated 2") && why.contains("updated 1"),
            "{why}"
        );
    }

    #[test]
    fn anything_else_written_or_pushed_is_a_mismatch() {
        let deleted = INCREMENTAL.replace(r#""deleted":0"#, r#""deleted":1"#);
        let a = Answer::parse(deleted.as_bytes()).unwrap();
        assert!(a.mismatch(&Expect::pull("updated", 0, 1)).is_some());
        // A pull-only run that reports pushes is not the run asked for.
        let pushed = INCREMENTAL.replace(
            r#""next_run":1"#,
            r#""next_run":1,"pushed":{"created":0,"updated":1,"deleted":0,"conflicts":0,"failed":0,"first_error":null}"#,
        );
        let a = Answer::parse(pushed.as_bytes()).unwrap();
        assert!(a.mismatch(&Expect::pull("updated", 0, 1)).is_some());
        let mut e = Expect::pull("updated", 0, 1);
        e.pushed = Some(Pushed {
            updated: 1,
            ..Pushed::default()
        });
        assert!(a.mismatch(&e).is_none());
        // A failed push shows its error.
        let failed = pushed
            .replace(
                r#""updated":1,"deleted":0,"conflicts""#,
                r#""updated":0,"deleted":0,"conflicts""#,
            )
            .replace(
                r#""failed":0,"first_error":null"#,
                r#""failed":1,"first_error":"412""#,
            );
        let why = Answer::parse(failed.as_bytes())
            .unwrap()
            .mismatch(&e)
            .unwrap();
        assert!(why.contains("failed 1, first error \"412\""), "{why}");
    }

    #[test]
    fn a_body_that_is_not_json_is_an_error() {
        assert!(Answer::parse(b"<html>").is_err());
    }
}
