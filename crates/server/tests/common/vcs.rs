//! The sync API's operations as the app sends them (Kong/insomnia
//! `packages/insomnia-vcs/src/vcs.ts` and `backend-projects.ts`, commit 0d6c3cf4), and [`Vcs`]:
//! an actor making a team project, creating a synced project with a key for every member,
//! pushing snapshots of encrypted blobs and reading branches, as the app does. Shared by the
//! suites that drive the sync API (`graphql_newer/`, `live/`).

use hypnos_crypto::{
    aes::AesKey,
    jwk::SymmetricJwk,
    rsa::RsaPublicKey,
    sync::{blob_content, blob_id, seal_blob, snapshot_id},
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::app::Actor;

pub const PROJECTS_OF_TEAM: &str = "
      query ($teamId: ID, $allProjects: Boolean) {
        projects(teamId: $teamId, allProjects: $allProjects) {
          id
          name
          rootDocumentId
          teamProjectId
          teams {
            id
            name
          }
        }
      }
    ";

pub const PROJECTS_OF_TEAM_PROJECT: &str = "
      query ($teamId: ID, $teamProjectId: ID) {
        projects(teamId: $teamId, teamProjectId: $teamProjectId) {
          id
          name
          rootDocumentId
          teams {
            id
            name
          }
        }
      }
    ";

pub const PROJECT: &str = "
        query ($id: ID!) {
          project(id: $id) {
            id
            name
            rootDocumentId
          }
        }
      ";

pub const TEAM_MEMBER_KEYS: &str = "
        query ($teamId: ID!) {
          teamMemberKeys(teamId: $teamId) {
            memberKeys {
              accountId
              publicKey
              autoLinked
            }
          }
        }
      ";

pub const CREATE_PROJECT: &str = "
        mutation (
          $name: String!,
          $id: ID!,
          $rootDocumentId: ID!,
          $teamId: ID,
          $teamProjectId: ID,
          $teamKeys: [ProjectCreateKeyInput!],
        ) {
          projectCreate(
            name: $name,
            id: $id,
            rootDocumentId: $rootDocumentId,
            teamId: $teamId,
            teamKeys: $teamKeys,
            teamProjectId: $teamProjectId
          ) {
            id
            name
            rootDocumentId
          }
        }
      ";

pub const PROJECT_KEY: &str = "
        query ($projectId: ID!) {
          projectKey(projectId: $projectId) {
            encSymmetricKey
          }
        }
      ";

pub const ARCHIVE: &str = "
      mutation ($id: ID!) {
        projectArchive(id: $id)
      }
    ";

pub const BRANCHES: &str = "
      query ($projectId: ID!) {
        branches(project: $projectId) {
          name
        }
      }";

pub const BRANCH: &str = "
      query ($projectId: ID!, $branch: String!) {
        branch(project: $projectId, name: $branch) {
          created
          modified
          name
          snapshots
        }
      }";

pub const REMOVE_BRANCH: &str = "
      mutation ($projectId: ID!, $branch: String!) {
        branchRemove(project: $projectId, name: $branch)
      }";

pub const SNAPSHOTS: &str = "
        query ($ids: [ID!]!, $projectId: ID!) {
          snapshots(ids: $ids, project: $projectId) {
            id
            parent
            created
            author
            authorAccount {
              firstName
              lastName
              email
            }
            name
            description
            state {
              blob
              key
              name
            }
          }
        }";

pub const PUSH: &str = "
        mutation ($projectId: ID!, $snapshots: [SnapshotInput!]!, $branchName: String!) {
          snapshotsCreate(project: $projectId, snapshots: $snapshots, branch: $branchName) {
            id
            parent
            created
            author
            authorAccount {
              firstName
              lastName
              email
            }
            name
            description
            state {
              blob
              key
              name
            }
          }
        }
      ";

pub const MISSING: &str = "
          query ($projectId: ID!, $ids: [ID!]!) {
            blobsMissing(project: $projectId, ids: $ids) {
              missing
            }
          }
        ";

pub const UPLOAD: &str = "
          mutation ($projectId: ID!, $blobs: [BlobInput!]!) {
            blobsCreate(project: $projectId, blobs: $blobs) {
              count
            }
          }
        ";

pub const BLOBS: &str = "
      query ($ids: [ID!]!, $projectId: ID!) {
        blobs(ids: $ids, project: $projectId) {
          id
          content
        }
      }";

/// The app's sync operations as one actor sends them (`vcs.ts`): every answer must be a 200
/// with a `data` object.
pub trait Vcs {
    /// One operation as the app sends it; the data, or the first error's message.
    async fn data(&self, query: &str, variables: Value) -> Result<Value, String>;

    /// The message of an operation the server must refuse.
    async fn refused(&self, query: &str, variables: Value) -> String;

    /// A team project of `org`, made over REST as the app makes it.
    async fn team_project(&self, org: &str, name: &str) -> String;

    /// Creates project `id` in `org`'s team project `team_project` as the app does: a new key
    /// encrypted to every member. Returns the key.
    async fn create_project(
        &self,
        org: &str,
        team_project: Option<&str>,
        id: &str,
        root: &str,
        name: &str,
    ) -> AesKey;

    /// The project key as this actor decrypts it.
    async fn project_key(&self, project: &str) -> AesKey;

    /// Pushes one snapshot of `docs` on top of `parent` to `branch` as the app does (missing
    /// blobs, upload, snapshots); its id.
    async fn push(
        &self,
        project: &str,
        key: &AesKey,
        branch: &str,
        parent: &str,
        docs: &[Value],
    ) -> String;

    /// The snapshots of `branch`, or `None` when the project has no such branch.
    async fn branch(&self, project: &str, branch: &str) -> Option<Vec<String>>;
}

impl Vcs for Actor {
    async fn data(&self, query: &str, variables: Value) -> Result<Value, String> {
        data_or_error(self.gql(query, variables).await)
    }

    async fn refused(&self, query: &str, variables: Value) -> String {
        self.data(query, variables)
            .await
            .expect_err("the server refuses it")
    }

    async fn team_project(&self, org: &str, name: &str) -> String {
        let (status, made) = self
            .post(
                &format!("/v1/organizations/{org}/team-projects"),
                json!({ "name": name }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        made["id"].as_str().unwrap().to_owned()
    }

    async fn create_project(
        &self,
        org: &str,
        team_project: Option<&str>,
        id: &str,
        root: &str,
        name: &str,
    ) -> AesKey {
        let members = self
            .data(TEAM_MEMBER_KEYS, json!({ "teamId": org }))
            .await
            .unwrap();
        let key = AesKey::generate().unwrap();
        let jwk = key.to_jwk().to_json().to_string();
        let team_keys: Vec<Value> = members["teamMemberKeys"]["memberKeys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|member| {
                let public =
                    RsaPublicKey::from_jwk_json(member["publicKey"].as_str().unwrap()).unwrap();
                json!({
                    "autoLinked": member["autoLinked"],
                    "accountId": member["accountId"],
                    "encSymmetricKey": public.encrypt_string(&jwk).unwrap(),
                })
            })
            .collect();
        let made = self
            .data(
                CREATE_PROJECT,
                json!({
                    "name": name, "id": id, "rootDocumentId": root, "teamId": org,
                    "teamKeys": team_keys, "teamProjectId": team_project,
                }),
            )
            .await
            .unwrap();
        assert_eq!(made["projectCreate"]["id"], id, "{made}");
        key
    }

    async fn project_key(&self, project: &str) -> AesKey {
        let found = self
            .data(PROJECT_KEY, json!({ "projectId": project }))
            .await
            .unwrap();
        let opened = self
            .user
            .private
            .decrypt_string(found["projectKey"]["encSymmetricKey"].as_str().unwrap())
            .unwrap();
        SymmetricJwk::from_json(&opened).unwrap().key()
    }

    async fn push(
        &self,
        project: &str,
        key: &AesKey,
        branch: &str,
        parent: &str,
        docs: &[Value],
    ) -> String {
        let contents: Vec<String> = docs.iter().map(blob_content).collect();
        let ids: Vec<String> = contents.iter().map(|content| blob_id(content)).collect();
        let missing = self
            .data(MISSING, json!({ "projectId": project, "ids": ids }))
            .await
            .unwrap();
        let missing: Vec<&str> = missing["blobsMissing"]["missing"]
            .as_array()
            .unwrap()
            .iter()
            .map(|id| id.as_str().unwrap())
            .collect();
        let blobs: Vec<Value> = contents
            .iter()
            .zip(&ids)
            .filter(|(_, id)| missing.contains(&id.as_str()))
            .map(|(content, id)| json!({"id": id, "content": seal_blob(key, content).unwrap()}))
            .collect();
        if !blobs.is_empty() {
            self.data(UPLOAD, json!({ "projectId": project, "blobs": blobs }))
                .await
                .unwrap();
        }
        let snapshot = snapshot(project, parent, docs);
        let pushed = self
            .data(
                PUSH,
                json!({ "branchName": branch, "projectId": project, "snapshots": [snapshot] }),
            )
            .await
            .unwrap();
        assert_eq!(pushed["snapshotsCreate"][0]["id"], snapshot["id"]);
        snapshot["id"].as_str().unwrap().to_owned()
    }

    async fn branch(&self, project: &str, branch: &str) -> Option<Vec<String>> {
        let found = self
            .data(BRANCH, json!({ "projectId": project, "branch": branch }))
            .await
            .unwrap();
        found["branch"]["snapshots"].as_array().map(|snapshots| {
            snapshots
                .iter()
                .map(|id| id.as_str().unwrap().to_owned())
                .collect()
        })
    }
}

/// Rows of `table` (for "nothing changed").
pub async fn count(db: &super::TestDb, table: &str) -> i64 {
    db.scalar(&format!("SELECT COUNT(*) FROM {table}")).await
}

/// The data of a GraphQL answer, or its first error's message; every answer, error or not, must
/// be a 200 with a `data` object (the newest apps throw on anything else).
pub fn data_or_error((status, answer): (StatusCode, Value)) -> Result<Value, String> {
    assert_eq!(status, StatusCode::OK, "GraphQL answers are 200: {answer}");
    assert!(
        answer["data"].is_object(),
        "every answer has a data object: {answer}"
    );
    super::app::data_or_error((status, answer))
}

/// A snapshot input as the app sends it, over `docs` on top of `parent`.
pub fn snapshot(project: &str, parent: &str, docs: &[Value]) -> Value {
    let contents: Vec<String> = docs.iter().map(blob_content).collect();
    let ids: Vec<String> = contents.iter().map(|content| blob_id(content)).collect();
    let blob_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    json!({
        "created": "2026-11-28T08:00:00.000Z",
        "name": "a change",
        "description": "",
        "parent": parent,
        "id": snapshot_id(project, parent, &blob_refs),
        "author": "",
        "state": docs.iter().zip(&ids).map(|(doc, blob)| json!({
            "key": doc["_id"], "blob": blob, "name": doc["name"],
        })).collect::<Vec<_>>(),
    })
}

pub fn request(id: &str, name: &str) -> Value {
    json!({"_id": id, "type": "Request", "name": name, "url": "https://api.example", "modified": 1})
}
