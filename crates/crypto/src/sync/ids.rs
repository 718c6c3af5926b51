//! Blob and snapshot ids, and the blob's wire encoding.

use std::io::{Read, Write};

use aws_lc_rs::digest;
use flate2::{Compression, read::GzDecoder, write::GzEncoder};
use serde_json::Value;

use super::deterministic_stringify;
use crate::{
    CryptoError,
    aes::{AesKey, AesMessage},
    encoding::{is_lower_hex, to_hex},
};

/// The parent of a branch's first snapshot: 40 zeros.
pub const EMPTY_HASH: &str = "0000000000000000000000000000000000000000";

/// Whether `id` has the form of a blob or snapshot id: 40 lowercase hex digits.
pub fn is_object_id(id: &str) -> bool {
    is_lower_hex(id, 40)
}

fn sha1_hex(parts: &[&[u8]]) -> String {
    let mut context = digest::Context::new(&digest::SHA1_FOR_LEGACY_USE_ONLY);
    for part in parts {
        context.update(part);
    }
    to_hex(context.finish().as_ref())
}

/// The blob content of an app document (`hashDocument`): `modified` removed, a Workspace's
/// `parentId` set to null, then deterministically stringified.
pub fn blob_content(document: &Value) -> String {
    let mut document = document.clone();
    if let Value::Object(members) = &mut document {
        members.remove("modified");
        if members.get("type").and_then(Value::as_str) == Some("Workspace") {
            members.insert("parentId".into(), Value::Null);
        }
    }
    deterministic_stringify(&document)
}

/// A blob's id: SHA-1 hex of its content's UTF-8 bytes.
pub fn blob_id(content: &str) -> String {
    sha1_hex(&[content.as_bytes()])
}

/// A snapshot's id: SHA-1 hex of `project_id ‖ parent ‖ blob ids sorted ascending`.
pub fn snapshot_id<S: AsRef<str>>(project_id: &str, parent: &str, blob_ids: &[S]) -> String {
    let mut sorted: Vec<&str> = blob_ids.iter().map(AsRef::as_ref).collect();
    sorted.sort_unstable();
    let mut parts: Vec<&[u8]> = vec![project_id.as_bytes(), parent.as_bytes()];
    parts.extend(sorted.iter().map(|id| id.as_bytes()));
    sha1_hex(&parts)
}

/// gzip of `bytes` (the app's local store keeps blobs gzipped and uploads those bytes).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder
        .write_all(bytes)
        .expect("writing to a Vec cannot fail");
    encoder.finish().expect("writing to a Vec cannot fail")
}

/// Decompresses gzip, refusing more than `limit` bytes of output (a gzip bomb is refused, not
/// inflated).
pub fn gunzip(bytes: &[u8], limit: usize) -> Result<Vec<u8>, CryptoError> {
    let mut out = Vec::new();
    GzDecoder::new(bytes)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|err| CryptoError::Gzip(err.to_string()))?;
    if out.len() > limit {
        return Err(CryptoError::Gzip(format!("content exceeds {limit} bytes")));
    }
    Ok(out)
}

/// A blob as the app uploads it: gzip(content), encrypted under the project key, as the pretty
/// JSON of the AES message.
pub fn seal_blob(project_key: &AesKey, content: &str) -> Result<String, CryptoError> {
    Ok(AesMessage::seal(project_key, &gzip(content.as_bytes()), b"")?.to_json_pretty())
}

/// Opens a blob from the wire: parse, decrypt, gunzip (at most `limit` bytes), UTF-8.
pub fn open_blob(project_key: &AesKey, wire: &str, limit: usize) -> Result<String, CryptoError> {
    let compressed = AesMessage::from_json(wire)?.open_data(project_key)?;
    String::from_utf8(gunzip(&compressed, limit)?)
        .map_err(|_| CryptoError::Gzip("content is not UTF-8".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_round_trip_and_bomb_limit() {
        let key = AesKey::from_bytes([3; 32]);
        let wire = seal_blob(&key, "{\"_id\":\"req_1\"}").expect("seals");
        assert_eq!(
            open_blob(&key, &wire, 1024).as_deref(),
            Ok("{\"_id\":\"req_1\"}")
        );
        let big = "a".repeat(10_000);
        let wire = seal_blob(&key, &big).expect("seals");
        assert!(matches!(
            open_blob(&key, &wire, 9_999),
            Err(CryptoError::Gzip(_))
        ));
    }

    #[test]
    fn workspace_parent_is_reset_and_modified_dropped() {
        let doc = serde_json::json!({"_id": "wrk_1", "type": "Workspace", "parentId": "proj_1", "modified": 5, "name": "W"});
        assert_eq!(
            blob_content(&doc),
            "{\"_id\":\"wrk_1\",\"name\":\"W\",\"parentId\":null,\"type\":\"Workspace\"}"
        );
        let request = serde_json::json!({"_id": "req_1", "type": "Request", "parentId": "wrk_1", "modified": 5});
        assert_eq!(
            blob_content(&request),
            "{\"_id\":\"req_1\",\"parentId\":\"wrk_1\",\"type\":\"Request\"}"
        );
    }
}
