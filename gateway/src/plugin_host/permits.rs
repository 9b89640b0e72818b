//! A counting semaphore for plugin calls.
//!
//! The pooling allocator has a fixed number of instance slots; instantiating
//! beyond it fails. Calls are synchronous (run on blocking threads), so a
//! blocking wait for a slot is simpler and fairer than failing the message.

use std::sync::{Condvar, Mutex};

/// At most `n` holders at once.
pub(crate) struct Permits {
    free: Mutex<u32>,
    released: Condvar,
}

/// A held permit; released on drop.
pub(crate) struct Permit<'a> {
    permits: &'a Permits,
}

impl Permits {
    /// `n` permits.
    pub(crate) fn new(n: u32) -> Self {
        Self {
            free: Mutex::new(n),
            released: Condvar::new(),
        }
    }

    /// Waits for a free permit.
    pub(crate) fn acquire(&self) -> Permit<'_> {
        // A poisoned lock holds a plain counter that is still correct.
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        while *free == 0 {
            free = self.released.wait(free).unwrap_or_else(|p| p.into_inner());
        }
        *free -= 1;
        Permit { permits: self }
    }

    /// A permit if one is free now, without waiting.
    pub(crate) fn try_acquire(&self) -> Option<Permit<'_>> {
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        if *free == 0 {
            return None;
        }
        *free -= 1;
        Some(Permit { permits: self })
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut free = self.permits.free.lock().unwrap_or_else(|p| p.into_inner());
        *free += 1;
        self.permits.released.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn never_more_than_n_holders() {
        let permits = Arc::new(Permits::new(2));
        let live = Arc::new(AtomicU32::new(0));
        let peak = Arc::new(AtomicU32::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (permits, live, peak) = (permits.clone(), live.clone(), peak.clone());
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        let _permit = permits.acquire();
                        let now = live.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        std::thread::yield_now();
                        live.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(peak.load(Ordering::SeqCst) <= 2);
    }
}
