//! The app's three-way merge of snapshot states (`sync/vcs/util.ts threeWayMerge`), key by
//! key: what only one side changed is taken from that side; what both changed differently is
//! a conflict, which this client never settles silently: it stops and lists them, unless the
//! user said which side wins.

use serde::Serialize;

use super::state::{Entry, State};

/// Which side wins every conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Prefer {
    /// This machine's documents.
    Ours,
    /// The server's (a teammate's) documents.
    Theirs,
}

/// How both sides changed one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ConflictKind {
    /// Both added it, with different content.
    BothAdded,
    /// Both changed it, differently.
    BothModified,
    /// You deleted it; they changed it.
    YouDeletedTheyModified,
    /// They deleted it; you changed it.
    TheyDeletedYouModified,
}

impl ConflictKind {
    /// The app's words for it.
    pub fn describe(self) -> &'static str {
        match self {
            Self::BothAdded => "both added",
            Self::BothModified => "both modified",
            Self::YouDeletedTheyModified => "you deleted and they modified",
            Self::TheyDeletedYouModified => "they deleted and you modified",
        }
    }
}

/// A document both sides changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Conflict {
    /// The document's `_id`.
    pub key: String,
    /// Its name (ours if we have it, else theirs).
    pub name: String,
    /// How.
    pub kind: ConflictKind,
}

/// A merge's outcome.
#[derive(Debug, Clone, Default)]
pub struct Merged {
    /// The merged state (conflicts resolved by the preference given, else left as ours).
    pub state: State,
    /// Every conflict met, resolved or not.
    pub conflicts: Vec<Conflict>,
}

fn blob(entry: Option<&Entry>) -> Option<&str> {
    entry.map(|e| e.blob.as_str())
}

/// Merges `ours` and `theirs`, which both started from `root`.
pub fn three_way(root: &State, ours: &State, theirs: &State, prefer: Option<Prefer>) -> Merged {
    let mut merged = Merged::default();
    let keys: std::collections::BTreeSet<&String> = root
        .keys()
        .chain(ours.keys())
        .chain(theirs.keys())
        .collect();
    for key in keys {
        let (base, mine, other) = (root.get(key), ours.get(key), theirs.get(key));
        let chosen = if blob(mine) == blob(other) || blob(other) == blob(base) {
            mine
        } else if blob(mine) == blob(base) {
            other
        } else {
            let kind = match (base, mine, other) {
                (None, _, _) => ConflictKind::BothAdded,
                (_, None, _) => ConflictKind::YouDeletedTheyModified,
                (_, _, None) => ConflictKind::TheyDeletedYouModified,
                _ => ConflictKind::BothModified,
            };
            merged.conflicts.push(Conflict {
                key: key.clone(),
                name: mine.or(other).map(|e| e.name.clone()).unwrap_or_default(),
                kind,
            });
            match prefer {
                Some(Prefer::Theirs) => other,
                _ => mine,
            }
        };
        if let Some(entry) = chosen {
            merged.state.insert(key.clone(), entry.clone());
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(entries: &[(&str, &str)]) -> State {
        entries
            .iter()
            .map(|(key, blob)| {
                (
                    (*key).to_owned(),
                    Entry {
                        blob: (*blob).to_owned(),
                        name: format!("{key} name"),
                    },
                )
            })
            .collect()
    }

    #[test]
    fn one_sided_changes_merge_and_both_sided_ones_conflict() {
        let root = state(&[
            ("a", "1"),
            ("b", "1"),
            ("c", "1"),
            ("d", "1"),
            ("e", "1"),
            ("f", "1"),
        ]);
        // a: only theirs changed; b: only ours; c: both the same; d: both differently;
        // e: we deleted, they changed; f: they deleted, we changed; g: both added apart;
        // h: only we added; i: only they added.
        let ours = state(&[
            ("a", "1"),
            ("b", "2"),
            ("c", "3"),
            ("d", "4"),
            ("f", "6"),
            ("g", "7"),
            ("h", "8"),
        ]);
        let theirs = state(&[
            ("a", "2"),
            ("b", "1"),
            ("c", "3"),
            ("d", "5"),
            ("e", "5"),
            ("g", "9"),
            ("i", "9"),
        ]);
        let merged = three_way(&root, &ours, &theirs, None);
        let kinds: Vec<(&str, ConflictKind)> = merged
            .conflicts
            .iter()
            .map(|c| (c.key.as_str(), c.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                ("d", ConflictKind::BothModified),
                ("e", ConflictKind::YouDeletedTheyModified),
                ("f", ConflictKind::TheyDeletedYouModified),
                ("g", ConflictKind::BothAdded),
            ]
        );
        let blobs = |merged: &Merged| -> Vec<(String, String)> {
            merged
                .state
                .iter()
                .map(|(k, e)| (k.clone(), e.blob.clone()))
                .collect()
        };
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(k, b)| ((*k).into(), (*b).into()))
                .collect()
        };
        assert_eq!(
            blobs(&three_way(&root, &ours, &theirs, Some(Prefer::Ours))),
            pairs(&[
                ("a", "2"),
                ("b", "2"),
                ("c", "3"),
                ("d", "4"),
                ("f", "6"),
                ("g", "7"),
                ("h", "8"),
                ("i", "9")
            ])
        );
        assert_eq!(
            blobs(&three_way(&root, &ours, &theirs, Some(Prefer::Theirs))),
            pairs(&[
                ("a", "2"),
                ("b", "2"),
                ("c", "3"),
                ("d", "5"),
                ("e", "5"),
                ("g", "9"),
                ("h", "8"),
                ("i", "9")
            ])
        );
    }

    #[test]
    fn deletions_on_one_side_are_kept() {
        let root = state(&[("a", "1"), ("b", "1")]);
        let ours = state(&[("b", "1")]);
        let theirs = state(&[("a", "1")]);
        let merged = three_way(&root, &ours, &theirs, None);
        assert!(merged.conflicts.is_empty());
        assert!(merged.state.is_empty());
    }

    #[test]
    fn without_a_common_root_identical_documents_agree() {
        let ours = state(&[("a", "1"), ("b", "2")]);
        let theirs = state(&[("a", "1"), ("b", "3")]);
        let merged = three_way(&State::new(), &ours, &theirs, None);
        assert_eq!(merged.conflicts.len(), 1);
        assert_eq!(merged.conflicts[0].kind, ConflictKind::BothAdded);
    }
}
