//! On PostgreSQL: several server processes share one database, and an event raised by one
//! reaches the streams every other holds (LISTEN/NOTIFY); the database restarting loses the
//! delivery for a moment, never the streams, and never for good.

use hypnos_crypto::sync::EMPTY_HASH;
use tokio::time::Instant;

use super::*;
use cluster::Cluster;
use common::Backend;

const PROJECT: &str = "prj_fedcba9876543210fedcba9876543210";

/// How long delivery may take to come back after the database does.
const RECOVERY: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database_deliver_each_others_events() {
    common::bounded(Duration::from_secs(90), async {
        let db = TestDb::new(Backend::Postgres).await;
        let team = Team::new(&db).await;
        let other = TestApp::start(&db).await;
        let bob_there = Team::another_session(&other, &team.bob, "bob").await;
        let alice_there = Team::another_session(&other, &team.alice, "alice").await;
        let mut bobs_there = EventStream::open(&bob_there, &team.org).await;
        let mut alices_here = EventStream::open(&team.alice, &team.org).await;

        // A push through the first server reaches the stream the second holds.
        let key = team.create_file(PROJECT).await;
        assert_eq!(
            expect(&mut bobs_there, "FileChanged").await["file"],
            PROJECT
        );
        let docs = [request("req_1", REQUEST_NAME)];
        team.alice
            .push(PROJECT, &key, "master", EMPTY_HASH, &docs)
            .await;
        let pushed = expect(&mut bobs_there, "FileChanged").await;
        assert_eq!(pushed["branch"], "master");
        assert_eq!(pushed["project"], team.team_project);

        // And the other way round.
        assert_eq!(
            expect(&mut alices_here, "FileChanged").await["file"],
            PROJECT
        );
        assert_eq!(
            expect(&mut alices_here, "FileChanged").await["branch"],
            "master"
        );
        let made = alice_there.team_project(&team.org, "From there").await;
        assert_eq!(
            expect(&mut alices_here, "TeamProjectChanged").await,
            team_project_event(&team.org, &made)
        );

        // Bob removed through the first server: his stream on the second ends.
        let (status, body) = team
            .alice
            .delete(&format!(
                "/v1/organizations/{}/members/{}",
                team.org, team.bob.id
            ))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        assert!(
            bobs_there.ended(WITHIN).await,
            "the removed member's stream ends"
        );
        other.server.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_restart_loses_delivery_only_for_a_moment() {
    common::bounded(Duration::from_secs(120), async {
        let cluster = Cluster::start();
        let mut config = hypnos_server::ServerConfig::parse_defaults();
        config.database_url = Some(cluster.app_database("hypnos", None).await);
        config.login_rate_per_account = 1_000;
        config.login_rate_per_ip = 10_000;
        let team = Team::on(TestApp::start_with(config).await).await;
        let mut bobs = EventStream::open(&team.bob, &team.org).await;
        let key = team.create_file(PROJECT).await;
        expect(&mut bobs, "FileChanged").await;
        let docs = [request("req_1", REQUEST_NAME)];
        let mut tip = team
            .alice
            .push(PROJECT, &key, "master", EMPTY_HASH, &docs)
            .await;
        expect(&mut bobs, "FileChanged").await;

        // A restart with an outage of a moment: the listener's own reconnection fails, and it
        // tries again until the database is back.
        cluster.stop();
        tokio::time::sleep(Duration::from_secs(1)).await;
        cluster.start_again();
        wait_ready(&team.app).await;
        // The stream stayed open; the server listens again soon after the database is back.
        // Events raised before it does are lost (a hint to refresh, not data): push until one
        // arrives.
        let deadline = Instant::now() + RECOVERY;
        let mut pushes = 0;
        loop {
            tip = team.alice.push(PROJECT, &key, "master", &tip, &docs).await;
            pushes += 1;
            if let Some(event) = bobs.next(Duration::from_secs(1)).await {
                assert_eq!(event["type"], "FileChanged", "{event}");
                assert_eq!(event["branch"], "master", "{event}");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no event reached the stream within {RECOVERY:?} of the restart ({pushes} pushes)"
            );
        }
        // Delivery goes on as before.
        team.alice.push(PROJECT, &key, "master", &tip, &docs).await;
        assert_eq!(expect(&mut bobs, "FileChanged").await["branch"], "master");
        team.app.server.stop().await;
        drop(cluster);
    })
    .await;
}

/// Waits until the server can write to its database again (`/readyz`).
async fn wait_ready(app: &TestApp) {
    let deadline = Instant::now() + RECOVERY;
    loop {
        let response = app.http.get(app.url("/readyz")).send().await.unwrap();
        if response.status() == StatusCode::OK {
            return;
        }
        assert!(Instant::now() < deadline, "the database came back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
