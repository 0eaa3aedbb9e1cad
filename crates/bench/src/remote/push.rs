//! `remote_push_roundtrip`: a two-way source's own remote calendar, mirrored first
//! (untimed); then, each sample, a client's PUT of an edited event into the mirror and
//! the timed sync that pushes it, checked in the answer (`pushed.updated` 1, nothing
//! written here) and on the remote (a GET returns the new text).

use super::answer::{Expect, Pushed};
use super::mirror::{Mirror, Servers};
use super::{check_text, failed, first_sync, note, p50_p95, spread, timed_sync, waited, NAMES};
use crate::dataset::Event;
use crate::report::{Samples, WorkloadResult};
use crate::workloads::progress;

pub(super) async fn roundtrip(
    servers: &Servers,
    source: &str,
    events: Vec<Event>,
    seed: u64,
    k: usize,
) -> WorkloadResult {
    let name = NAMES[4];
    progress(name);
    let mut mirror = match Mirror::create(servers, source, "both", events, seed).await {
        Ok(m) => m,
        Err(e) => return failed(name, e),
    };
    let mut setup = Samples::default();
    let first_ms = first_sync(&mut mirror, &mut setup, Some(Pushed::default())).await;
    if let Some(problem) = setup.first_problem {
        return failed(
            name,
            format!("the first sync of the two-way source: {problem}"),
        );
    }
    let n = mirror.events.len();
    let mut samples = Samples::default();
    let mut server_ms = Vec::new();
    let expect = Expect {
        outcome: "updated",
        created: 0,
        updated: 0,
        pushed: Some(Pushed {
            updated: 1,
            ..Pushed::default()
        }),
    };
    for s in 0..k {
        let i = spread(s, k, n);
        let rev = match mirror.edit_local(i).await {
            Ok(r) => r,
            Err(e) => {
                samples.error(e);
                continue;
            }
        };
        if let Some(ms) = timed_sync(&mut mirror, &mut samples, &expect).await {
            server_ms.push(ms as f64);
        }
        match mirror.remote_text(i).await {
            Ok(text) => check_text(&mut samples, &mirror, i, rev, &text, "the remote"),
            Err(e) => samples.error(e),
        }
    }
    let row = samples.finish(name, 1, None);
    let text = format!(
        "a client's edit pushed a sync, {k} samples: p50 {:.1} / p95 {:.1} ms; server time p50 {:.0} ms; the remote has the new text; the two-way mirror's first sync ({n} objects) took {first_ms} ms of server time{}",
        row.p50_ms,
        row.p95_ms,
        p50_p95(server_ms).0,
        waited(mirror.waited_secs)
    );
    note(row, text)
}
