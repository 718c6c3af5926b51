//! Small helpers for assertion messages and for reading the harness's answers.

use hypnos_crypto::encoding::from_hex;
use serde_json::Value;

/// `text`, cut to `max` characters for an assertion message.
pub(crate) fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        format!(
            "{}… ({} chars)",
            text.chars().take(max).collect::<String>(),
            text.chars().count()
        )
    }
}

/// Where two strings first differ, with a little context from each.
pub(crate) fn first_difference(left: &str, right: &str) -> String {
    let at = left
        .chars()
        .zip(right.chars())
        .take_while(|(l, r)| l == r)
        .count();
    let around =
        |text: &str| -> String { text.chars().skip(at.saturating_sub(10)).take(30).collect() };
    format!(
        "first difference at char {at}: Rust …{:?}… vs JS …{:?}…",
        around(left),
        around(right)
    )
}

pub(crate) fn hex_of(value: &Value, context: &str) -> Vec<u8> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{context}: expected a hex string, got {value}"));
    from_hex(text, "harness hex").unwrap_or_else(|err| panic!("{context}: {err}: {text}"))
}

pub(crate) fn parse_json(text: &str, context: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|err| panic!("{context}: not JSON ({err})"))
}
