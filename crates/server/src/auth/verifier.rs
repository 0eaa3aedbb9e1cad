//! A fixed set of threads for argon2 password verification, with a short bounded queue.
//!
//! Each argon2id verification holds a 19 MiB work area for tens of milliseconds. Run on
//! tokio's blocking pool (up to 512 threads), a flood of failed logins from anyone on
//! the network grew the process by 19 MiB per concurrent attempt (8.9 GB for 200
//! concurrent attempts, and glibc kept it afterwards). Here a fixed number of threads,
//! about one per core, each keep one reused work area ([`password::Verifier`]) while
//! checks are waiting, and give it back when the queue is empty, so the memory for
//! password checks is at most `threads × 19 MiB` during a flood, whatever arrives, and
//! nothing once it is over (the binary sets a fixed malloc mmap threshold, so a freed
//! work area goes back to the system rather than into an arena). What
//! does not fit in the queue is refused at once ([`Saturated`]: 503 with Retry-After)
//! without running argon2. The threads run at a lower scheduling priority, so requests
//! of clients whose credentials are already cached keep the CPU during a flood.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, TryLockError};
use tokio::sync::oneshot;
use tributary_store::password;

/// The password check could not be queued (or its thread went away): answer 503.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Saturated;

struct Job {
    password: String,
    /// The stored hash; `None` for the dummy check of an unknown user.
    phc: Option<String>,
    reply: oneshot::Sender<bool>,
}

/// The verifier threads and their queue. Dropping the pool ends the threads once the
/// queued checks are done.
pub struct VerifierPool {
    tx: SyncSender<Job>,
    threads: usize,
}

impl VerifierPool {
    /// Start `threads` verifier threads (at least one) sharing a queue of `queue` checks
    /// waiting beyond those running.
    pub fn new(threads: usize, queue: usize) -> Self {
        let (tx, rx) = sync_channel::<Job>(queue);
        let rx = Arc::new(Mutex::new(rx));
        let mut started = 0;
        for n in 0..threads.max(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("tributary-verify-{n}"))
                .spawn(move || run(&rx));
            match spawned {
                Ok(_) => started += 1,
                Err(e) => tracing::error!(error = %e, "could not start a password verifier thread"),
            }
        }
        // With no thread started, the receiver is gone with the last clone above, and
        // every check is refused as Saturated rather than waiting forever.
        Self {
            tx,
            threads: started,
        }
    }

    /// Verifier threads running.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Verify `password` against the PHC string `phc` on a verifier thread, or refuse at
    /// once when the queue is full. With `phc` `None`, verify against
    /// [`password::dummy_hash`] (an unknown user: the same cost, always false); the dummy
    /// hash is made on the verifier thread, never on an async worker.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<bool, Saturated> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            password,
            phc,
            reply,
        };
        match self.tx.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                return Err(Saturated)
            }
        }
        answer.await.map_err(|_| Saturated)
    }
}

/// One verifier thread: take checks off the queue until the pool is dropped.
fn run(rx: &Mutex<Receiver<Job>>) {
    lower_priority();
    let mut verifier = password::Verifier::new();
    loop {
        // Take a waiting job if there is one. When the queue is empty, or another
        // verifier already sleeps on it holding the lock (so it was empty a moment
        // ago), give the 19 MiB back before sleeping. The lock is never held while
        // verifying.
        let ready = match rx.try_lock() {
            Ok(rx) => rx.try_recv().ok(),
            Err(TryLockError::WouldBlock) => None,
            Err(TryLockError::Poisoned(_)) => return,
        };
        let job = match ready {
            Some(job) => job,
            None => {
                verifier.release();
                let waited = match rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                match waited {
                    Ok(job) => job,
                    // The pool was dropped.
                    Err(_) => return,
                }
            }
        };
        // A request that gave up (client gone) has dropped its answer: skip the work.
        if job.reply.is_closed() {
            continue;
        }
        let phc = job.phc.as_deref().unwrap_or_else(|| password::dummy_hash());
        let ok = verifier.verify(&job.password, phc) && job.phc.is_some();
        let _ = job.reply.send(ok);
    }
}

/// Nice this thread (not the process) to 10: password checks yield the CPU to request
/// handling, so a flood of logins slows other logins, not signed-in clients.
#[cfg(target_os = "linux")]
fn lower_priority() {
    // SAFETY: gettid and setpriority take no pointers; on Linux PRIO_PROCESS with a
    // thread id changes that thread's nice value only.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn verifies_and_refuses_beyond_the_queue() {
        let phc = password::hash("right").unwrap();
        let pool = Arc::new(VerifierPool::new(1, 2));
        assert_eq!(pool.threads(), 1);
        assert_eq!(
            pool.verify("right".into(), Some(phc.clone())).await,
            Ok(true)
        );
        assert_eq!(
            pool.verify("wrong".into(), Some(phc.clone())).await,
            Ok(false)
        );
        // On this current-thread runtime the 20 tasks all queue (or are refused) before
        // the one thread can finish a check: 1 running + 2 queued fit, the rest are
        // refused at once without running argon2.
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (pool, phc) = (pool.clone(), phc.clone());
                tokio::spawn(async move { pool.verify("wrong".into(), Some(phc)).await })
            })
            .collect();
        let mut checked = 0;
        let mut refused = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(false) => checked += 1,
                Err(Saturated) => refused += 1,
                Ok(true) => panic!("wrong password accepted"),
            }
        }
        assert!((1..=3).contains(&checked), "checked {checked}");
        assert_eq!(refused, 20 - checked);
        // the dummy check of an unknown user is never true, whatever the password
        assert_eq!(
            pool.verify("tributary-dummy-password".into(), None).await,
            Ok(false)
        );
        // and the pool keeps working afterwards
        assert_eq!(pool.verify("right".into(), Some(phc)).await, Ok(true));
    }
}
