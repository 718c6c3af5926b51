//! The sync API as the newest apps (Insomnia 11–13) use it, beside the 10.x app, over real HTTP
//! on SQLite and PostgreSQL with real keys (insomnia-wire-newer.md §1.4, §1.5, §5, §6, §9):
//! `projects(allProjects: true)` with `teamProjectId`, branch names with `/`, a `data` object
//! in every answer, errors included, deleting a remote file by the id the list gave, and
//! `GET /v1/user/files`. The operations are sent with the text the app sends (Kong/insomnia
//! `packages/insomnia-vcs/src/vcs.ts` and `backend-projects.ts`, commit 0d6c3cf4).
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod common;
#[path = "http/mod.rs"]
mod http;

use http::{
    TestServer, call,
    users::{User, sign_up_and_log_in},
};
use hypnos_crypto::{
    aes::AesKey,
    jwk::SymmetricJwk,
    rsa::RsaPublicKey,
    sync::{EMPTY_HASH, blob_content, blob_id, open_blob, seal_blob, snapshot_id},
};
use hypnos_server::ServerConfig;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

// The newest app's operations, as `vcs.ts` and `backend-projects.ts` write them.

const PROJECTS_OF_TEAM: &str = "
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

const PROJECTS_OF_TEAM_PROJECT: &str = "
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

const PROJECT: &str = "
        query ($id: ID!) {
          project(id: $id) {
            id
            name
            rootDocumentId
          }
        }
      ";

const TEAM_MEMBER_KEYS: &str = "
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

const CREATE_PROJECT: &str = "
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

const PROJECT_KEY: &str = "
        query ($projectId: ID!) {
          projectKey(projectId: $projectId) {
            encSymmetricKey
          }
        }
      ";

const ARCHIVE: &str = "
      mutation ($id: ID!) {
        projectArchive(id: $id)
      }
    ";

const BRANCHES: &str = "
      query ($projectId: ID!) {
        branches(project: $projectId) {
          name
        }
      }";

const BRANCH: &str = "
      query ($projectId: ID!, $branch: String!) {
        branch(project: $projectId, name: $branch) {
          created
          modified
          name
          snapshots
        }
      }";

const REMOVE_BRANCH: &str = "
      mutation ($projectId: ID!, $branch: String!) {
        branchRemove(project: $projectId, name: $branch)
      }";

const SNAPSHOTS: &str = "
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

const PUSH: &str = "
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

const MISSING: &str = "
          query ($projectId: ID!, $ids: [ID!]!) {
            blobsMissing(project: $projectId, ids: $ids) {
              missing
            }
          }
        ";

const UPLOAD: &str = "
          mutation ($projectId: ID!, $blobs: [BlobInput!]!) {
            blobsCreate(project: $projectId, blobs: $blobs) {
              count
            }
          }
        ";

const BLOBS: &str = "
      query ($ids: [ID!]!, $projectId: ID!) {
        blobs(ids: $ids, project: $projectId) {
          id
          content
        }
      }";

/// A signed-up, logged-in user.
struct Person {
    user: User,
    account_id: String,
    session: String,
}

/// A server, its database and an HTTP client.
struct World {
    db: common::TestDb,
    server: TestServer,
    http: Client,
}

impl World {
    async fn new(db: common::TestDb) -> Self {
        Self::with(db, |_| {}).await
    }

    async fn with(db: common::TestDb, adjust: impl FnOnce(&mut ServerConfig)) -> Self {
        let mut config = ServerConfig::parse_defaults();
        config.database_url = Some(db.url.clone());
        config.login_rate_per_account = 1_000;
        config.login_rate_per_ip = 10_000;
        adjust(&mut config);
        let server = TestServer::start_with(config).await;
        Self {
            db,
            server,
            http: Client::new(),
        }
    }

    async fn person(&self, email: &str) -> Person {
        let user = User::new(email, &format!("{email}'s passphrase"));
        let (ids, session) = sign_up_and_log_in(&self.server, &self.http, &user).await;
        Person {
            user,
            account_id: ids.account_id,
            session,
        }
    }

    /// A REST call; the status and the body.
    async fn rest(
        &self,
        method: Method,
        who: &Person,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        call(
            &self.http,
            method,
            self.server.url(path),
            &who.session,
            body,
        )
        .await
    }

    /// A team organization owned by `owner`.
    async fn team(&self, owner: &Person, name: &str) -> String {
        let (status, team) = self
            .rest(
                Method::POST,
                owner,
                "/v1/organizations",
                Some(json!({ "name": name })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{team}");
        team["id"].as_str().unwrap().to_owned()
    }

    /// A team project of `org`.
    async fn team_project(&self, admin: &Person, org: &str, name: &str) -> String {
        let (status, made) = self
            .rest(
                Method::POST,
                admin,
                &format!("/v1/organizations/{org}/team-projects"),
                Some(json!({ "name": name })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        made["id"].as_str().unwrap().to_owned()
    }

    /// `invitee` joins `org` with `role`, through an invitation it accepts (holding no project
    /// key of the organization).
    async fn join(&self, inviter: &Person, org: &str, invitee: &Person, role: &str) {
        let (status, made) = self
            .rest(
                Method::POST,
                inviter,
                &format!("/v1/organizations/{org}/invites"),
                Some(json!({"inviteeId": invitee.account_id, "inviteKeys": [], "roles": [role]})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        let (status, joined) = self
            .rest(
                Method::POST,
                invitee,
                &format!("/v1/user/invites/{}/accept", made["id"].as_str().unwrap()),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{joined}");
    }

    /// One GraphQL request with the session `session` (none: no header) and this body text;
    /// the status and the answer.
    async fn post_graphql(&self, session: Option<&str>, body: String) -> (StatusCode, Value) {
        let mut request = self
            .http
            .post(self.server.url("/graphql?op"))
            .header("Content-Type", "application/json")
            .body(body);
        if let Some(session) = session {
            request = request.header("X-Session-Id", session);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// One operation as the app sends it. Every answer is a 200 with a `data` object; the data,
    /// or the first error's message.
    async fn gql(&self, who: &Person, query: &str, variables: Value) -> Result<Value, String> {
        let body = json!({ "query": query, "variables": variables }).to_string();
        let (status, answer) = self.post_graphql(Some(&who.session), body).await;
        data_or_error(status, answer)
    }

    /// The message of an operation the server must refuse.
    async fn refused(&self, who: &Person, query: &str, variables: Value) -> String {
        self.gql(who, query, variables)
            .await
            .expect_err("the server refuses it")
    }

    /// Creates project `id` in `org`'s team project `team_project` as the app does: a new key
    /// encrypted to every member. Returns the key.
    async fn create_project(
        &self,
        who: &Person,
        org: &str,
        team_project: Option<&str>,
        id: &str,
        root: &str,
        name: &str,
    ) -> AesKey {
        let members = self
            .gql(who, TEAM_MEMBER_KEYS, json!({ "teamId": org }))
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
            .gql(
                who,
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

    /// The project key as `who` decrypts it.
    async fn project_key(&self, who: &Person, project: &str) -> AesKey {
        let found = self
            .gql(who, PROJECT_KEY, json!({ "projectId": project }))
            .await
            .unwrap();
        let opened = who
            .user
            .private
            .decrypt_string(found["projectKey"]["encSymmetricKey"].as_str().unwrap())
            .unwrap();
        SymmetricJwk::from_json(&opened).unwrap().key()
    }

    /// Pushes one snapshot of `docs` on top of `parent` to `branch` as the app does (missing
    /// blobs, upload, snapshots); its id.
    async fn push(
        &self,
        who: &Person,
        project: &str,
        key: &AesKey,
        branch: &str,
        parent: &str,
        docs: &[Value],
    ) -> String {
        let contents: Vec<String> = docs.iter().map(blob_content).collect();
        let ids: Vec<String> = contents.iter().map(|content| blob_id(content)).collect();
        let missing = self
            .gql(who, MISSING, json!({ "projectId": project, "ids": ids }))
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
            self.gql(who, UPLOAD, json!({ "projectId": project, "blobs": blobs }))
                .await
                .unwrap();
        }
        let snapshot = snapshot(project, parent, docs);
        let pushed = self
            .gql(
                who,
                PUSH,
                json!({ "branchName": branch, "projectId": project, "snapshots": [snapshot] }),
            )
            .await
            .unwrap();
        assert_eq!(pushed["snapshotsCreate"][0]["id"], snapshot["id"]);
        snapshot["id"].as_str().unwrap().to_owned()
    }

    /// The snapshots of `branch`, or `None` when the project has no such branch.
    async fn branch(&self, who: &Person, project: &str, branch: &str) -> Option<Vec<String>> {
        let found = self
            .gql(
                who,
                BRANCH,
                json!({ "projectId": project, "branch": branch }),
            )
            .await
            .unwrap();
        found["branch"]["snapshots"].as_array().map(|snapshots| {
            snapshots
                .iter()
                .map(|id| id.as_str().unwrap().to_owned())
                .collect()
        })
    }

    /// Rows of `table` (for "nothing changed").
    async fn count(&self, table: &str) -> i64 {
        self.db
            .scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .await
    }
}

/// The data of a GraphQL answer, or its first error's message; every answer, error or not, must
/// be a 200 with a `data` object (the newest apps throw on anything else).
fn data_or_error(status: StatusCode, answer: Value) -> Result<Value, String> {
    assert_eq!(status, StatusCode::OK, "GraphQL answers are 200: {answer}");
    assert!(
        answer["data"].is_object(),
        "every answer has a data object: {answer}"
    );
    match answer["errors"].as_array() {
        Some(errors) if !errors.is_empty() => {
            Err(errors[0]["message"].as_str().unwrap().to_owned())
        }
        _ => Ok(answer["data"].clone()),
    }
}

/// A snapshot input as the app sends it, over `docs` on top of `parent`.
fn snapshot(project: &str, parent: &str, docs: &[Value]) -> Value {
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

fn request(id: &str, name: &str) -> Value {
    json!({"_id": id, "type": "Request", "name": name, "url": "https://api.example", "modified": 1})
}

async fn newest_projects_query_lists_every_team_project(db: common::TestDb) {
    let world = World::new(db).await;
    let alice = world.person("alice@example.com").await;
    let bob = world.person("bob@example.com").await;
    let team = world.team(&alice, "Acme").await;
    world.join(&alice, &team, &bob, "member").await;
    let apis = world.team_project(&alice, &team, "APIs").await;
    let tools = world.team_project(&alice, &team, "Tools").await;
    let first = "prj_00000000000000000000000000000001";
    let second = "prj_00000000000000000000000000000002";
    world
        .create_project(&alice, &team, Some(&apis), first, "wrk_1", "Orders API")
        .await;
    world
        .create_project(&bob, &team, Some(&tools), second, "wrk_2", "Scripts")
        .await;

    // The dashboard's list: every project of the organization, with its team project.
    let listed = world
        .gql(
            &bob,
            PROJECTS_OF_TEAM,
            json!({ "teamId": team, "allProjects": true }),
        )
        .await
        .unwrap();
    assert_eq!(
        listed["projects"],
        json!([
            {"id": first, "name": "Orders API", "rootDocumentId": "wrk_1", "teamProjectId": apis,
             "teams": [{"id": team, "name": "Acme"}]},
            {"id": second, "name": "Scripts", "rootDocumentId": "wrk_2", "teamProjectId": tools,
             "teams": [{"id": team, "name": "Acme"}]},
        ])
    );
    // `allProjects` wins over a team project named beside it.
    let both = world
        .gql(
            &alice,
            "query ($teamId: ID, $teamProjectId: ID, $allProjects: Boolean) { projects(teamId: $teamId, teamProjectId: $teamProjectId, allProjects: $allProjects) { id } }",
            json!({ "teamId": team, "teamProjectId": apis, "allProjects": true }),
        )
        .await
        .unwrap();
    assert_eq!(both["projects"].as_array().unwrap().len(), 2, "{both}");

    // The 10.x app's form, and the newest app's per-team-project one, are unchanged.
    let under_apis = world
        .gql(
            &alice,
            PROJECTS_OF_TEAM_PROJECT,
            json!({ "teamId": team, "teamProjectId": apis }),
        )
        .await
        .unwrap();
    assert_eq!(
        under_apis["projects"],
        json!([{"id": first, "name": "Orders API", "rootDocumentId": "wrk_1",
                "teams": [{"id": team, "name": "Acme"}]}])
    );
    let not_all = world
        .gql(
            &alice,
            PROJECTS_OF_TEAM,
            json!({ "teamId": team, "allProjects": false }),
        )
        .await
        .unwrap();
    assert_eq!(not_all["projects"].as_array().unwrap().len(), 2);

    // Someone else's organization is refused, as before.
    let outsider = world.person("dave@example.com").await;
    let refused = world
        .refused(
            &outsider,
            PROJECTS_OF_TEAM,
            json!({ "teamId": team, "allProjects": true }),
        )
        .await;
    assert!(refused.contains("invalid access"), "{refused}");
    let own = world
        .gql(&outsider, PROJECTS_OF_TEAM, json!({ "allProjects": true }))
        .await
        .unwrap();
    assert_eq!(own["projects"], json!([]), "no team: its own organizations");

    // With no backend project active, the newest app names a new one by its workspace id
    // (insomnia-wire-newer.md §6.3).
    let workspace = "wrk_0123456789abcdef0123456789abcdef";
    world
        .create_project(&alice, &team, Some(&apis), workspace, workspace, "Fallback")
        .await;
    let found = world
        .gql(&bob, PROJECT, json!({ "id": workspace }))
        .await
        .unwrap();
    assert_eq!(
        found["project"],
        json!({"id": workspace, "name": "Fallback", "rootDocumentId": workspace})
    );
    // The looser rule keeps the old one whole: `prj_` and up to 64 hex digits, longer than the
    // 64 characters of other ids (projects made by earlier clients keep their ids).
    let long = format!("prj_{}", "ab".repeat(32));
    world
        .create_project(&alice, &team, Some(&apis), &long, "wrk_3", "Long id")
        .await;
    let found = world
        .gql(&bob, PROJECT, json!({ "id": long }))
        .await
        .unwrap();
    assert_eq!(found["project"]["id"], long.as_str());
    world.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newest_projects_query_lists_every_team_project_sqlite() {
    newest_projects_query_lists_every_team_project(common::TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newest_projects_query_lists_every_team_project_postgres() {
    newest_projects_query_lists_every_team_project(common::TestDb::postgres().await).await;
}

async fn a_branch_with_a_slash_is_pushed_listed_read_and_removed(db: common::TestDb) {
    let world = World::new(db).await;
    let alice = world.person("alice@example.com").await;
    let bob = world.person("bob@example.com").await;
    let team = world.team(&alice, "Acme").await;
    world.join(&alice, &team, &bob, "member").await;
    let apis = world.team_project(&alice, &team, "APIs").await;
    let project = "prj_0123456789abcdef0123456789abcdef";
    let key = world
        .create_project(&alice, &team, Some(&apis), project, "wrk_1", "Orders API")
        .await;

    let on_master = world
        .push(
            &alice,
            project,
            &key,
            "master",
            EMPTY_HASH,
            &[request("req_1", "List orders")],
        )
        .await;
    // A branch forked from master, one commit ahead.
    let docs = [request("req_1", "List orders"), request("req_2", "Log in")];
    let contents: Vec<String> = docs.iter().map(blob_content).collect();
    let forked = snapshot(project, &on_master, &docs);
    let master_first = snapshot(project, EMPTY_HASH, &[request("req_1", "List orders")]);
    world
        .gql(
            &alice,
            UPLOAD,
            json!({"projectId": project, "blobs": [{"id": blob_id(&contents[1]), "content": seal_blob(&key, &contents[1]).unwrap()}]}),
        )
        .await
        .unwrap();
    let pushed = world
        .gql(
            &alice,
            PUSH,
            json!({"branchName": "feature/login", "projectId": project, "snapshots": [master_first, forked]}),
        )
        .await
        .unwrap();
    assert_eq!(pushed["snapshotsCreate"].as_array().unwrap().len(), 2);

    // Listed and read by a teammate, who decrypts the new document.
    let branches = world
        .gql(&bob, BRANCHES, json!({ "projectId": project }))
        .await
        .unwrap();
    let mut names: Vec<&str> = branches["branches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|branch| branch["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["feature/login", "master"]);
    let read = world
        .gql(
            &bob,
            BRANCH,
            json!({ "projectId": project, "branch": "feature/login" }),
        )
        .await
        .unwrap();
    assert_eq!(read["branch"]["name"], "feature/login");
    assert_eq!(
        read["branch"]["snapshots"],
        json!([on_master, forked["id"]])
    );
    let snapshots = world
        .gql(
            &bob,
            SNAPSHOTS,
            json!({ "ids": [forked["id"]], "projectId": project }),
        )
        .await
        .unwrap();
    assert_eq!(snapshots["snapshots"][0]["parent"], on_master.as_str());
    let blob = snapshots["snapshots"][0]["state"][1]["blob"]
        .as_str()
        .unwrap()
        .to_owned();
    let bobs_key = world.project_key(&bob, project).await;
    let blobs = world
        .gql(&bob, BLOBS, json!({ "ids": [blob], "projectId": project }))
        .await
        .unwrap();
    assert_eq!(
        open_blob(
            &bobs_key,
            blobs["blobs"][0]["content"].as_str().unwrap(),
            1 << 20
        )
        .unwrap(),
        contents[1]
    );

    // Names neither app makes are refused wherever a branch is named; nothing changes.
    let branch_rows = world.count("branches").await;
    let snapshot_rows = world.count("snapshots").await;
    for bad in [
        "feature/",
        "feature//login",
        "/feature",
        "feature/.hidden",
        "feature/x.lock",
        "feature/a..b",
        "fe",
        "feature login",
    ] {
        let next = snapshot(
            project,
            forked["id"].as_str().unwrap(),
            &[request("req_1", "List orders")],
        );
        for (query, variables) in [
            (
                PUSH,
                json!({"branchName": bad, "projectId": project, "snapshots": [next]}),
            ),
            (BRANCH, json!({ "projectId": project, "branch": bad })),
            (
                REMOVE_BRANCH,
                json!({ "projectId": project, "branch": bad }),
            ),
        ] {
            let refused = world.refused(&alice, query, variables).await;
            assert!(refused.contains("branch names"), "{bad}: {refused}");
        }
    }
    assert_eq!(world.count("branches").await, branch_rows);
    assert_eq!(world.count("snapshots").await, snapshot_rows);

    // Removed by the teammate: gone from the list and from reads; master stays.
    let removed = world
        .gql(
            &bob,
            REMOVE_BRANCH,
            json!({ "projectId": project, "branch": "feature/login" }),
        )
        .await
        .unwrap();
    assert_eq!(removed["branchRemove"], true);
    assert_eq!(world.branch(&bob, project, "feature/login").await, None);
    let branches = world
        .gql(&alice, BRANCHES, json!({ "projectId": project }))
        .await
        .unwrap();
    assert_eq!(branches["branches"], json!([{"name": "master"}]));
    assert_eq!(
        world.branch(&alice, project, "master").await,
        Some(vec![on_master])
    );
    world.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_branch_with_a_slash_is_pushed_listed_read_and_removed_sqlite() {
    a_branch_with_a_slash_is_pushed_listed_read_and_removed(common::TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_branch_with_a_slash_is_pushed_listed_read_and_removed_postgres() {
    a_branch_with_a_slash_is_pushed_listed_read_and_removed(common::TestDb::postgres().await).await;
}

/// Every operation of the sync API on `project` (of organization `team`), with variables that
/// would succeed for a member holding its key: the shapes the refusals are tried with.
fn every_operation(
    team: &str,
    project: &str,
    key: &AesKey,
    tip: &str,
) -> Vec<(&'static str, Value)> {
    let content = blob_content(&request("req_9", "Other"));
    let next = snapshot(project, tip, &[request("req_9", "Other")]);
    vec![
        (PROJECT_KEY, json!({ "projectId": project })),
        (BRANCHES, json!({ "projectId": project })),
        (BRANCH, json!({ "projectId": project, "branch": "master" })),
        (SNAPSHOTS, json!({ "ids": [tip], "projectId": project })),
        (
            MISSING,
            json!({ "projectId": project, "ids": [blob_id(&content)] }),
        ),
        (
            BLOBS,
            json!({ "ids": [blob_id(&content)], "projectId": project }),
        ),
        (
            UPLOAD,
            json!({"projectId": project, "blobs": [{"id": blob_id(&content), "content": seal_blob(key, &content).unwrap()}]}),
        ),
        (
            PUSH,
            json!({"branchName": "master", "projectId": project, "snapshots": [next]}),
        ),
        (
            REMOVE_BRANCH,
            json!({ "projectId": project, "branch": "feature/login" }),
        ),
        (ARCHIVE, json!({ "id": project })),
        (TEAM_MEMBER_KEYS, json!({ "teamId": team })),
        (
            PROJECTS_OF_TEAM,
            json!({ "teamId": team, "allProjects": true }),
        ),
        (
            CREATE_PROJECT,
            json!({"name": "Mine", "id": "prj_ffffffffffffffffffffffffffffffff", "rootDocumentId": "wrk_9", "teamId": team, "teamKeys": []}),
        ),
    ]
}

async fn every_refusal_is_a_200_with_a_data_object(db: common::TestDb) {
    let world = World::with(db, |config| {
        config.max_body_bytes = 128 * 1024;
        config.max_blob_bytes = 40 * 1024;
        config.max_answer_bytes = 40 * 1024;
    })
    .await;
    let alice = world.person("alice@example.com").await;
    let bob = world.person("bob@example.com").await;
    let carol = world.person("carol@example.com").await;
    let dave = world.person("dave@example.com").await;
    let erin = world.person("erin@example.com").await;
    let team = world.team(&alice, "Acme").await;
    world.join(&alice, &team, &bob, "member").await;
    world.join(&alice, &team, &carol, "member").await;
    let apis = world.team_project(&alice, &team, "APIs").await;
    let project = "prj_0123456789abcdef0123456789abcdef";
    let key = world
        .create_project(&alice, &team, Some(&apis), project, "wrk_1", "Orders API")
        .await;
    let tip = world
        .push(
            &alice,
            project,
            &key,
            "master",
            EMPTY_HASH,
            &[request("req_1", "List orders")],
        )
        .await;
    // Erin joins after the project was made: a member without its key.
    world.join(&alice, &team, &erin, "member").await;
    // Carol is removed; dave never was a member.
    let (status, _) = world
        .rest(
            Method::DELETE,
            &alice,
            &format!("/v1/organizations/{team}/members/{}", carol.account_id),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // A project of another organization, which alice does not belong to.
    let other = world.team(&dave, "Other").await;
    let theirs_under = world.team_project(&dave, &other, "Theirs").await;
    let theirs = "prj_dddddddddddddddddddddddddddddddd";
    let their_key = world
        .create_project(
            &dave,
            &other,
            Some(&theirs_under),
            theirs,
            "wrk_d",
            "Theirs",
        )
        .await;
    let their_tip = world
        .push(
            &dave,
            theirs,
            &their_key,
            "master",
            EMPTY_HASH,
            &[request("req_d", "Theirs")],
        )
        .await;

    let before: Vec<i64> = {
        let mut counts = Vec::new();
        for table in ["projects", "project_keys", "branches", "snapshots", "blobs"] {
            counts.push(world.count(table).await);
        }
        counts
    };

    // Access refusals: "invalid access", a 200 and a data object, whoever asks.
    for (who, org, target, key, tip) in [
        (&dave, team.as_str(), project, &key, tip.as_str()),
        (&carol, team.as_str(), project, &key, tip.as_str()),
        (
            &alice,
            other.as_str(),
            theirs,
            &their_key,
            their_tip.as_str(),
        ),
    ] {
        for (query, variables) in every_operation(org, target, key, tip) {
            let refused = world.refused(who, query, variables.clone()).await;
            assert!(
                refused.contains("invalid access"),
                "{}: {query} {variables}: {refused}",
                who.user.email
            );
        }
        let hidden = world
            .gql(who, PROJECT, json!({ "id": target }))
            .await
            .unwrap();
        assert_eq!(hidden["project"], Value::Null, "{}", who.user.email);
    }
    // A member may not delete the team's project; one without its key may not read or write it.
    let refused = world.refused(&bob, ARCHIVE, json!({ "id": project })).await;
    assert!(refused.contains("invalid access"), "{refused}");
    for (query, variables) in every_operation(&team, project, &key, &tip) {
        if [ARCHIVE, TEAM_MEMBER_KEYS, PROJECTS_OF_TEAM, CREATE_PROJECT].contains(&query) {
            continue;
        }
        let refused = world.refused(&erin, query, variables.clone()).await;
        assert!(
            refused.contains("invalid access"),
            "{query} {variables}: {refused}"
        );
    }

    // Not access refusals, still a 200 with a data object: a bad branch name, a push that is not
    // a fast-forward (a resolver error that nulls a non-null field), a document that does not
    // parse or validate, and each request limit.
    let stale = snapshot(project, &"1".repeat(40), &[request("req_1", "List orders")]);
    for (query, variables, expected) in [
        (
            PUSH,
            json!({"branchName": "feature//x", "projectId": project, "snapshots": []}),
            "branch names",
        ),
        (
            PUSH,
            json!({"branchName": "master", "projectId": project, "snapshots": [stale]}),
            "fast-forward",
        ),
        (
            CREATE_PROJECT,
            json!({"name": "Bad", "id": "prj_../x", "rootDocumentId": "wrk_9", "teamId": team, "teamKeys": []}),
            "id must be",
        ),
        ("{ projects { id ", json!({}), "expected"),
        ("{ projects { nope } }", json!({}), "nope"),
        (
            "query ($id: ID!) { project(id: $id) { id } }",
            json!({}),
            "id",
        ),
    ] {
        let refused = world.refused(&alice, query, variables).await;
        assert!(refused.contains(expected), "{query}: {refused}");
    }
    let aliases = format!(
        "{{ {} }}",
        (0..=world.server.config.graphql_max_aliases)
            .map(|n| format!("a{n}: projects {{ id }}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let nested = format!(
        "{{ blobs(project: \"{project}\", ids: {}\"a\"{}) {{ id }} }}",
        "[".repeat(40),
        "]".repeat(40)
    );
    let long = format!("{{ projects {{ id }} }}{}", " ".repeat(65 * 1024));
    for (query, expected) in [
        (aliases.as_str(), "top-level fields"),
        (nested.as_str(), "nests brackets"),
        (long.as_str(), "longer than"),
    ] {
        let refused = world.refused(&alice, query, json!({})).await;
        assert!(refused.contains(expected), "{refused}");
    }
    // The answer's byte budget: two blobs of about 26 KB in one answer of at most 40 KB.
    let big: Vec<String> = (0..2)
        .map(|n| {
            blob_content(&json!({"_id": format!("req_big{n}"), "type": "Request", "name": "big", "body": noise(n, 24 * 1024)}))
        })
        .collect();
    for content in &big {
        world
            .gql(&alice, UPLOAD, json!({"projectId": project, "blobs": [{"id": blob_id(content), "content": seal_blob(&key, content).unwrap()}]}))
            .await
            .unwrap();
    }
    let ids: Vec<String> = big.iter().map(|content| blob_id(content)).collect();
    let refused = world
        .refused(&alice, BLOBS, json!({ "ids": ids, "projectId": project }))
        .await;
    assert!(refused.contains("more than"), "{refused}");
    for content in &big {
        world
            .db
            .execute(&format!(
                "DELETE FROM blobs WHERE id = '{}'",
                blob_id(content)
            ))
            .await;
    }

    // The session and the body, refused before GraphQL runs, answer the same way: the REST
    // code in `extensions.code`, the sentence in the message.
    let logged_out = world.person("frank@example.com").await;
    let (status, _) = world
        .rest(Method::POST, &logged_out, "/auth/logout", None)
        .await;
    assert!(status.is_success(), "{status}");
    let list =
        json!({ "query": PROJECTS_OF_TEAM, "variables": { "allProjects": true } }).to_string();
    for (session, body, code, expected) in [
        (None, list.clone(), "UNAUTHORIZED", "not logged in"),
        (Some("not-hex"), list.clone(), "UNAUTHORIZED", "64 hex"),
        (
            Some(logged_out.session.as_str()),
            list.clone(),
            "UNAUTHORIZED",
            "log in again",
        ),
        (
            Some(alice.session.as_str()),
            "this is not JSON".to_owned(),
            "BAD_REQUEST",
            "JSON",
        ),
        (
            Some(alice.session.as_str()),
            format!("{{\"query\": \"{}\"}}", " ".repeat(200 * 1024)),
            "PAYLOAD_TOO_LARGE",
            "too large",
        ),
    ] {
        let (status, answer) = world.post_graphql(session, body).await;
        assert_eq!(answer["errors"][0]["extensions"]["code"], code, "{answer}");
        let refused = data_or_error(status, answer).unwrap_err();
        assert!(refused.contains(expected), "{code}: {refused}");
    }

    // Nothing any refusal touched changed.
    let mut after = Vec::new();
    for table in ["projects", "project_keys", "branches", "snapshots", "blobs"] {
        after.push(world.count(table).await);
    }
    assert_eq!(after, before);
    assert_eq!(
        world.branch(&alice, project, "master").await,
        Some(vec![tip])
    );
    assert_eq!(
        world.branch(&dave, theirs, "master").await,
        Some(vec![their_tip])
    );
    world.server.stop().await;
}

/// `bytes` hex characters that gzip cannot shrink much.
fn noise(seed: u64, bytes: usize) -> String {
    let mut state = (seed + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = String::with_capacity(bytes + 16);
    while out.len() < bytes {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.push_str(&format!("{state:016x}"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_is_a_200_with_a_data_object_sqlite() {
    every_refusal_is_a_200_with_a_data_object(common::TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_is_a_200_with_a_data_object_postgres() {
    every_refusal_is_a_200_with_a_data_object(common::TestDb::postgres().await).await;
}

async fn a_remote_file_is_deleted_by_the_id_the_list_gave(db: common::TestDb) {
    let world = World::new(db).await;
    let alice = world.person("alice@example.com").await;
    let bob = world.person("bob@example.com").await;
    let carol = world.person("carol@example.com").await;
    let dave = world.person("dave@example.com").await;
    let team = world.team(&alice, "Acme").await;
    let apis = world.team_project(&alice, &team, "APIs").await;
    let project = "prj_0123456789abcdef0123456789abcdef";
    let key = world
        .create_project(&alice, &team, Some(&apis), project, "wrk_1", "Orders API")
        .await;
    world
        .push(
            &alice,
            project,
            &key,
            "master",
            EMPTY_HASH,
            &[request("req_1", "List orders")],
        )
        .await;
    // Bob, an admin, and carol, a member, join later: neither holds the project's key, and
    // neither has pulled it.
    world.join(&alice, &team, &bob, "admin").await;
    world.join(&alice, &team, &carol, "member").await;

    let listed = world
        .gql(
            &bob,
            PROJECTS_OF_TEAM,
            json!({ "teamId": team, "allProjects": true }),
        )
        .await
        .unwrap();
    let id = listed["projects"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(id, project);
    let refused = world
        .refused(&bob, PROJECT_KEY, json!({ "projectId": id }))
        .await;
    assert!(
        refused.contains("invalid access"),
        "bob holds no key: {refused}"
    );

    // A non-member and a member without delete rights are refused, and nothing changes.
    for who in [&dave, &carol] {
        let refused = world.refused(who, ARCHIVE, json!({ "id": id })).await;
        assert!(refused.contains("invalid access"), "{refused}");
    }
    assert_eq!(world.count("projects").await, 1);
    assert_eq!(world.count("blobs").await, 1);

    // The admin deletes it by the listed id: the project and all it held go.
    let archived = world.gql(&bob, ARCHIVE, json!({ "id": id })).await.unwrap();
    assert_eq!(archived["projectArchive"], true);
    for table in ["projects", "project_keys", "branches", "snapshots", "blobs"] {
        assert_eq!(world.count(table).await, 0, "{table}");
    }
    let gone = world
        .gql(&alice, PROJECT, json!({ "id": id }))
        .await
        .unwrap();
    assert_eq!(gone["project"], Value::Null);
    let again = world.refused(&bob, ARCHIVE, json!({ "id": id })).await;
    assert!(again.contains("invalid access"), "{again}");
    world.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_file_is_deleted_by_the_id_the_list_gave_sqlite() {
    a_remote_file_is_deleted_by_the_id_the_list_gave(common::TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_file_is_deleted_by_the_id_the_list_gave_postgres() {
    a_remote_file_is_deleted_by_the_id_the_list_gave(common::TestDb::postgres().await).await;
}

async fn user_files_lists_the_files_of_every_organization(db: common::TestDb) {
    let world = World::new(db).await;
    let alice = world.person("alice@example.com").await;
    let bob = world.person("bob@example.com").await;
    let dave = world.person("dave@example.com").await;
    let team = world.team(&alice, "Acme").await;
    world.join(&alice, &team, &bob, "member").await;
    let apis = world.team_project(&alice, &team, "APIs").await;
    let (_, organizations) = world
        .rest(Method::GET, &bob, "/v1/organizations", None)
        .await;
    let personal = organizations["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|org| org["metadata"]["organizationType"] == "personal")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let drafts = world.team_project(&bob, &personal, "Drafts").await;
    world
        .create_project(
            &alice,
            &team,
            Some(&apis),
            "prj_00000000000000000000000000000001",
            "wrk_1",
            "Orders API",
        )
        .await;
    world
        .create_project(
            &bob,
            &personal,
            Some(&drafts),
            "prj_00000000000000000000000000000002",
            "wrk_2",
            "Scratch",
        )
        .await;
    // Filed under no team project: the app could not pull it into one, so it is not offered.
    world
        .create_project(
            &alice,
            &team,
            None,
            "prj_00000000000000000000000000000003",
            "wrk_3",
            "Loose",
        )
        .await;
    // Dave's file is his alone.
    let his = world.team(&dave, "Dave's").await;
    let his_under = world.team_project(&dave, &his, "His").await;
    world
        .create_project(
            &dave,
            &his,
            Some(&his_under),
            "prj_00000000000000000000000000000004",
            "wrk_4",
            "Private",
        )
        .await;

    let (status, files) = world.rest(Method::GET, &bob, "/v1/user/files", None).await;
    assert_eq!(status, StatusCode::OK, "{files}");
    let mut files: Vec<Value> = files.as_array().unwrap().clone();
    files.sort_by_key(|file| file["projectId"].as_str().unwrap().to_owned());
    assert_eq!(
        files,
        [
            json!({"id": "wrk_1", "name": "Orders API", "organizationId": team,
                   "teamProjectId": apis, "projectId": "prj_00000000000000000000000000000001"}),
            json!({"id": "wrk_2", "name": "Scratch", "organizationId": personal,
                   "teamProjectId": drafts, "projectId": "prj_00000000000000000000000000000002"}),
        ]
    );
    let (_, alices) = world
        .rest(Method::GET, &alice, "/v1/user/files", None)
        .await;
    assert_eq!(alices.as_array().unwrap().len(), 1, "{alices}");
    let (_, daves) = world.rest(Method::GET, &dave, "/v1/user/files", None).await;
    assert_eq!(
        daves,
        json!([{"id": "wrk_4", "name": "Private", "organizationId": his,
                "teamProjectId": his_under, "projectId": "prj_00000000000000000000000000000004"}])
    );
    // A REST endpoint: a bad session is a 401.
    let (status, body) = call(
        &world.http,
        Method::GET,
        world.server.url("/v1/user/files"),
        "0".repeat(64).as_str(),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    world.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_files_lists_the_files_of_every_organization_sqlite() {
    user_files_lists_the_files_of_every_organization(common::TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_files_lists_the_files_of_every_organization_postgres() {
    user_files_lists_the_files_of_every_organization(common::TestDb::postgres().await).await;
}
