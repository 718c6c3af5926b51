//! deterministicStringify and blob ids.

use hypnos_crypto::sync::{blob_id, deterministic_stringify};
use serde_json::{Number, Value, json};

use crate::{
    harness::Harness,
    inputs::{Rng, SPECIAL_FLOATS, random_value},
    messages::{first_difference, short},
};

#[test]
fn stringify_and_blob_id_match() {
    let mut js = Harness::start();
    let mut rng = Rng::new();
    let mut values: Vec<Value> = SPECIAL_FLOATS
        .iter()
        .filter_map(|float| Number::from_f64(*float).map(Value::Number))
        .collect();
    values.push(json!(u64::MAX));
    values.push(json!(i64::MIN));
    values.push(json!(9007199254740993u64));
    values.push(json!({"\u{ff61}": 1, "\u{1f600}": 2, "\u{e000}": 3, "\u{ffff}": 4, "z": 5}));
    values.push(json!({"__proto__": {"x": 1}, "constructor": [], "10": 0, "2": 0, "1": 0, "": ""}));
    values.push(json!(
        "\u{0}\u{1f}\u{7f}\u{2028}\u{2029}\"\\/\u{8}\u{c}\n\r\t"
    ));
    values.extend((0..250).map(|_| random_value(&mut rng, 4)));

    for value in &values {
        let input = serde_json::to_string(value).expect("a JSON value serializes");
        let case = format!("input {}", short(&input, 400));

        let rust = deterministic_stringify(value);
        let js_text = js.ok_str(
            "stringify",
            json!({"value": value}),
            format!("stringify, {case}"),
        );
        assert!(
            rust == js_text,
            "deterministicStringify differs; {case}; {}\nRust: {}\nJS:   {}",
            first_difference(&rust, &js_text),
            short(&rust, 400),
            short(&js_text, 400)
        );

        let js_sha1 = js.ok_str("sha1", json!({"text": js_text}), format!("sha1, {case}"));
        assert_eq!(
            blob_id(&rust),
            js_sha1,
            "blob id differs from JS sha1 of the content; {case}"
        );
    }
}
