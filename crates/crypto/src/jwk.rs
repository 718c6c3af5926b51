//! JSON Web Keys, written exactly as the app's WebCrypto writes them (insomnia-wire.md §1.2).
//!
//! WebCrypto (Chromium) exports members in alphabetical order, compact, with `ext: true`. Byte
//! equality matters: a project key's JWK is RSA-encrypted as text, and its compact form
//! percent-encodes to exactly the 190 bytes RSA-OAEP-256 can carry (§1.3). Parsing is strict: an
//! unknown member, a wrong `alg`/`kty`, missing `key_ops`, or a value of the wrong size is an
//! error that names the member.

use base64ct::{Base64UrlUnpadded, Encoding};
use serde::{Deserialize, Serialize, Serializer, de::Error as _, ser::SerializeStruct};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::{
    CryptoError,
    aes::{AesKey, KEY_LEN},
};

/// An A256GCM key as a JWK: `{"alg":"A256GCM","ext":true,"k":…,"key_ops":["encrypt","decrypt"],"kty":"oct"}`.
#[derive(Clone, Debug)]
pub struct SymmetricJwk {
    key: AesKey,
}

/// An RSA-OAEP-256 public key as a JWK: members `alg, e, ext, key_ops, kty, n`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RsaPublicJwk {
    /// The modulus, big-endian without leading zeros.
    pub n: Vec<u8>,
    /// The public exponent, big-endian without leading zeros (`AQAB` = 65537).
    pub e: Vec<u8>,
}

/// An RSA-OAEP-256 private key as a JWK: members `alg, d, dp, dq, e, ext, key_ops, kty, n, p, q, qi`.
/// The private members are zeroized on drop and kept out of `Debug`.
#[derive(Clone)]
pub struct RsaPrivateJwk {
    /// The public half.
    pub public: RsaPublicJwk,
    /// The private exponent.
    pub d: Zeroizing<Vec<u8>>,
    /// The first prime.
    pub p: Zeroizing<Vec<u8>>,
    /// The second prime.
    pub q: Zeroizing<Vec<u8>>,
    /// `d mod (p - 1)`.
    pub dp: Zeroizing<Vec<u8>>,
    /// `d mod (q - 1)`.
    pub dq: Zeroizing<Vec<u8>>,
    /// `q^-1 mod p`.
    pub qi: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for RsaPrivateJwk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RsaPrivateJwk")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// The `alg` of RSA keys.
pub const RSA_ALG: &str = "RSA-OAEP-256";
/// The `alg` of AES keys.
pub const AES_ALG: &str = "A256GCM";
/// The modulus size the app uses, in bytes.
pub const RSA_MODULUS_LEN: usize = 256;

impl SymmetricJwk {
    /// Wraps an AES key.
    pub fn from_key(key: &AesKey) -> Self {
        Self { key: key.clone() }
    }

    /// The AES key it holds.
    pub fn key(&self) -> AesKey {
        self.key.clone()
    }

    /// The compact JSON the app writes (122 bytes).
    pub fn to_json(&self) -> Zeroizing<String> {
        Zeroizing::new(serde_json::to_string(self).expect("a JWK always serializes"))
    }

    /// Parses a JWK strictly.
    pub fn from_json(text: &str) -> Result<Self, CryptoError> {
        Self::from_members(&Members::parse_text(text)?)
    }

    fn from_members(members: &Members) -> Result<Self, CryptoError> {
        members.only(&["alg", "ext", "k", "key_ops", "kty"])?;
        members.expect_str("kty", "oct")?;
        members.expect_str("alg", AES_ALG)?;
        members.expect_ext()?;
        members.expect_key_ops(&["encrypt", "decrypt"])?;
        let k = members.base64("k")?;
        let k: [u8; KEY_LEN] = k
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::JwkMember {
                member: "k",
                reason: "must be a 256-bit key",
            })?;
        Ok(Self {
            key: AesKey::from_bytes(k),
        })
    }
}

impl RsaPublicJwk {
    /// The compact JSON the app writes.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a JWK always serializes")
    }

    /// Parses a public JWK strictly: `alg` RSA-OAEP-256, `kty` RSA, `key_ops` with `encrypt`, a
    /// 2048-bit modulus and e = 65537.
    pub fn from_json(text: &str) -> Result<Self, CryptoError> {
        Self::from_members(&Members::parse_text(text)?)
    }

    fn from_members(members: &Members) -> Result<Self, CryptoError> {
        members.only(&["alg", "e", "ext", "key_ops", "kty", "n"])?;
        members.expect_str("kty", "RSA")?;
        members.expect_str("alg", RSA_ALG)?;
        members.expect_ext()?;
        members.expect_key_ops(&["encrypt"])?;
        Self::checked(members.base64("n")?, members.base64("e")?)
    }

    fn checked(n: Vec<u8>, e: Vec<u8>) -> Result<Self, CryptoError> {
        if n.len() != RSA_MODULUS_LEN || n[0] & 0x80 == 0 {
            return Err(CryptoError::JwkMember {
                member: "n",
                reason: "must be a 2048-bit modulus",
            });
        }
        if e != [1, 0, 1] {
            return Err(CryptoError::JwkMember {
                member: "e",
                reason: "must be 65537 (AQAB)",
            });
        }
        Ok(Self { n, e })
    }
}

impl RsaPrivateJwk {
    /// The compact JSON the app writes.
    pub fn to_json(&self) -> Zeroizing<String> {
        Zeroizing::new(serde_json::to_string(self).expect("a JWK always serializes"))
    }

    /// Parses a private JWK strictly (the public checks, `key_ops` with `decrypt`, and every CRT
    /// member present).
    pub fn from_json(text: &str) -> Result<Self, CryptoError> {
        Self::from_members(&Members::parse_text(text)?)
    }

    fn from_members(members: &Members) -> Result<Self, CryptoError> {
        members.only(&[
            "alg", "d", "dp", "dq", "e", "ext", "key_ops", "kty", "n", "p", "q", "qi",
        ])?;
        members.expect_str("kty", "RSA")?;
        members.expect_str("alg", RSA_ALG)?;
        members.expect_ext()?;
        members.expect_key_ops(&["decrypt"])?;
        let public = RsaPublicJwk::checked(members.base64("n")?, members.base64("e")?)?;
        // The CRT members are read leniently (leading zeros dropped): some JOSE libraries pad
        // them to half the modulus, and only the key's owner ever parses them.
        let secret = |name| members.base64_secret(name);
        Ok(Self {
            public,
            d: secret("d")?,
            p: secret("p")?,
            q: secret("q")?,
            dp: secret("dp")?,
            dq: secret("dq")?,
            qi: secret("qi")?,
        })
    }
}

fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

impl Serialize for SymmetricJwk {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut jwk = serializer.serialize_struct("SymmetricJwk", 5)?;
        jwk.serialize_field("alg", AES_ALG)?;
        jwk.serialize_field("ext", &true)?;
        jwk.serialize_field("k", &*Zeroizing::new(b64(self.key.as_bytes())))?;
        jwk.serialize_field("key_ops", &["encrypt", "decrypt"])?;
        jwk.serialize_field("kty", "oct")?;
        jwk.end()
    }
}

impl Serialize for RsaPublicJwk {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut jwk = serializer.serialize_struct("RsaPublicJwk", 6)?;
        jwk.serialize_field("alg", RSA_ALG)?;
        jwk.serialize_field("e", &b64(&self.e))?;
        jwk.serialize_field("ext", &true)?;
        jwk.serialize_field("key_ops", &["encrypt"])?;
        jwk.serialize_field("kty", "RSA")?;
        jwk.serialize_field("n", &b64(&self.n))?;
        jwk.end()
    }
}

impl Serialize for RsaPrivateJwk {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let secret = |bytes: &[u8]| Zeroizing::new(b64(bytes));
        let mut jwk = serializer.serialize_struct("RsaPrivateJwk", 12)?;
        jwk.serialize_field("alg", RSA_ALG)?;
        jwk.serialize_field("d", &*secret(&self.d))?;
        jwk.serialize_field("dp", &*secret(&self.dp))?;
        jwk.serialize_field("dq", &*secret(&self.dq))?;
        jwk.serialize_field("e", &b64(&self.public.e))?;
        jwk.serialize_field("ext", &true)?;
        jwk.serialize_field("key_ops", &["decrypt"])?;
        jwk.serialize_field("kty", "RSA")?;
        jwk.serialize_field("n", &b64(&self.public.n))?;
        jwk.serialize_field("p", &*secret(&self.p))?;
        jwk.serialize_field("q", &*secret(&self.q))?;
        jwk.serialize_field("qi", &*secret(&self.qi))?;
        jwk.end()
    }
}

macro_rules! deserialize_via_members {
    ($type:ty) => {
        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let members = Members::from_value(Value::deserialize(deserializer)?)
                    .map_err(D::Error::custom)?;
                Self::from_members(&members).map_err(D::Error::custom)
            }
        }
    };
}
deserialize_via_members!(SymmetricJwk);
deserialize_via_members!(RsaPublicJwk);
deserialize_via_members!(RsaPrivateJwk);

/// A JWK's members, checked one by one so that each error names its member.
struct Members(Map<String, Value>);

impl Drop for Members {
    // The map may hold private key members as text.
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for (_, value) in self.0.iter_mut() {
            if let Value::String(text) = value {
                text.zeroize();
            }
        }
    }
}

impl Members {
    fn parse_text(text: &str) -> Result<Self, CryptoError> {
        let value: Value = serde_json::from_str(text).map_err(|err| CryptoError::Json {
            what: "JWK",
            message: err.to_string(),
        })?;
        Self::from_value(value)
    }

    fn from_value(value: Value) -> Result<Self, CryptoError> {
        match value {
            Value::Object(map) => Ok(Self(map)),
            _ => Err(CryptoError::Json {
                what: "JWK",
                message: "a JWK must be a JSON object".into(),
            }),
        }
    }

    fn only(&self, allowed: &[&str]) -> Result<(), CryptoError> {
        match self.0.keys().find(|name| !allowed.contains(&name.as_str())) {
            Some(name) => Err(CryptoError::JwkUnknownMember(name.clone())),
            None => Ok(()),
        }
    }

    fn str(&self, member: &'static str) -> Result<&str, CryptoError> {
        match self.0.get(member) {
            Some(Value::String(text)) => Ok(text),
            Some(_) => Err(CryptoError::JwkMember {
                member,
                reason: "must be a string",
            }),
            None => Err(CryptoError::JwkMember {
                member,
                reason: "is missing",
            }),
        }
    }

    fn expect_str(&self, member: &'static str, expected: &'static str) -> Result<(), CryptoError> {
        if self.str(member)? == expected {
            Ok(())
        } else {
            Err(CryptoError::JwkMember {
                member,
                reason: match member {
                    "kty" if expected == "oct" => "must be \"oct\"",
                    "kty" => "must be \"RSA\"",
                    _ if expected == AES_ALG => "must be \"A256GCM\"",
                    _ => "must be \"RSA-OAEP-256\"",
                },
            })
        }
    }

    /// `ext` may be absent; when present it must be `true`, as WebCrypto writes it.
    fn expect_ext(&self) -> Result<(), CryptoError> {
        match self.0.get("ext") {
            None | Some(Value::Bool(true)) => Ok(()),
            Some(_) => Err(CryptoError::JwkMember {
                member: "ext",
                reason: "must be true",
            }),
        }
    }

    fn expect_key_ops(&self, required: &[&str]) -> Result<(), CryptoError> {
        let invalid = CryptoError::JwkMember {
            member: "key_ops",
            reason: "must be an array of strings holding the key's operations",
        };
        let Some(Value::Array(ops)) = self.0.get("key_ops") else {
            return Err(invalid);
        };
        let ops: Option<Vec<&str>> = ops.iter().map(Value::as_str).collect();
        match ops {
            Some(ops) if required.iter().all(|op| ops.contains(op)) => Ok(()),
            _ => Err(invalid),
        }
    }

    fn base64_raw(&self, member: &'static str) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let bytes = Base64UrlUnpadded::decode_vec(self.str(member)?).map_err(|_| {
            CryptoError::JwkMember {
                member,
                reason: "must be unpadded base64url",
            }
        })?;
        Ok(Zeroizing::new(bytes))
    }

    fn base64_secret(&self, member: &'static str) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let bytes = self.base64_raw(member)?;
        let first_nonzero = bytes
            .iter()
            .position(|&b| b != 0)
            .ok_or(CryptoError::JwkMember {
                member,
                reason: "must not be zero",
            })?;
        Ok(Zeroizing::new(bytes[first_nonzero..].to_vec()))
    }

    /// A key (`k`) or public integer (`n`, `e`): public integers must be minimal big-endian.
    fn base64(&self, member: &'static str) -> Result<Vec<u8>, CryptoError> {
        let bytes = self.base64_raw(member)?.to_vec();
        if bytes.is_empty() || (bytes.len() > 1 && bytes[0] == 0 && member != "k") {
            return Err(CryptoError::JwkMember {
                member,
                reason: "must be a big-endian integer without leading zeros",
            });
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMOKE_KEY: &str = r#"{"alg":"A256GCM","ext":true,"k":"LF_odiZBB0pdIy8mq7ig9bcmM0zlQuOfNsPVGjYqIrw","key_ops":["encrypt","decrypt"],"kty":"oct"}"#;

    #[test]
    fn symmetric_round_trip_is_byte_exact() {
        let jwk = SymmetricJwk::from_json(SMOKE_KEY).expect("parses");
        assert_eq!(jwk.to_json().as_str(), SMOKE_KEY);
        assert_eq!(SMOKE_KEY.len(), 122);
    }

    #[test]
    fn forge_member_order_is_accepted() {
        let forge = r#"{"kty":"oct","alg":"A256GCM","ext":true,"key_ops":["encrypt","decrypt"],"k":"LF_odiZBB0pdIy8mq7ig9bcmM0zlQuOfNsPVGjYqIrw"}"#;
        let jwk = SymmetricJwk::from_json(forge).expect("parses");
        assert_eq!(jwk.to_json().as_str(), SMOKE_KEY);
    }

    #[test]
    fn errors_name_the_member() {
        let cases = [
            (SMOKE_KEY.replace("A256GCM", "A128GCM"), "alg"),
            (SMOKE_KEY.replace("\"oct\"", "\"RSA\""), "kty"),
            (SMOKE_KEY.replace("\"k\":\"LF_", "\"k\":\"LF"), "k"),
            (SMOKE_KEY.replace("\"ext\":true", "\"ext\":false"), "ext"),
            (SMOKE_KEY.replace("\"encrypt\",", ""), "key_ops"),
            (SMOKE_KEY.replace(",\"kty\":\"oct\"", ""), "kty"),
        ];
        for (text, member) in cases {
            match SymmetricJwk::from_json(&text) {
                Err(CryptoError::JwkMember { member: got, .. }) => {
                    assert_eq!(got, member, "{text}")
                }
                other => panic!("{text}: expected an error on {member}, got {other:?}"),
            }
        }
        let extra = SMOKE_KEY.replace("{", "{\"use\":\"enc\",");
        assert_eq!(
            SymmetricJwk::from_json(&extra).map(|_| ()),
            Err(CryptoError::JwkUnknownMember("use".into()))
        );
    }
}
