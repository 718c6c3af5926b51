//! The account: sign-up with keys made on this machine, the SRP log-in (insomnia-wire.md §2)
//! that yields the session and unlocks the account key, whoami and log-out.
//!
//! Nothing secret leaves the machine: the server gets salts, the SRP verifier, the public key
//! and the private and account keys encrypted under keys derived from the passphrase.

use hypnos_crypto::{
    aes::{AesKey, decrypt_string, encrypt_string},
    encoding::{from_hex, to_hex},
    jwk::SymmetricJwk,
    kdf::{derive_key, sanitize_email},
    random::random_hex_32,
    rsa::RsaPrivateKey,
    srp::{ClientHandshake, compute_verifier},
    wire::auth::{
        LoginARequest, LoginAResponse, LoginM1Request, LoginM1Response, LoginSRequest,
        LoginSResponse, ResetRequest, SignupRequest, SignupResponse, WhoamiResponse,
    },
};
use zeroize::Zeroizing;

use crate::api::{Api, ClientError};

/// Who signs up.
pub struct NewAccount<'a> {
    /// The e-mail (sanitized here: trimmed, lower-cased).
    pub email: &'a str,
    /// Given name.
    pub first_name: &'a str,
    /// Family name.
    pub last_name: &'a str,
    /// The passphrase; it never leaves this machine.
    pub passphrase: &'a str,
}

/// A logged-in session with the account key it unlocked.
pub struct Session {
    /// The session id (hex K), sent as `X-Session-Id`.
    pub id: Zeroizing<String>,
    /// The account as whoami describes it.
    pub account: WhoamiResponse,
    /// The account's symmetric key (decrypted with the passphrase), which unlocks its private
    /// key and the local cache.
    pub account_key: SymmetricJwk,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("account_id", &self.account.account_id)
            .finish_non_exhaustive()
    }
}

/// A fresh set of credentials for `email` (sanitized) and a passphrase: salts, the SRP
/// verifier, a new RSA key pair and account key, the latter two encrypted as the app encrypts
/// them. What sign-up and a reset upload.
struct Credentials {
    salt_key: String,
    salt_auth: String,
    salt_enc: String,
    verifier: String,
    public_key: String,
    enc_private_key: String,
    enc_symmetric_key: String,
}

fn new_credentials(email: &str, passphrase: &str) -> Result<Credentials, ClientError> {
    let (salt_key, salt_auth, salt_enc) = (random_hex_32()?, random_hex_32()?, random_hex_32()?);
    let auth_secret = Zeroizing::new(derive_key(passphrase, email, &salt_key));
    let verifier = compute_verifier(
        &from_hex(&salt_auth, "saltAuth")?,
        email.as_bytes(),
        &Zeroizing::new(from_hex(&auth_secret, "authSecret")?),
    );
    let private = RsaPrivateKey::generate()?;
    let account_key = AesKey::generate()?.to_jwk();
    let wrap = AesKey::from_hex(&derive_key(passphrase, email, &salt_enc))?;
    Ok(Credentials {
        salt_key,
        salt_auth,
        salt_enc,
        verifier: to_hex(&verifier),
        public_key: private.public_jwk().to_json(),
        enc_private_key: encrypt_string(&account_key.key(), &private.jwk().to_json())?.to_json(),
        enc_symmetric_key: encrypt_string(&wrap, &account_key.to_json())?.to_json(),
    })
}

/// Makes the account's keys and signs up.
pub async fn sign_up(api: &Api, new: &NewAccount<'_>) -> Result<SignupResponse, ClientError> {
    sign_up_with_invite(api, new, None).await
}

/// [`sign_up`] with the token of an operator's sign-up link (`hypnos admin signup-link`), which
/// a server whose sign-up is invite-only or closed asks for.
pub async fn sign_up_with_invite(
    api: &Api,
    new: &NewAccount<'_>,
    invite_token: Option<&str>,
) -> Result<SignupResponse, ClientError> {
    let email = sanitize_email(new.email);
    let credentials = new_credentials(&email, new.passphrase)?;
    let request = SignupRequest {
        email,
        first_name: new.first_name.to_owned(),
        last_name: new.last_name.to_owned(),
        salt_key: credentials.salt_key,
        salt_auth: credentials.salt_auth,
        salt_enc: credentials.salt_enc,
        verifier: credentials.verifier,
        public_key: credentials.public_key,
        enc_private_key: credentials.enc_private_key,
        enc_symmetric_key: credentials.enc_symmetric_key,
        invite_token: invite_token.map(|token| token.trim().to_owned()),
    };
    api.post("/auth/signup", None, &request).await
}

/// Resets a lost passphrase with an operator's token: new keys and passphrase; every session
/// ends, and what was shared with the old keys must be shared again by teammates.
pub async fn reset(
    api: &Api,
    email: &str,
    token: &str,
    new_passphrase: &str,
) -> Result<(), ClientError> {
    let email = sanitize_email(email);
    let credentials = new_credentials(&email, new_passphrase)?;
    let request = ResetRequest {
        email,
        token: token.trim().to_owned(),
        salt_key: credentials.salt_key,
        salt_auth: credentials.salt_auth,
        salt_enc: credentials.salt_enc,
        verifier: credentials.verifier,
        public_key: credentials.public_key,
        enc_private_key: credentials.enc_private_key,
        enc_symmetric_key: credentials.enc_symmetric_key,
    };
    api.post_empty("/auth/reset", None, &request).await
}

/// Logs in with SRP, checks the server's proof, loads the account and unlocks its key.
pub async fn log_in(api: &Api, email: &str, passphrase: &str) -> Result<Session, ClientError> {
    let email = sanitize_email(email);
    let salts: LoginSResponse = api
        .post(
            "/auth/login-s",
            None,
            &LoginSRequest {
                email: email.clone(),
            },
        )
        .await?;
    let auth_secret = Zeroizing::new(derive_key(passphrase, &email, &salts.salt_key));
    let handshake = ClientHandshake::start(
        &from_hex(&salts.salt_auth, "saltAuth")?,
        email.as_bytes(),
        &Zeroizing::new(from_hex(&auth_secret, "authSecret")?),
    )?;
    let started: LoginAResponse = api
        .post(
            "/auth/login-a",
            None,
            &LoginARequest {
                srp_a: to_hex(handshake.a_pub()),
                email: email.clone(),
            },
        )
        .await?;
    let proof = handshake.process(&from_hex(&started.srp_b, "srpB")?)?;
    let done: LoginM1Response = api
        .post(
            "/auth/login-m1",
            None,
            &LoginM1Request {
                srp_m1: to_hex(proof.m1()),
                session_starter_id: started.session_starter_id,
                use_cookies: false,
            },
        )
        .await?;
    let key = proof
        .verify_server(&from_hex(&done.srp_m2, "srpM2")?)
        .map_err(|_| {
            ClientError::Protocol("the server could not prove it knows the verifier".into())
        })?;
    let id = Zeroizing::new(to_hex(key.as_ref()));
    let account = whoami(api, &id).await?;
    let wrap = AesKey::from_hex(&derive_key(passphrase, &email, &account.salt_enc))?;
    let account_key = SymmetricJwk::from_json(&decrypt_string(
        &wrap,
        &hypnos_crypto::aes::AesMessage::from_json(&account.enc_symmetric_key)?,
    )?)?;
    Ok(Session {
        id,
        account,
        account_key,
    })
}

/// The account of a session.
pub async fn whoami(api: &Api, session_id: &str) -> Result<WhoamiResponse, ClientError> {
    api.get("/auth/whoami", Some(session_id)).await
}

/// Ends the session on the server.
pub async fn log_out(api: &Api, session_id: &str) -> Result<(), ClientError> {
    api.post_empty("/auth/logout", Some(session_id), &serde_json::json!({}))
        .await
}

/// The SRP verifier a passphrase gives with the account's current salts (from login-s): the
/// proof of the passphrase that passphrase change and deletion ask for.
async fn current_verifier(
    api: &Api,
    email: &str,
    passphrase: &str,
) -> Result<(String, LoginSResponse), ClientError> {
    let salts: LoginSResponse = api
        .post(
            "/auth/login-s",
            None,
            &LoginSRequest {
                email: email.to_owned(),
            },
        )
        .await?;
    let auth_secret = Zeroizing::new(derive_key(passphrase, email, &salts.salt_key));
    let verifier = compute_verifier(
        &from_hex(&salts.salt_auth, "saltAuth")?,
        email.as_bytes(),
        &Zeroizing::new(from_hex(&auth_secret, "authSecret")?),
    );
    Ok((to_hex(&verifier), salts))
}

/// Changes the passphrase of the logged-in account: the salts stay, the verifier and the
/// wrapping of the account key change; the server ends the account's other sessions.
pub async fn change_passphrase(
    api: &Api,
    session: &Session,
    current: &str,
    new: &str,
) -> Result<(), ClientError> {
    let email = session.account.email.clone();
    let (verifier, salts) = current_verifier(api, &email, current).await?;
    let new_secret = Zeroizing::new(derive_key(new, &email, &salts.salt_key));
    let new_verifier = compute_verifier(
        &from_hex(&salts.salt_auth, "saltAuth")?,
        email.as_bytes(),
        &Zeroizing::new(from_hex(&new_secret, "authSecret")?),
    );
    let wrap = AesKey::from_hex(&derive_key(new, &email, &session.account.salt_enc))?;
    let request = hypnos_crypto::wire::auth::ChangePasswordRequest {
        verifier,
        enc_symmetric_key: session.account.enc_symmetric_key.clone(),
        new_email: email,
        new_verifier: to_hex(&new_verifier),
        new_enc_symmetric_key: encrypt_string(&wrap, &session.account_key.to_json())?.to_json(),
        new_first_name: None,
        new_last_name: None,
    };
    api.post_empty("/auth/change-password", Some(&session.id), &request)
        .await
}

/// Deletes the logged-in account (the passphrase proves it is meant).
pub async fn delete_account(
    api: &Api,
    session: &Session,
    passphrase: &str,
) -> Result<(), ClientError> {
    let (verifier, _) = current_verifier(api, &session.account.email, passphrase).await?;
    api.delete_with(
        "/auth/delete-account",
        Some(&session.id),
        &hypnos_crypto::wire::auth::DeleteAccountRequest { verifier },
    )
    .await
}
