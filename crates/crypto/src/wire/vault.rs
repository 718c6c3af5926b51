//! The vault key (insomnia-wire.md §5.1): the SRP salt and verifier of a key the user keeps, and
//! the SRP exchange that proves a device holds that key. The key itself never reaches the server.

use serde::{Deserialize, Serialize};

/// `GET /v1/user/vault`: `{"salt": "<hex>"}` when the account has a vault key, `{}` when not.
/// Also the answer to a create or a reset (the salt now stored).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VaultResponse {
    /// The vault's SRP salt as the client sent it (the app sends 64 hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
}

/// `POST /v1/user/vault` (create) and `POST /v1/user/vault/reset` (replace).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VaultRequest {
    /// The SRP salt `s`, hex (the app's `getRandomHex()`: 64 hex).
    #[cfg_attr(feature = "openapi", schema(pattern = "^([0-9a-fA-F]{2}){8,64}$"))]
    pub salt: String,
    /// `PAD(g^x)` with `I` = the account id and `P` = the vault key's JWK JSON bytes, hex.
    pub verifier: String,
}

/// `POST /v1/user/vault-verify-a`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct VaultVerifyARequest {
    /// `A`, 512 hex.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{512}$"))]
    pub srp_a: String,
}

/// What `POST /v1/user/vault-verify-a` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct VaultVerifyAResponse {
    /// Names this verification for the next step.
    pub session_starter_id: String,
    /// `B`, 512 hex.
    pub srp_b: String,
}

/// `POST /v1/user/vault-verify-m1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct VaultVerifyM1Request {
    /// `M1`, 64 hex.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{64}$"))]
    pub srp_m1: String,
    /// From the vault-verify-a answer.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9_-]{1,64}$"))]
    pub session_starter_id: String,
}

/// What `POST /v1/user/vault-verify-m1` answers. K is computed on both sides but unused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct VaultVerifyM1Response {
    /// `M2`, 64 hex.
    pub srp_m2: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_are_the_apps() {
        assert_eq!(
            serde_json::to_string(&VaultResponse::default()).expect("serializes"),
            "{}"
        );
        assert_eq!(
            serde_json::to_string(&VaultResponse {
                salt: Some("ab".into())
            })
            .expect("serializes"),
            r#"{"salt":"ab"}"#
        );
        let a: VaultVerifyARequest = serde_json::from_str(r#"{"srpA":"01"}"#).expect("parses");
        assert_eq!(a.srp_a, "01");
        let m1: VaultVerifyM1Request =
            serde_json::from_str(r#"{"srpM1":"02","sessionStarterId":"x"}"#).expect("parses");
        assert_eq!(
            (m1.srp_m1.as_str(), m1.session_starter_id.as_str()),
            ("02", "x")
        );
        assert_eq!(
            serde_json::to_string(&VaultVerifyAResponse {
                session_starter_id: "s".into(),
                srp_b: "b".into()
            })
            .expect("serializes"),
            r#"{"sessionStarterId":"s","srpB":"b"}"#
        );
        assert_eq!(
            serde_json::to_string(&VaultVerifyM1Response { srp_m2: "m".into() })
                .expect("serializes"),
            r#"{"srpM2":"m"}"#
        );
    }
}
