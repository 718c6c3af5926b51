//! The accounts a run logs in to: made and signed up before the measured window.
//!
//! Each account's SRP secret (`x` from `hex-decode(deriveKey(passphrase, email, saltKey))` and
//! `saltAuth`, and `k·g^x`: [`ClientSecret`]) is derived once here, as a client that remembers
//! its secret would: PBKDF2 and the fixed-base exponentiation are the client's cost of knowing
//! the passphrase, not of a log-in, and must not be in the measured loop. All accounts share one RSA key pair (the
//! server only checks that the public key is a valid JWK); their account keys are their own.

use hypnos_client::Api;
use hypnos_crypto::{
    aes::{AesKey, encrypt_string},
    encoding::{from_hex, to_hex},
    kdf::{derive_key, sanitize_email},
    random::{bytes, random_hex_32},
    rsa::RsaPrivateKey,
    srp::{ClientSecret, compute_verifier},
    wire::auth::{SignupRequest, SignupResponse},
};
use zeroize::Zeroizing;

use crate::LoadError;

/// One signed-up account with the secrets a log-in needs.
pub struct LoadAccount {
    email: String,
    salt_key: String,
    salt_auth_hex: String,
    secret: ClientSecret,
}

impl std::fmt::Debug for LoadAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadAccount")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

impl LoadAccount {
    /// The sanitized e-mail (the SRP identity).
    pub fn email(&self) -> &str {
        &self.email
    }

    /// Whether `login-s` answered this account's own salts.
    pub fn salts_match(&self, salt_key: &str, salt_auth: &str) -> bool {
        self.salt_key == salt_key && self.salt_auth_hex == salt_auth
    }

    /// The account's SRP secret, for [`hypnos_crypto::srp::ClientHandshake::begin`].
    pub fn secret(&self) -> &ClientSecret {
        &self.secret
    }
}

/// What every account of a run shares: the RSA key pair and the run's random tag.
pub struct SharedKeys {
    public_key: String,
    private_jwk: Zeroizing<String>,
    run_tag: String,
}

impl SharedKeys {
    /// Generates the key pair and a fresh tag for this run's e-mails.
    pub fn generate() -> Result<Self, LoadError> {
        let private = RsaPrivateKey::generate()?;
        Ok(Self {
            public_key: private.public_jwk().to_json(),
            private_jwk: private.jwk().to_json(),
            run_tag: to_hex(&bytes::<6>()?),
        })
    }

    /// The e-mail of account `index`: `<prefix>-<index>-<tag>@load.test`, sanitized.
    pub fn email(&self, prefix: &str, index: usize) -> String {
        sanitize_email(&format!("{prefix}-{index}-{}@load.test", self.run_tag))
    }
}

/// Makes account `index`'s salts, secrets and keys (two PBKDF2 derivations: call it off the
/// async runtime) and the sign-up body.
pub fn prepare(
    shared: &SharedKeys,
    prefix: &str,
    index: usize,
) -> Result<(LoadAccount, SignupRequest), LoadError> {
    let email = shared.email(prefix, index);
    let passphrase = random_hex_32()?;
    let salt_key = random_hex_32()?;
    let salt_auth_hex = random_hex_32()?;
    let salt_enc = random_hex_32()?;
    let salt_auth = from_hex(&salt_auth_hex, "saltAuth")?;
    let password = Zeroizing::new(from_hex(
        &derive_key(&passphrase, &email, &salt_key),
        "authSecret",
    )?);
    let verifier = to_hex(&compute_verifier(&salt_auth, email.as_bytes(), &password));
    let wrap = AesKey::from_hex(&derive_key(&passphrase, &email, &salt_enc))?;
    let symmetric = AesKey::generate()?.to_jwk();
    let request = SignupRequest {
        email: email.clone(),
        first_name: "Load".into(),
        last_name: format!("Test {index}"),
        salt_key: salt_key.clone(),
        salt_auth: salt_auth_hex.clone(),
        salt_enc,
        verifier,
        public_key: shared.public_key.clone(),
        enc_private_key: encrypt_string(&symmetric.key(), &shared.private_jwk)?.to_json(),
        enc_symmetric_key: encrypt_string(&wrap, &symmetric.to_json())?.to_json(),
        invite_token: None,
    };
    let account = LoadAccount {
        secret: ClientSecret::new(&salt_auth, email.as_bytes(), &password),
        email,
        salt_key,
        salt_auth_hex,
    };
    Ok((account, request))
}

/// Posts the sign-up through `hypnos-client`'s HTTP layer; a refusal is an error.
pub async fn sign_up(api: &Api, request: &SignupRequest) -> Result<SignupResponse, LoadError> {
    api.post("/auth/signup", None, request)
        .await
        .map_err(|err| LoadError::Setup(format!("sign-up of {}: {err}", request.email)))
}
