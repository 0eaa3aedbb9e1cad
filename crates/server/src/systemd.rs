//! Service state for systemd (`Type=notify`, see `dist/tributary.service`): `READY=1`
//! once the listeners are bound, `RELOADING=1` with `MONOTONIC_USEC=` and then
//! `READY=1` around a SIGHUP reload, `STOPPING=1` when shutdown begins
//! (https://www.freedesktop.org/software/systemd/man/latest/sd_notify.html).
//!
//! The messages go to the datagram socket named by `$NOTIFY_SOCKET`; without it (a
//! shell, a container without systemd) every call does nothing. Sending is best
//! effort: a failure is logged and never stops the server.

#[cfg(unix)]
use sd_notify::NotifyState;

/// The listeners are bound: `systemctl start` may return, and units ordered after
/// this one may connect.
pub fn ready() {
    #[cfg(unix)]
    send(&[NotifyState::Ready], "ready");
}

/// A reload (SIGHUP) has begun. systemd matches `MONOTONIC_USEC` against the time it
/// asked for the reload, so the message carries the current monotonic time.
pub fn reloading() {
    #[cfg(unix)]
    match NotifyState::monotonic_usec_now() {
        Ok(now) => send(&[NotifyState::Reloading, now], "reloading"),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the monotonic clock; RELOADING=1 alone");
            send(&[NotifyState::Reloading], "reloading");
        }
    }
}

/// Shutdown has begun (SIGTERM or SIGINT): requests in flight are finishing.
pub fn stopping() {
    #[cfg(unix)]
    send(&[NotifyState::Stopping], "stopping");
}

#[cfg(unix)]
fn send(states: &[NotifyState], what: &str) {
    if let Err(e) = sd_notify::notify(false, states) {
        tracing::warn!(error = %e, state = what, "cannot notify systemd");
    }
}
