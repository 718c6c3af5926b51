//! The app's `deterministicStringify` (`sync/lib/deterministicStringify.ts`).
//!
//! Objects are written with their keys sorted as JavaScript's default `sort()` does (by UTF-16
//! code units), arrays in order, no whitespace; scalars as `JSON.stringify` writes them, numbers
//! with JavaScript's `Number.prototype.toString`. The app drops members and array items that
//! stringify to nothing (`undefined`, functions); parsed JSON holds no such values, so for a
//! [`Value`] every member is kept — which is what the app computes for the same document.

use serde_json::Value;

/// The app's deterministic JSON text of `value`.
pub fn deterministic_stringify(value: &Value) -> String {
    let mut out = String::new();
    write_value(value, &mut out);
    out
}

fn write_value(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
        Value::Number(number) => match number.as_f64() {
            Some(float) => out.push_str(&js_number(float)),
            None => out.push_str("null"),
        },
        Value::String(text) => write_string(text, out),
        Value::Array(items) => {
            out.push('[');
            for (idx, item) in items.iter().enumerate() {
                if idx > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::Object(members) => {
            let mut keys: Vec<&String> = members.keys().collect();
            keys.sort_by(|left, right| left.encode_utf16().cmp(right.encode_utf16()));
            out.push('{');
            for (idx, key) in keys.into_iter().enumerate() {
                if idx > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_value(&members[key], out);
            }
            out.push('}');
        }
    }
}

/// `JSON.stringify` of a string: `"` and `\` escaped, control characters as `\b \f \n \r \t` or
/// `\u00xx` (lowercase), everything else (U+007F and all non-ASCII included) as it is.
fn write_string(text: &str, out: &mut String) {
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ch if u32::from(ch) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(ch))),
            ch => out.push(ch),
        }
    }
    out.push('"');
}

/// JavaScript's `Number.prototype.toString()` for a finite number, as `JSON.stringify` writes it
/// (ECMA-262 Number::toString): the shortest digits that round-trip, positional notation for
/// exponents from −7 to 20, exponential (`1e+21`, `1.5e-7`) outside. `-0` is `0`; NaN and the
/// infinities are `null`, as in JSON.
pub fn js_number(value: f64) -> String {
    if !value.is_finite() {
        return "null".into();
    }
    if value == 0.0 {
        return "0".into();
    }
    // Rust's `{:e}` gives the same shortest round-trip digits: "d.ddde±x".
    let scientific = format!("{:e}", value.abs());
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("`{:e}` always writes an exponent");
    let digits: String = mantissa.chars().filter(|ch| *ch != '.').collect();
    let exponent: i32 = exponent.parse().expect("`{:e}` writes an integer exponent");
    // In ECMA-262's terms the value is 0.digits × 10^n.
    let k = digits.len() as i32;
    let n = exponent + 1;
    let mut out = String::new();
    if value < 0.0 {
        out.push('-');
    }
    if k <= n && n <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        out.push_str(&digits[..n as usize]);
        out.push('.');
        out.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-n) as usize));
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if n > 0 { '+' } else { '-' });
        out.push_str(&(n - 1).abs().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_javascript() {
        // Each expected string is what Node.js prints for `String(x)`.
        let cases: &[(f64, &str)] = &[
            (1.0, "1"),
            (-1.5, "-1.5"),
            (0.1, "0.1"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123456789012345680000.0, "123456789012345680000"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (1e-7, "1e-7"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (-0.0, "0"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1699999999999.0, "1699999999999"),
            (f64::NAN, "null"),
        ];
        for (value, expected) in cases {
            assert_eq!(js_number(*value), *expected, "{value:e}");
        }
    }

    #[test]
    fn keys_sort_by_utf16_code_units() {
        // U+FF61 sorts after U+1F600 in UTF-8 order but before it in UTF-16 (0xD83D > 0xFF61 is
        // false: 0xD83D < 0xFF61), so JavaScript puts the emoji first.
        let value: Value = serde_json::json!({"\u{ff61}": 1, "\u{1f600}": 2, "b": [true, null], "a": "x\u{1}\"\\"});
        assert_eq!(
            deterministic_stringify(&value),
            "{\"a\":\"x\\u0001\\\"\\\\\",\"b\":[true,null],\"\u{1f600}\":2,\"\u{ff61}\":1}"
        );
    }
}
