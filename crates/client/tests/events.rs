//! The typed event stream (`Api::events`) over real HTTP:
//!
//! * against the real server, on SQLite and PostgreSQL: a push is a `FileChanged` on the
//!   pusher's organization's stream, naming the team project, the sync project and the branch;
//!   a non-member's stream is refused before any event; the server's shutdown ends the stream,
//!   which the caller sees as its end;
//! * against a hostile server (a socket answering by hand): comments, named events, unknown
//!   types and malformed data are skipped, an oversized line ends the stream as a protocol
//!   error, a stream that is not `text/event-stream` is refused, and a silent one is given up.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use hypnos_client::{
    Api, ClientError, NewAccount, Session, Unavailable,
    crypto::wire::events::Event,
    log_in, orgs,
    sync::{PushOptions, Quiet, Syncer},
};
use serde_json::json;
use support::{Kind, Server};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

/// The longest a test waits for an event (it arrives within a second).
const WAIT: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_is_a_typed_event_on_sqlite() {
    a_push_is_a_typed_event(Kind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_is_a_typed_event_on_postgres() {
    a_push_is_a_typed_event(Kind::Postgres).await;
}

async fn account(api: &Api, email: &str) -> Session {
    let passphrase = format!("{email}'s long passphrase");
    hypnos_client::sign_up(
        api,
        &NewAccount {
            email,
            first_name: "Lin",
            last_name: "",
            passphrase: &passphrase,
        },
    )
    .await
    .unwrap();
    log_in(api, email, &passphrase).await.unwrap()
}

async fn a_push_is_a_typed_event(kind: Kind) {
    let server = Server::start_on(kind).await;
    let api = Api::new(&server.base).unwrap();
    let session = account(&api, "lin@example.com").await;
    let org = orgs::list(&api, &session.id).await.unwrap().remove(0).id;
    let team_project = orgs::create_team_project(&api, &session.id, &org, "Lib")
        .await
        .unwrap()
        .id;

    // Not a member: refused when opening, before any event.
    let stranger = account(&api, "sam@example.com").await;
    let refused = api.events(&stranger.id, &org).await.err().unwrap();
    assert!(matches!(refused, ClientError::NoAccess(_)), "{refused}");

    let mut events = Box::pin(api.events(&session.id, &org).await.unwrap().into_stream());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.json");
    std::fs::write(
        &file,
        json!({"_type": "export", "__export_format": 4, "resources": [
            {"_id": "wrk_ev", "_type": "workspace", "parentId": null, "name": "Events",
             "scope": "collection"},
            {"_id": "req_ev", "_type": "request", "parentId": "wrk_ev", "name": "R", "url": "u"},
        ]})
        .to_string(),
    )
    .unwrap();
    let pushed = Syncer::new(&api, &session, dir.path(), &Quiet)
        .unwrap()
        .push(
            &file,
            &PushOptions {
                org: &org,
                team_project: Some(&team_project),
                branch: "master",
                message: "first",
                prefer: None,
            },
            |_, _| Ok(()),
        )
        .await
        .unwrap();
    // The project's creation comes first, without a branch (for the app's dashboards); then
    // the push to master.
    let mut seen = Vec::new();
    let changed = tokio::time::timeout(WAIT, async {
        loop {
            match events.next().await.expect("the stream ended").unwrap() {
                Event::FileChanged(changed) if changed.branch == "master" => break changed,
                other => seen.push(other),
            }
        }
    })
    .await
    .expect("no FileChanged of master within 5 s");
    assert!(
        seen.iter()
            .all(|event| matches!(event, Event::FileChanged(created) if created.branch.is_empty())),
        "{seen:?}"
    );
    assert_eq!(changed.team, org);
    assert_eq!(changed.project, team_project);
    assert_eq!(changed.file, pushed[0].id);
    assert_eq!(changed.branch, "master");

    // The server shuts down: the stream ends, and the caller sees its end.
    let stopping = tokio::spawn(server.stop());
    let end = tokio::time::timeout(WAIT, events.next())
        .await
        .expect("the stream did not end with the server");
    assert!(end.is_none(), "{end:?}");
    stopping.await.unwrap();
}

/// A one-connection server that answers `head` and then `body`, then keeps the connection
/// open (or closes it when `close`). Its base URL.
async fn hand_made(head: &'static str, body: Vec<u8>, close: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = vec![0; 4096];
        let _ = socket.read(&mut request).await;
        socket.write_all(head.as_bytes()).await.unwrap();
        socket.write_all(&body).await.unwrap();
        if close {
            return;
        }
        tokio::time::sleep(Duration::from_secs(30)).await;
    });
    base
}

const SSE_HEAD: &str =
    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";

fn file_changed(file: &str) -> String {
    json!({"type": "FileChanged", "topic": "org_1", "team": "org_1", "project": "proj_1",
           "file": file, "branch": "master"})
    .to_string()
}

#[tokio::test]
async fn a_hostile_stream_is_read_safely() {
    // Noise around two good events, then the end of the stream.
    let body = format!(
        ":keepalive\r\nretry: 1\r\n\r\nevent: other\ndata: {}\n\ndata: {{\"type\": \"Future\", \
         \"x\": 1}}\n\ndata: not json\n\ndata: {{\"type\": \"FileChanged\"}}\n\ndata: {}\n\n\
         data: {}\r\n\r\ndata: {}",
        file_changed("prj_named"),
        file_changed("prj_1"),
        file_changed("prj_2"),
        file_changed("prj_cut_off"),
    );
    let base = hand_made(SSE_HEAD, body.into_bytes(), true).await;
    let mut events = Api::new(&base)
        .unwrap()
        .events("session", "org_1")
        .await
        .unwrap();
    let mut files = Vec::new();
    while let Some(event) = tokio::time::timeout(WAIT, events.next_event())
        .await
        .unwrap()
    {
        match event.unwrap() {
            Event::FileChanged(changed) => files.push(changed.file),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(files, ["prj_1", "prj_2"]);
    assert_eq!(events.skipped(), 3);
    assert!(events.next_event().await.is_none(), "the end stays the end");

    // A line over 64 KiB ends the stream as a protocol error, whatever follows.
    let mut body = format!("data: {}\n\n", file_changed("prj_1")).into_bytes();
    body.extend(std::iter::repeat_n(b'x', 70_000));
    body.extend_from_slice(b"\n\n");
    let base = hand_made(SSE_HEAD, body, false).await;
    let mut events = Api::new(&base)
        .unwrap()
        .events("session", "org_1")
        .await
        .unwrap();
    assert!(matches!(
        events.next_event().await,
        Some(Ok(Event::FileChanged(_)))
    ));
    let error = events.next_event().await.unwrap().unwrap_err();
    assert!(
        matches!(&error, ClientError::Protocol(text) if text.contains("65536")),
        "{error}"
    );
    assert!(events.next_event().await.is_none());

    // Not an event stream: refused at once.
    let base = hand_made(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n",
        b"{}".to_vec(),
        true,
    )
    .await;
    let refused = Api::new(&base)
        .unwrap()
        .events("session", "org_1")
        .await
        .err()
        .unwrap();
    assert!(matches!(refused, ClientError::Protocol(_)), "{refused}");

    // Silent: given up after the idle time.
    let base = hand_made(SSE_HEAD, b":hello\n".to_vec(), false).await;
    let mut events = Api::new(&base)
        .unwrap()
        .events("session", "org_1")
        .await
        .unwrap()
        .idle_timeout(Duration::from_millis(300));
    let silent = events.next_event().await.unwrap().unwrap_err();
    assert!(
        matches!(silent, ClientError::Unavailable(Unavailable::Silent(_))),
        "{silent}"
    );
}
