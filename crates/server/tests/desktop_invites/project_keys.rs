//! my-project-keys and reconcile-keys: what the inviter holds, and who lacks it.

use super::*;

common::on_both_backends!(my_project_keys_shows_who_lacks_the_key_and_reconcile_gives_it);

/// my-project-keys: the owner's key, and carol (a member from the 10.x flow, without keys) who
/// lacks it; reconcile-keys for carol, as the app does before finishing.
async fn my_project_keys_shows_who_lacks_the_key_and_reconcile_gives_it(db: TestDb) {
    let acme = Acme::new(&db).await;
    let carol = acme.app.actor("carol").await;
    acme.join(&carol, Role::Member).await;
    let (status, mine) = acme.alice.get(&acme.org("/my-project-keys")).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["projectKeys"].as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine["projectKeys"][0]["projectId"], "prj_1");
    let opened = acme
        .alice
        .user
        .private
        .decrypt_string(mine["projectKeys"][0]["encKey"].as_str().unwrap())
        .unwrap();
    assert_eq!(*opened, acme.project_key);
    assert_eq!(mine["members"].as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine["members"][0]["accountId"], carol.id.as_str());

    let carol_public =
        RsaPublicKey::from_jwk_json(mine["members"][0]["publicKey"].as_str().unwrap()).unwrap();
    let (status, reconciled) = acme
        .alice
        .post(
            &acme.org("/reconcile-keys"),
            json!({"keys": [{
                "projectId": "prj_1",
                "accountId": carol.id,
                "encSymmetricKey": carol_public.encrypt_string(&opened).unwrap(),
            }]}),
        )
        .await;
    assert_eq!(
        (status, reconciled),
        (StatusCode::OK, json!({"created": 1, "skipped": 0}))
    );
    assert_eq!(opened_key(&acme, &carol).await, acme.project_key);
}
