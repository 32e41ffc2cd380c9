//! Ganeti-style locks: a job takes every lock it needs at once, in shared
//! or exclusive mode, at the levels Ganeti has (cluster, instance, node
//! group, node, network). Independent jobs proceed in parallel; conflicting
//! ones wait. Taking the whole set atomically (no lock-then-wait) rules out
//! deadlocks between jobs without Ganeti's level ordering dance.

use std::time::Duration;

use parking_lot::{Condvar, Mutex};

/// Lock levels, as Ganeti's `locking.LEVELS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    Cluster,
    Instance,
    NodeGroup,
    Node,
    Network,
}

impl Level {
    /// Ganeti's name of the level (for the lock query).
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Cluster => "cluster",
            Level::Instance => "instance",
            Level::NodeGroup => "nodegroup",
            Level::Node => "node",
            Level::Network => "network",
        }
    }
}

/// One lock a job wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockReq {
    pub level: Level,
    /// `None` = every lock at that level.
    pub name: Option<String>,
    pub exclusive: bool,
}

impl LockReq {
    /// A shared lock on one name.
    pub fn shared(level: Level, name: impl Into<String>) -> Self {
        LockReq {
            level,
            name: Some(name.into()),
            exclusive: false,
        }
    }
    /// An exclusive lock on one name.
    pub fn exclusive(level: Level, name: impl Into<String>) -> Self {
        LockReq {
            level,
            name: Some(name.into()),
            exclusive: true,
        }
    }
    /// The Big Ganeti Lock, shared: everybody but cluster-wide changes.
    pub fn bgl_shared() -> Self {
        Self::shared(Level::Cluster, "BGL")
    }
    /// The Big Ganeti Lock, exclusive: cluster-wide changes.
    pub fn bgl_exclusive() -> Self {
        Self::exclusive(Level::Cluster, "BGL")
    }
    /// Every lock of a level.
    pub fn all(level: Level, exclusive: bool) -> Self {
        LockReq {
            level,
            name: None,
            exclusive,
        }
    }

    fn conflicts(&self, other: &LockReq) -> bool {
        if self.level != other.level || !(self.exclusive || other.exclusive) {
            return false;
        }
        match (&self.name, &other.name) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
    }
}

/// Why an acquisition gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcquireError {
    Canceled,
}

#[derive(Debug, Default)]
struct Held {
    entries: Vec<(u64, LockReq)>,
}

/// The lock manager, shared by all job workers.
#[derive(Debug, Default)]
pub struct LockManager {
    held: Mutex<Held>,
    released: Condvar,
}

/// Releases the job's locks when dropped.
#[derive(Debug)]
pub struct LockGuard<'a> {
    mgr: &'a LockManager,
    job: u64,
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        self.mgr.release(self.job);
    }
}

impl LockManager {
    /// A new manager with nothing held.
    pub fn new() -> Self {
        Self::default()
    }

    fn free(held: &Held, job: u64, reqs: &[LockReq]) -> bool {
        reqs.iter().all(|r| {
            held.entries
                .iter()
                .all(|(j, h)| *j == job || !r.conflicts(h))
        })
    }

    /// Try once; `true` if the locks were taken.
    pub fn try_acquire(&self, job: u64, reqs: &[LockReq]) -> bool {
        let mut held = self.held.lock();
        if Self::free(&held, job, reqs) {
            held.entries.extend(reqs.iter().cloned().map(|r| (job, r)));
            true
        } else {
            false
        }
    }

    /// Block until every lock is free, then take them all. `canceled` is
    /// polled while waiting so a canceled job stops waiting promptly.
    pub fn acquire(
        &self,
        job: u64,
        reqs: &[LockReq],
        canceled: &dyn Fn() -> bool,
    ) -> Result<LockGuard<'_>, AcquireError> {
        let mut held = self.held.lock();
        loop {
            if canceled() {
                return Err(AcquireError::Canceled);
            }
            if Self::free(&held, job, reqs) {
                held.entries.extend(reqs.iter().cloned().map(|r| (job, r)));
                return Ok(LockGuard { mgr: self, job });
            }
            self.released
                .wait_for(&mut held, Duration::from_millis(200));
        }
    }

    /// A guard for locks taken with [`LockManager::try_acquire`].
    pub fn guard(&self, job: u64) -> LockGuard<'_> {
        LockGuard { mgr: self, job }
    }

    /// Release everything a job holds.
    pub fn release(&self, job: u64) {
        let mut held = self.held.lock();
        held.entries.retain(|(j, _)| *j != job);
        drop(held);
        self.released.notify_all();
    }

    /// Wake waiters (e.g. after a cancel request).
    pub fn poke(&self) {
        self.released.notify_all();
    }

    /// Current holders, for the lock query: (level, name, exclusive, job).
    pub fn snapshot(&self) -> Vec<(Level, Option<String>, bool, u64)> {
        self.held
            .lock()
            .entries
            .iter()
            .map(|(j, r)| (r.level, r.name.clone(), r.exclusive, *j))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    #[test]
    fn shared_locks_coexist_exclusive_conflicts() {
        let m = LockManager::new();
        assert!(m.try_acquire(
            1,
            &[
                LockReq::bgl_shared(),
                LockReq::exclusive(Level::Instance, "a")
            ]
        ));
        assert!(m.try_acquire(
            2,
            &[
                LockReq::bgl_shared(),
                LockReq::exclusive(Level::Instance, "b")
            ]
        ));
        assert!(!m.try_acquire(3, &[LockReq::exclusive(Level::Instance, "a")]));
        assert!(!m.try_acquire(3, &[LockReq::bgl_exclusive()]));
        assert!(!m.try_acquire(3, &[LockReq::all(Level::Instance, false)]));
        m.release(1);
        assert!(m.try_acquire(3, &[LockReq::exclusive(Level::Instance, "a")]));
        m.release(2);
        m.release(3);
        assert!(m.try_acquire(4, &[LockReq::bgl_exclusive()]));
    }

    #[test]
    fn failed_try_takes_nothing() {
        let m = LockManager::new();
        assert!(m.try_acquire(1, &[LockReq::exclusive(Level::Node, "n")]));
        assert!(!m.try_acquire(
            2,
            &[
                LockReq::exclusive(Level::Instance, "x"),
                LockReq::exclusive(Level::Node, "n")
            ]
        ));
        // the instance lock was not taken by the failed attempt
        assert!(m.try_acquire(3, &[LockReq::exclusive(Level::Instance, "x")]));
    }

    #[test]
    fn waiter_proceeds_after_release_and_cancel_stops_waiting() {
        let m = Arc::new(LockManager::new());
        assert!(m.try_acquire(1, &[LockReq::exclusive(Level::Node, "n")]));
        let m2 = m.clone();
        let t = std::thread::spawn(move || {
            let g = m2.acquire(2, &[LockReq::exclusive(Level::Node, "n")], &|| false);
            g.is_ok()
        });
        std::thread::sleep(Duration::from_millis(50));
        m.release(1);
        assert!(t.join().unwrap());

        assert!(m.try_acquire(5, &[LockReq::exclusive(Level::Node, "n")]));
        let flag = Arc::new(AtomicBool::new(false));
        let (m3, f3) = (m.clone(), flag.clone());
        let t = std::thread::spawn(move || {
            m3.acquire(6, &[LockReq::exclusive(Level::Node, "n")], &|| {
                f3.load(Ordering::SeqCst)
            })
            .map(|_| ())
        });
        std::thread::sleep(Duration::from_millis(50));
        flag.store(true, Ordering::SeqCst);
        m.poke();
        assert_eq!(t.join().unwrap(), Err(AcquireError::Canceled));
    }
}
