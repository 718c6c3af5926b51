//! Random inputs (from the system CSPRNG, so every run differs).

use hypnos_crypto::{encoding::encode_uri_component, random, rsa::MAX_PLAINTEXT_LEN};
use serde_json::{Map, Number, Value};

pub(crate) struct Rng {
    pool: [u8; 4096],
    used: usize,
}

impl Rng {
    pub(crate) fn new() -> Self {
        Self {
            pool: [0; 4096],
            used: 4096,
        }
    }

    pub(crate) fn byte(&mut self) -> u8 {
        if self.used == self.pool.len() {
            random::fill(&mut self.pool).expect("the system RNG works");
            self.used = 0;
        }
        self.used += 1;
        self.pool[self.used - 1]
    }

    pub(crate) fn u64(&mut self) -> u64 {
        (0..8).fold(0, |acc, _| (acc << 8) | u64::from(self.byte()))
    }

    /// Uniform enough in `0..bound` for test inputs (bias below 2^-32).
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        self.u64() % bound
    }

    pub(crate) fn range(&mut self, low: u32, high_inclusive: u32) -> u32 {
        low + self.below(u64::from(high_inclusive - low) + 1) as u32
    }

    pub(crate) fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.byte()).collect()
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Characters that `encodeURIComponent` escapes although they are ASCII, and the ones it keeps.
pub(crate) const URI_SPECIALS: &[char] = &[
    '%', ';', '/', '?', ':', '@', '&', '=', '+', '$', '#', ',', '[', ']', ' ', '"', '<', '>', '\\',
    '^', '`', '{', '|', '}', '-', '_', '.', '!', '~', '*', '\'', '(', ')',
];

pub(crate) fn random_char(rng: &mut Rng) -> char {
    let code = match rng.below(10) {
        0..=2 => rng.range(0x20, 0x7e),
        3 => u32::from(*rng.pick(URI_SPECIALS)),
        4 => rng.range(0xa0, 0x24f),
        5 => rng.range(0x4e00, 0x9fff),
        6 => rng.range(0x1f300, 0x1faff),
        7 => rng.range(0x10000, 0x10ffff),
        8 => rng.range(0xe000, 0xffff),
        _ => *rng.pick(&[
            0x00, 0x01, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x1b, 0x1f, 0x7f, 0x85, 0x2028, 0x2029,
            0xfeff,
        ]),
    };
    char::from_u32(code).expect("no range above reaches the surrogates")
}

pub(crate) fn random_text(rng: &mut Rng, max_chars: u32) -> String {
    let len = rng.range(0, max_chars);
    (0..len).map(|_| random_char(rng)).collect()
}

/// Fixed texts every run includes, then random ones.
pub(crate) fn sample_texts(rng: &mut Rng, random_count: usize, max_chars: u32) -> Vec<String> {
    let mut texts: Vec<String> = [
        "",
        "%;/?:@&=+$#",
        "%41%zz%",
        "héllo wörld 😀 \u{0}\u{7f}\u{e000}\u{ffff}\u{10ffff}",
        "-_.!~*'()",
    ]
    .iter()
    .map(|text| text.to_string())
    .collect();
    texts.extend((0..random_count).map(|_| random_text(rng, max_chars)));
    texts
}

/// A random text whose percent-encoding fits RSA-OAEP-256 (at most 190 bytes).
pub(crate) fn random_rsa_text(rng: &mut Rng) -> String {
    let mut text = random_text(rng, 80);
    while encode_uri_component(&text).len() > MAX_PLAINTEXT_LEN {
        text.pop();
    }
    text
}

/// Object keys every generated object may use, beside random ones: JavaScript's special names,
/// integer-like keys (which JS enumerates first), and keys whose UTF-8 and UTF-16 orders differ.
pub(crate) const SPECIAL_KEYS: &[&str] = &[
    "",
    "__proto__",
    "constructor",
    "toString",
    "1",
    "10",
    "2",
    "a",
    "A",
    "_id",
    "\u{e000}",
    "\u{ff61}",
    "\u{ffff}",
    "\u{10000}",
    "\u{1f600}",
];

/// Numbers that JavaScript prints in a notable way.
pub(crate) const SPECIAL_FLOATS: &[f64] = &[
    1e21,
    1e20,
    1.5e-7,
    1e-7,
    0.000001,
    123.456,
    -0.0,
    0.1,
    0.30000000000000004,
    5e-324,
    f64::MAX,
    f64::MIN_POSITIVE,
    -1e300,
    9007199254740992.0,
    123456789012345680000.0,
    1699999999999.0,
];

pub(crate) fn random_number(rng: &mut Rng) -> Number {
    let float = match rng.below(8) {
        0 => *rng.pick(SPECIAL_FLOATS),
        1 => return Number::from(rng.u64()),
        // Integers above 2^53, which JavaScript rounds to a double when it parses them.
        2 => return Number::from((1u64 << 53) + rng.below(1 << 20)),
        3 => return Number::from(-(rng.below(1 << 62) as i64)),
        4 => return Number::from(rng.range(0, 2000) as i64 - 1000),
        5 => f64::from_bits(rng.u64()),
        6 => {
            let mantissa = rng.u64() >> 11;
            let exponent = rng.range(0, 80) as i32 - 40;
            mantissa as f64 * 10f64.powi(exponent)
        }
        _ => (rng.range(0, 2_000_000) as f64 - 1_000_000.0) / 1000.0,
    };
    Number::from_f64(float).unwrap_or_else(|| Number::from(0))
}

pub(crate) fn random_key(rng: &mut Rng) -> String {
    if rng.below(3) == 0 {
        (*rng.pick(SPECIAL_KEYS)).to_string()
    } else {
        random_text(rng, 6)
    }
}

pub(crate) fn random_value(rng: &mut Rng, depth: u32) -> Value {
    let kinds = if depth == 0 { 6 } else { 8 };
    match rng.below(kinds) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 1),
        2 | 3 => Value::Number(random_number(rng)),
        4 | 5 => Value::String(random_text(rng, 10)),
        6 => Value::Array(
            (0..rng.below(5))
                .map(|_| random_value(rng, depth - 1))
                .collect(),
        ),
        _ => {
            let mut members = Map::new();
            for _ in 0..rng.below(6) {
                members.insert(random_key(rng), random_value(rng, depth - 1));
            }
            Value::Object(members)
        }
    }
}
