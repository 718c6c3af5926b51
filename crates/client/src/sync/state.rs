//! A snapshot's state: which blob each document key holds, as the app records it
//! (`state: [{key, blob, name}]`), and how a set of documents becomes one.

use std::collections::{BTreeMap, HashMap};

use hypnos_crypto::{
    sync::{blob_content, blob_id},
    wire::sync::StateEntry,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One document in a snapshot: its blob and its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The blob id (SHA-1 of the document's content).
    pub blob: String,
    /// The document's name, for people reading the log.
    pub name: String,
}

/// A snapshot's state by document key (`_id`).
pub type State = BTreeMap<String, Entry>;

/// A document's blob: its id and content.
pub fn blob_of(document: &Value) -> (String, String) {
    let content = blob_content(document);
    (blob_id(&content), content)
}

/// The state of a set of documents, and each blob's content by id.
pub fn state_of(documents: &[Value]) -> (State, HashMap<String, String>) {
    let mut state = State::new();
    let mut contents = HashMap::with_capacity(documents.len());
    for document in documents {
        let (blob, content) = blob_of(document);
        state.insert(
            document["_id"].as_str().unwrap_or_default().to_owned(),
            Entry {
                blob: blob.clone(),
                name: document["name"].as_str().unwrap_or_default().to_owned(),
            },
        );
        contents.insert(blob, content);
    }
    (state, contents)
}

/// A state as the wire lists it: `[{key, blob, name}]`, in key order.
pub fn to_wire(state: &State) -> Vec<StateEntry> {
    state
        .iter()
        .map(|(key, entry)| StateEntry {
            key: key.clone(),
            blob: entry.blob.clone(),
            name: entry.name.clone(),
        })
        .collect()
}

/// The state a snapshot on the wire lists.
pub fn from_wire(entries: Vec<StateEntry>) -> State {
    entries
        .into_iter()
        .map(|entry| {
            (
                entry.key,
                Entry {
                    blob: entry.blob,
                    name: entry.name,
                },
            )
        })
        .collect()
}
