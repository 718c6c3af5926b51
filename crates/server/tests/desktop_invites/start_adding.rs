//! The first steps of the newest app's invite form: check-seats and start-adding, with
//! start-adding's refusals.

use super::*;

common::on_both_backends!(
    check_seats_allows_the_apps_probe,
    start_adding_answers_the_invitees_public_key,
    start_adding_refusals_say_what_is_wrong_and_write_nothing,
);

/// Seats: the app probes with a random address.
async fn check_seats_allows_the_apps_probe(db: TestDb) {
    let acme = Acme::new(&db).await;
    let (status, seats) = acme
        .alice
        .post(
            &acme.org("/check-seats"),
            json!({"emails": ["insomnia-mock-check-seats-1b0e@example.net"]}),
        )
        .await;
    assert_eq!(
        (status, seats),
        (StatusCode::OK, json!({"isAllowed": true}))
    );
}

/// start-adding: the invitee's account id and public key, keyed by account id. The app sends
/// addresses as typed (trimmed, not lower-cased).
async fn start_adding_answers_the_invitees_public_key(db: TestDb) {
    let acme = Acme::new(&db).await;
    let bob = acme.app.actor("bob").await;
    let (status, instructions) = acme
        .alice
        .post(
            &acme.desk("/start-adding"),
            json!({"teamIds": [], "emails": ["Bob@Example.com"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{instructions}");
    let entries = instructions.as_object().unwrap();
    assert_eq!(entries.len(), 1, "{instructions}");
    let bob_entry = &instructions[bob.id.as_str()];
    assert_eq!(bob_entry["accountId"], bob.id.as_str());
    assert_eq!(bob_entry["autoLinked"], false);
    RsaPublicKey::from_jwk_json(bob_entry["publicKey"].as_str().unwrap()).unwrap();
}

/// start-adding's refusals: unknown addresses named with where to sign up, members, groups,
/// bad addresses, too many at once, rights; none writes anything.
async fn start_adding_refusals_say_what_is_wrong_and_write_nothing(db: TestDb) {
    let acme = Acme::new(&db).await;
    let alice = &acme.alice;
    let [carol, _frank, zed] = acme.app.actors(["carol", "frank", "zed"]).await;
    acme.join(&carol, Role::Member).await;
    let before = invitation_rows(&db).await;
    let (status, unknown) = alice
        .post(
            &acme.desk("/start-adding"),
            json!({"teamIds": [], "emails": ["frank@example.com", "nobody@example.org"]}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{unknown}");
    assert_eq!(unknown["error"], "NO_ACCOUNT");
    let message = unknown["message"].as_str().unwrap();
    assert!(message.contains("nobody@example.org"), "{message}");
    assert!(!message.contains("frank@example.com"), "{message}");
    assert!(message.contains("sign up"), "{message}");
    let too_many: Vec<String> = (0..=acme.app.server.config.invite_lookup_rate)
        .map(|n| format!("person{n}@example.com"))
        .collect();
    for (who, body, expected, code) in [
        (
            alice,
            json!({"teamIds": [], "emails": ["carol@example.com", "frank@example.com"]}),
            StatusCode::CONFLICT,
            "ALREADY_MEMBER",
        ),
        (
            alice,
            json!({"teamIds": ["team_1"], "emails": ["frank@example.com"]}),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        (
            alice,
            json!({"teamIds": [], "emails": []}),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        (
            alice,
            json!({"teamIds": [], "emails": ["not an e-mail"]}),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        (
            alice,
            json!({"teamIds": [], "emails": too_many}),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        (
            &carol,
            json!({"teamIds": [], "emails": ["frank@example.com"]}),
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
        ),
        (
            &zed,
            json!({"teamIds": [], "emails": ["frank@example.com"]}),
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        ),
    ] {
        let (status, answer) = who.post(&acme.desk("/start-adding"), body.clone()).await;
        assert_eq!(status, expected, "{body}: {answer}");
        assert_eq!(answer["error"], code, "{body}: {answer}");
    }
    let (_, members_message) = alice
        .post(
            &acme.desk("/start-adding"),
            json!({"teamIds": [], "emails": ["carol@example.com"]}),
        )
        .await;
    assert!(
        members_message["message"]
            .as_str()
            .unwrap()
            .contains("carol@example.com")
    );
    assert_eq!(invitation_rows(&db).await, before);
}
