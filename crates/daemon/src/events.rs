//! The event bus behind `GET /events`: every container, image, network and
//! volume action is published here, kept in a bounded in-memory history for
//! `--since`, and streamed to live subscribers.

use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use tokio::sync::broadcast;

/// How many past events `--since` can replay (Docker keeps 256).
const HISTORY: usize = 1024;

/// One event in the Engine API's shape.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: &'static str,
    pub action: String,
    pub actor_id: String,
    pub attributes: BTreeMap<String, String>,
    pub time_nanos: i128,
}

impl Event {
    pub fn to_json(&self) -> Value {
        let secs = (self.time_nanos / 1_000_000_000) as i64;
        let attrs: Map<String, Value> = self
            .attributes
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let mut v = json!({
            "Type": self.kind,
            "Action": self.action,
            "Actor": {"ID": self.actor_id, "Attributes": attrs},
            "scope": "local",
            "time": secs,
            "timeNano": self.time_nanos as i64,
        });
        // The legacy fields older clients read.
        if self.kind == "container" || self.kind == "image" {
            v["status"] = Value::String(self.action.clone());
            v["id"] = Value::String(self.actor_id.clone());
            if let Some(from) = self.attributes.get("image") {
                v["from"] = Value::String(from.clone());
            }
        }
        v
    }
}

pub struct Events {
    history: Mutex<VecDeque<Event>>,
    live: broadcast::Sender<Event>,
}

impl Default for Events {
    fn default() -> Self {
        Events {
            history: Mutex::new(VecDeque::with_capacity(HISTORY)),
            live: broadcast::channel(256).0,
        }
    }
}

impl Events {
    /// Publishes an event now.
    pub fn emit(
        &self,
        kind: &'static str,
        action: &str,
        actor_id: &str,
        attributes: BTreeMap<String, String>,
    ) {
        let ev = Event {
            kind,
            action: action.to_string(),
            actor_id: actor_id.to_string(),
            attributes,
            time_nanos: berth_util::time::now_nanos(),
        };
        let mut h = self.history.lock().unwrap_or_else(|e| e.into_inner());
        if h.len() == HISTORY {
            h.pop_front();
        }
        h.push_back(ev.clone());
        // Subscribe under the same lock, so no event is both replayed and streamed, or neither.
        let _ = self.live.send(ev);
    }

    /// Past events at or after `since` (nanoseconds), and a receiver for the
    /// events after them.
    pub fn subscribe(&self, since: Option<i128>) -> (Vec<Event>, broadcast::Receiver<Event>) {
        let h = self.history.lock().unwrap_or_else(|e| e.into_inner());
        let past = match since {
            Some(t) => h.iter().filter(|e| e.time_nanos >= t).cloned().collect(),
            None => Vec::new(),
        };
        (past, self.live.subscribe())
    }
}

/// Attributes of a container event: image, name, and the container's labels.
pub fn container_attributes(
    name: &str,
    image: &str,
    labels: Option<&BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    let mut a: BTreeMap<String, String> = labels.cloned().unwrap_or_default();
    a.insert("image".into(), image.to_string());
    a.insert("name".into(), name.trim_start_matches('/').to_string());
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_replays_since_and_live_receives() {
        let ev = Events::default();
        ev.emit("container", "create", "abc", BTreeMap::new());
        let (past, mut rx) = ev.subscribe(Some(0));
        assert_eq!(past.len(), 1);
        ev.emit(
            "container",
            "start",
            "abc",
            container_attributes("/web", "busybox", None),
        );
        let got = rx.try_recv().unwrap();
        let j = got.to_json();
        assert_eq!(j["Action"], "start");
        assert_eq!(j["status"], "start");
        assert_eq!(j["from"], "busybox");
        assert_eq!(j["Actor"]["Attributes"]["name"], "web");
        let (none, _) = ev.subscribe(None);
        assert!(none.is_empty());
    }
}
