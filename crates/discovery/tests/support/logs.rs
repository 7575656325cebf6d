//! A minimal `tracing` subscriber that records every event's level, target and fields as text,
//! for asserting what discovery logs (and that no secret is ever logged).

use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::NoSubscriber;
use tracing::{Dispatch, Event, Level, Metadata, Subscriber};

#[derive(Clone)]
pub(crate) struct Captured(Arc<Mutex<Vec<(Level, String, String)>>>);

impl Default for Captured {
    fn default() -> Self {
        // tracing-core 0.1.36 bug (tokio-rs/tracing#3611): while exactly one `Dispatch` is
        // registered, a callsite first hit on another test's thread (no subscriber there) caches
        // `Interest::never`, and this test's subscriber then misses its events. A second,
        // inert dispatch kept alive for the whole test binary keeps tracing on its general
        // path, which asks every live subscriber.
        static PIN: OnceLock<Dispatch> = OnceLock::new();
        PIN.get_or_init(|| Dispatch::new(NoSubscriber::default()));
        Self(Arc::default())
    }
}

impl Captured {
    /// (level, target, "field=value ...") of every event so far.
    pub(crate) fn events(&self) -> Vec<(Level, String, String)> {
        self.0.lock().unwrap().clone()
    }
}

struct Text(String);

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, "{}={:?} ", field.name(), value);
    }
}

impl Subscriber for Captured {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        // Span fields are logged text too.
        let mut text = Text(String::new());
        span.record(&mut text);
        let meta = span.metadata();
        self.0
            .lock()
            .unwrap()
            .push((*meta.level(), meta.target().to_owned(), text.0));
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        let mut text = Text(String::new());
        values.record(&mut text);
        self.0
            .lock()
            .unwrap()
            .push((Level::TRACE, "span-record".to_owned(), text.0));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut text = Text(String::new());
        event.record(&mut text);
        let meta = event.metadata();
        self.0
            .lock()
            .unwrap()
            .push((*meta.level(), meta.target().to_owned(), text.0));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}
