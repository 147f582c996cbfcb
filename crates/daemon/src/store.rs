//! The in-memory index of containers: lookup by name, full ID or unique ID
//! prefix, and a per-container watch channel that wakes waiters on every
//! state change. Records themselves live in `Entry::record`.

use crate::error::{Error, Result};
use crate::model::Container;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use tokio::net::UnixStream;
use tokio::sync::{oneshot, watch};

/// What waiters need to know about a container, published on every change.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Snapshot {
    pub running: bool,
    pub exit_code: i32,
    /// How many times the container has exited since the daemon started.
    pub exits: u64,
    pub removed: bool,
}

/// An attach request waiting for the container's shim (the client attached
/// before `start`).
pub type PendingAttach = (String, oneshot::Sender<UnixStream>);

pub struct Entry {
    pub id: String,
    record: Mutex<Container>,
    state: watch::Sender<Snapshot>,
    pub pending_attach: Mutex<Vec<PendingAttach>>,
    /// Serialises lifecycle operations (start/stop/rm) on this container.
    pub op: tokio::sync::Mutex<()>,
}

impl Entry {
    pub fn new(record: Container) -> Arc<Entry> {
        let snap = Snapshot {
            running: record.state.running,
            exit_code: record.state.exit_code,
            exits: 0,
            removed: false,
        };
        Arc::new(Entry {
            id: record.id.clone(),
            record: Mutex::new(record),
            state: watch::channel(snap).0,
            pending_attach: Mutex::new(Vec::new()),
            op: tokio::sync::Mutex::new(()),
        })
    }

    pub fn lock(&self) -> MutexGuard<'_, Container> {
        self.record.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn snapshot(&self) -> Snapshot {
        *self.state.borrow()
    }

    pub fn subscribe(&self) -> watch::Receiver<Snapshot> {
        self.state.subscribe()
    }

    pub fn publish(&self, f: impl FnOnce(&mut Snapshot)) {
        self.state.send_modify(f);
    }
}

fn name_in_use(name: &str, other: &str) -> Error {
    Error::conflict(format!(
        "Conflict. The container name \"/{name}\" is already in use by container \"{other}\". You have to remove (or rename) that container to be able to reuse that name."
    ))
}

#[derive(Default)]
pub struct Store {
    inner: RwLock<Index>,
}

#[derive(Default)]
struct Index {
    by_id: HashMap<String, Arc<Entry>>,
    names: HashMap<String, String>,
}

impl Store {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Index> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Index> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a container; fails if its name is taken.
    pub fn insert(&self, entry: Arc<Entry>, name: &str) -> Result<()> {
        let mut idx = self.write();
        if let Some(other) = idx.names.get(name) {
            return Err(name_in_use(name, other));
        }
        idx.names.insert(name.to_string(), entry.id.clone());
        idx.by_id.insert(entry.id.clone(), entry);
        Ok(())
    }

    /// Gives a container a new name (without `/`); fails if it is taken.
    pub fn rename(&self, id: &str, name: &str) -> Result<()> {
        let mut idx = self.write();
        if let Some(other) = idx.names.get(name) {
            return Err(name_in_use(name, other));
        }
        idx.names.retain(|_, v| v != id);
        idx.names.insert(name.to_string(), id.to_string());
        Ok(())
    }

    pub fn name_taken(&self, name: &str) -> bool {
        self.read().names.contains_key(name)
    }

    pub fn remove(&self, id: &str) {
        let mut idx = self.write();
        idx.by_id.remove(id);
        idx.names.retain(|_, v| v != id);
    }

    pub fn all(&self) -> Vec<Arc<Entry>> {
        self.read().by_id.values().cloned().collect()
    }

    /// Finds a container by full ID, exact name, or unique ID prefix, as Docker does.
    pub fn get(&self, key: &str) -> Result<Arc<Entry>> {
        let idx = self.read();
        if key.is_empty() {
            return Err(Error::no_such_container(key));
        }
        if let Some(e) = idx.by_id.get(key) {
            return Ok(e.clone());
        }
        let name = key.strip_prefix('/').unwrap_or(key);
        if let Some(id) = idx.names.get(name) {
            if let Some(e) = idx.by_id.get(id) {
                return Ok(e.clone());
            }
        }
        let mut found = idx.by_id.iter().filter(|(id, _)| id.starts_with(key));
        match (found.next(), found.next()) {
            (Some((_, e)), None) => Ok(e.clone()),
            (Some(_), Some(_)) => Err(Error::invalid(format!(
                "multiple IDs found with provided prefix: {key}"
            ))),
            _ => Err(Error::no_such_container(key)),
        }
    }
}
