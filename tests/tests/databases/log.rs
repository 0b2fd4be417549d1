//! Records what the program logs: every SQL statement sqlx runs (`sqlx::query` events, with
//! their `db.statement`), and authz's own events. A global subscriber, since SQLite runs its
//! queries on a worker thread of its own.

use std::fmt::Debug;
use std::sync::{Mutex, Once};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// One recorded event.
#[derive(Debug, Clone)]
pub struct Logged {
    pub target: String,
    pub level: Level,
    /// The message, and every other field as `name=value`.
    pub text: String,
}

static LOG: Mutex<Vec<Logged>> = Mutex::new(Vec::new());

/// Starts recording, once per test binary.
pub fn record() {
    static START: Once = Once::new();
    START.call_once(|| {
        tracing::subscriber::set_global_default(Recorder).expect("no other global subscriber");
    });
}

/// How many SQL statements ran so far that mention `marker` (e.g. a table name unique to the
/// test).
pub fn statements_mentioning(marker: &str) -> usize {
    LOG.lock()
        .expect("the log lock")
        .iter()
        .filter(|event| event.target == "sqlx::query" && event.text.contains(marker))
        .count()
}

/// Events of `target` at `level` or more severe whose text contains `needle`.
pub fn events(target: &str, level: Level, needle: &str) -> Vec<Logged> {
    LOG.lock()
        .expect("the log lock")
        .iter()
        .filter(|event| {
            event.target == target && event.level <= level && event.text.contains(needle)
        })
        .cloned()
        .collect()
}

struct Recorder;

struct Text(String);

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push_str(&format!(" {}={value}", field.name()));
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target().starts_with("sqlx::query") || metadata.target().starts_with("authz")
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut text = Text(String::new());
        event.record(&mut text);
        LOG.lock().expect("the log lock").push(Logged {
            target: event.metadata().target().to_owned(),
            level: *event.metadata().level(),
            text: text.0,
        });
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}
