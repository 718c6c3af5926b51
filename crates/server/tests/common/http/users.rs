//! A user of the tests: what a person knows and what the app derives from it, enough to sign up,
//! log in (the app's SRP exchange) and check keys. Its RSA key comes from the process's pool
//! ([`super::keys`]).

use hypnos_crypto::{
    aes::{AesKey, encrypt_string},
    encoding::{from_hex, to_hex},
    jwk::SymmetricJwk,
    kdf::derive_key,
    random::random_hex_32,
    rsa::RsaPrivateKey,
    srp::{ClientHandshake, ClientProof, compute_verifier},
    wire::auth::{LoginAResponse, LoginM1Response, LoginSResponse, SignupResponse},
};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use super::{TestServer, post};

/// What a user knows and what the client derives: enough to sign up, log in and check keys.
pub struct User {
    pub email: String,
    pub passphrase: String,
    pub salt_key: String,
    pub salt_auth: String,
    pub salt_enc: String,
    pub symmetric: SymmetricJwk,
    pub private: RsaPrivateKey,
}

impl User {
    /// A user with a key pair and salts no other user of this process has.
    pub fn new(email: &str, passphrase: &str) -> Self {
        Self {
            salt_key: random_hex_32().unwrap(),
            salt_auth: random_hex_32().unwrap(),
            salt_enc: random_hex_32().unwrap(),
            ..Self::with_key(email, passphrase, super::keys::next_private_key())
        }
    }

    /// A user with the key pair `private` and salts of its e-mail's own: a named actor is the
    /// same person in every test of the process, with the same key pair ([`super::keys`]) and
    /// the same salts, so what the client derives from its passphrase (100,000 rounds of
    /// PBKDF2 each, most of a test's time) is derived once per process ([`derived`]).
    pub fn with_key(email: &str, passphrase: &str, private: RsaPrivateKey) -> Self {
        Self {
            email: email.into(),
            passphrase: passphrase.into(),
            salt_key: salt_of(email, "key"),
            salt_auth: salt_of(email, "auth"),
            salt_enc: salt_of(email, "enc"),
            symmetric: AesKey::generate().unwrap().to_jwk(),
            private,
        }
    }

    pub fn verifier(&self) -> String {
        verifier_for(
            &self.email,
            &self.passphrase,
            &self.salt_key,
            &self.salt_auth,
        )
    }

    pub fn enc_symmetric_key(&self) -> String {
        let wrap =
            AesKey::from_hex(&derived(&self.passphrase, &self.email, &self.salt_enc)).unwrap();
        encrypt_string(&wrap, &self.symmetric.to_json())
            .unwrap()
            .to_json()
    }

    pub fn keys_body(&self) -> Value {
        json!({
            "saltKey": self.salt_key,
            "saltAuth": self.salt_auth,
            "saltEnc": self.salt_enc,
            "verifier": self.verifier(),
            "publicKey": self.private.public_jwk().to_json(),
            "encPrivateKey": encrypt_string(&self.symmetric.key(), &self.private.jwk().to_json()).unwrap().to_json(),
            "encSymmetricKey": self.enc_symmetric_key(),
        })
    }

    pub fn signup_body(&self) -> Value {
        let mut body = self.keys_body();
        body["email"] = json!(self.email);
        body["firstName"] = json!("Ada");
        body["lastName"] = json!("Lovelace");
        body
    }
}

/// A salt that is always the same for `email` and `kind` (64 hex digits, as the app's).
fn salt_of(email: &str, kind: &str) -> String {
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        format!("hypnos test salt\0{kind}\0{email}").as_bytes(),
    );
    to_hex(digest.as_ref())
}

/// [`derive_key`], remembered for the rest of the process: the same inputs give the same key,
/// and tests derive the same few (a named actor's, at sign-up and at every log-in) many times.
pub fn derived(passphrase: &str, email: &str, salt: &str) -> String {
    type Memo = std::collections::HashMap<(String, String, String), String>;
    static MEMO: std::sync::LazyLock<std::sync::Mutex<Memo>> =
        std::sync::LazyLock::new(Default::default);
    let inputs = (passphrase.to_owned(), email.to_owned(), salt.to_owned());
    if let Some(key) = MEMO.lock().unwrap().get(&inputs) {
        return key.clone();
    }
    // Derived outside the lock: parallel tests derive different keys at once.
    let key = String::clone(&derive_key(passphrase, email, salt));
    MEMO.lock().unwrap().insert(inputs, key.clone());
    key
}

pub fn verifier_for(email: &str, passphrase: &str, salt_key: &str, salt_auth: &str) -> String {
    let auth_secret = derived(passphrase, email, salt_key);
    to_hex(&compute_verifier(
        &from_hex(salt_auth, "salt").unwrap(),
        email.as_bytes(),
        &from_hex(&auth_secret, "secret").unwrap(),
    ))
}

/// The app's log-in up to M1 (insomnia-wire.md §2.4): login-s, login-a and the client's proof,
/// with the `sessionStarterId` to finish it with; or the failing status.
pub async fn begin_login(
    server: &TestServer,
    http: &Client,
    email: &str,
    passphrase: &str,
) -> Result<(ClientProof, String), (StatusCode, Value)> {
    let (status, salts) = post(http, server.url("/auth/login-s"), json!({"email": email})).await;
    assert_eq!(status, StatusCode::OK, "{salts}");
    let salts: LoginSResponse = serde_json::from_value(salts).unwrap();
    let auth_secret = derived(passphrase, email, &salts.salt_key);
    let client = ClientHandshake::start(
        &from_hex(&salts.salt_auth, "salt").unwrap(),
        email.as_bytes(),
        &from_hex(&auth_secret, "secret").unwrap(),
    )
    .unwrap();
    let (status, answer) = post(
        http,
        server.url("/auth/login-a"),
        json!({"email": email, "srpA": to_hex(client.a_pub())}),
    )
    .await;
    if status != StatusCode::OK {
        return Err((status, answer));
    }
    let answer: LoginAResponse = serde_json::from_value(answer).unwrap();
    let proof = client
        .process(&from_hex(&answer.srp_b, "B").unwrap())
        .unwrap();
    Ok((proof, answer.session_starter_id))
}

/// The app's log-in (insomnia-wire.md §2.4): returns the session id, or the failing status.
pub async fn login(
    server: &TestServer,
    http: &Client,
    email: &str,
    passphrase: &str,
) -> Result<String, (StatusCode, Value)> {
    let (proof, starter) = begin_login(server, http, email, passphrase).await?;
    let (status, done) = post(
        http,
        server.url("/auth/login-m1"),
        json!({"srpM1": to_hex(proof.m1()), "sessionStarterId": starter}),
    )
    .await;
    if status != StatusCode::OK {
        return Err((status, done));
    }
    let done: LoginM1Response = serde_json::from_value(done).unwrap();
    let key = proof
        .verify_server(&from_hex(&done.srp_m2, "M2").unwrap())
        .expect("the server proves it knows the verifier");
    Ok(to_hex(key.as_ref()))
}

/// Signs `user` up and logs in: the sign-up's answer and the session id.
pub async fn sign_up_and_log_in(
    server: &TestServer,
    http: &Client,
    user: &User,
) -> (SignupResponse, String) {
    let (status, body) = post(http, server.url("/auth/signup"), user.signup_body()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let signed_up: SignupResponse = serde_json::from_value(body).unwrap();
    let session = login(server, http, &user.email, &user.passphrase)
        .await
        .unwrap();
    (signed_up, session)
}
