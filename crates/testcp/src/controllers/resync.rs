//! The loop every controller here runs: a pass at start, after each relevant change, and on a
//! short period (for what no event announces, such as a token's expiry on the test clock).

use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;
use tokio::time::MissedTickBehavior;

use crate::store::{Event, Store};

/// Runs `pass` now, after every change `wants` (or after missing changes), and every
/// `period`, until the store's feed closes. Changes arriving during a pass are coalesced only
/// by the period, so a pass must be idempotent.
pub(crate) async fn run(store: Store, period: Duration, wants: fn(&Event) -> bool, pass: fn(&Store)) {
    let mut feed = store.subscribe();
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            event = feed.recv() => match event {
                Ok(event) if !wants(&event) => continue,
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            },
            _ = ticks.tick() => {}
        }
        pass(&store);
    }
}
