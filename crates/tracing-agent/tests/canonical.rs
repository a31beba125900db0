//! The canonical form, checked against expectations worked out from Python's
//! `json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` (and
//! double-checked with python3 when written), plus `tests/fixtures/floats.jsonl`, which
//! `tests/fixtures/gen_floats.py` generated from Python's own float repr.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::Path;

use serde::ser::{Error as _, SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::json;
use tracing_agent::hash::{
    canonical_json, canonical_json_of_text, sha24, sha24_of_json_text, ArgsHasher, Sha24,
};

/// sha24 of `{}` in the reference implementation (first line of the reference vectors).
const EMPTY_OBJECT_SHA: &str = "44136fa355b3678a1146ad16";

fn canon<T: Serialize + ?Sized>(value: &T) -> String {
    canonical_json(value).unwrap()
}

fn text(json: &str) -> String {
    canonical_json_of_text(json).unwrap_or_else(|e| panic!("{json}: {e}"))
}

fn text_err(json: &str) -> String {
    match canonical_json_of_text(json) {
        Ok(out) => panic!("{json:?} parsed as {out}"),
        Err(e) => e.to_string(),
    }
}

/// A map serialized in exactly the given order (duplicates included).
struct Pairs<K, V>(Vec<(K, V)>);

impl<K: Serialize, V: Serialize> Serialize for Pairs<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

// ---------------------------------------------------------------- objects and key order

#[derive(Serialize)]
struct Unsorted {
    zeta: u8,
    alpha: &'static str,
    mid: bool,
    #[serde(skip)]
    _skipped: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    maybe: Option<u8>,
}

#[test]
fn struct_fields_are_sorted_and_skipped_fields_left_out() {
    let value = Unsorted {
        zeta: 1,
        alpha: "a",
        mid: true,
        _skipped: 9,
        maybe: None,
    };
    assert_eq!(canon(&value), r#"{"alpha":"a","mid":true,"zeta":1}"#);
    let value = Unsorted {
        maybe: Some(4),
        ..value
    };
    assert_eq!(
        canon(&value),
        r#"{"alpha":"a","maybe":4,"mid":true,"zeta":1}"#
    );
}

#[derive(Serialize)]
struct Root {
    b: B,
    a: A,
}
#[derive(Serialize)]
struct B {
    y: (u8, Cd),
    x: Option<u8>,
}
#[derive(Serialize)]
struct Cd {
    d: u8,
    c: u8,
}
#[derive(Serialize)]
struct A {
    q: u8,
    p: Za,
}
#[derive(Serialize)]
struct Za {
    z: u8,
    a: u8,
}

#[test]
fn nested_objects_are_sorted_at_every_level() {
    let value = Root {
        b: B {
            y: (1, Cd { d: 1, c: 2 }),
            x: None,
        },
        a: A {
            q: 1,
            p: Za { z: 0, a: 0 },
        },
    };
    let want = r#"{"a":{"p":{"a":0,"z":0},"q":1},"b":{"x":null,"y":[1,{"c":2,"d":1}]}}"#;
    assert_eq!(canon(&value), want);
    assert_eq!(text(&serde_json::to_string(&value).unwrap()), want);

    let mut inner = HashMap::new();
    for (i, key) in ["q", "b", "x", "a", "m", "c", "z", "k"]
        .into_iter()
        .enumerate()
    {
        inner.insert(key.to_owned(), vec![Pairs(vec![("y", i), ("x", i)])]);
    }
    let outer = HashMap::from([("outer", inner), ("a", HashMap::new())]);
    assert_eq!(
        canon(&outer),
        concat!(
            r#"{"a":{},"outer":{"a":[{"x":3,"y":3}],"b":[{"x":1,"y":1}],"c":[{"x":5,"y":5}],"#,
            r#""k":[{"x":7,"y":7}],"m":[{"x":4,"y":4}],"q":[{"x":0,"y":0}],"x":[{"x":2,"y":2}],"#,
            r#""z":[{"x":6,"y":6}]}}"#
        )
    );
}

#[test]
fn keys_sort_by_code_point_not_by_escaped_bytes_or_utf16() {
    let keys = [
        "z", "é", "中", "😀", "Z", "a", "", "\u{7f}", "\u{ffff}", "zz", "\n", "A", "\"", "!",
    ];
    let pairs = Pairs(keys.iter().enumerate().map(|(i, k)| (*k, i)).collect());
    // UTF-16 order would put 😀 (a surrogate pair) before U+FFFF; escaped-byte order
    // would put `\n` and `\"` after `A`.
    let want = "{\"\":6,\"\\n\":10,\"!\":13,\"\\\"\":12,\"A\":11,\"Z\":4,\"a\":5,\"z\":0,\"zz\":9,\
                \"\u{7f}\":7,\"é\":1,\"中\":2,\"\u{ffff}\":8,\"😀\":3}";
    assert_eq!(canon(&pairs), want);
    let as_text: String = serde_json::to_string(&pairs).unwrap();
    assert_eq!(text(&as_text), want);
}

#[test]
fn duplicate_keys_keep_the_last_value() {
    assert_eq!(text(r#"{"a":1,"b":2,"a":3}"#), r#"{"a":3,"b":2}"#);
    assert_eq!(text(r#"{"k":1,"k":2,"k":3}"#), r#"{"k":3}"#);
    assert_eq!(
        text(r#"{"k":{"x":1},"j":0,"k":{"y":2}}"#),
        r#"{"j":0,"k":{"y":2}}"#
    );
    assert_eq!(
        canon(&Pairs(vec![("b", 1), ("a", 2), ("b", 3)])),
        r#"{"a":2,"b":3}"#
    );
    assert_eq!(canon(&Pairs(vec![("a", 1), ("a", 2)])), r#"{"a":2}"#);
    assert_eq!(
        canon(&Pairs(vec![("a\n", 1), ("a", 0), ("a\n", 2)])),
        r#"{"a":0,"a\n":2}"#
    );
}

// ---------------------------------------------------------------- serde data model

#[derive(Serialize)]
enum Shape {
    Unit,
    New(u8),
    Tuple(u8, &'static str),
    Struct { z: u8, a: u8 },
}

#[derive(Serialize)]
#[serde(tag = "type")]
enum Tagged {
    Call { name: &'static str, id: u8 },
}

#[derive(Serialize)]
#[serde(untagged)]
enum Untagged {
    Num(i32),
    Text(&'static str),
}

#[derive(Serialize)]
struct Meters(f64);
#[derive(Serialize)]
struct Marker;
#[derive(Serialize)]
struct Pair(u8, i8);

#[derive(Serialize)]
struct Flattened {
    z: u8,
    #[serde(flatten)]
    extra: BTreeMap<&'static str, u8>,
}

struct Bytes(&'static [u8]);
impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

#[test]
fn enums_use_serde_json_external_tagging() {
    let shapes = vec![
        Shape::Unit,
        Shape::New(1),
        Shape::Tuple(1, "x"),
        Shape::Struct { z: 1, a: 2 },
    ];
    assert_eq!(
        canon(&shapes),
        r#"["Unit",{"New":1},{"Tuple":[1,"x"]},{"Struct":{"a":2,"z":1}}]"#
    );
    assert_eq!(
        canon(&Tagged::Call { name: "f", id: 7 }),
        r#"{"id":7,"name":"f","type":"Call"}"#
    );
    assert_eq!(
        canon(&(Untagged::Num(-3), Untagged::Text("t"))),
        r#"[-3,"t"]"#
    );
}

#[test]
fn other_shapes_map_like_serde_json() {
    assert_eq!(canon(&Meters(1.5)), "1.5");
    assert_eq!(canon(&Marker), "null");
    assert_eq!(canon(&()), "null");
    assert_eq!(canon(&Pair(1, -2)), "[1,-2]");
    assert_eq!(
        canon(&(Some(5), None::<u8>, Some(Some("x")))),
        r#"[5,null,"x"]"#
    );
    assert_eq!(canon(&('c', '"', true, false)), r#"["c","\"",true,false]"#);
    assert_eq!(canon(&Bytes(&[0, 1, 255])), "[0,1,255]");
    assert_eq!(canon(&Bytes(&[])), "[]");
    assert_eq!(canon(&Vec::<u8>::new()), "[]");
    assert_eq!(canon(&BTreeMap::<String, u8>::new()), "{}");
    assert_eq!(
        canon(&Flattened {
            z: 0,
            extra: BTreeMap::from([("b", 1), ("a", 2)])
        }),
        r#"{"a":2,"b":1,"z":0}"#
    );
    assert_eq!(
        canon(&json!({"b": [1, 2.0, "x"], "a": null})),
        r#"{"a":null,"b":[1,2.0,"x"]}"#
    );
}

#[test]
fn integer_extremes_are_exact() {
    let want = "[340282366920938463463374607431768211455,-170141183460469231731687303715884105728,\
                170141183460469231731687303715884105727,18446744073709551615,-9223372036854775808,0]";
    let value = (u128::MAX, i128::MIN, i128::MAX, u64::MAX, i64::MIN, 0u8);
    assert_eq!(canon(&value), want);
    assert_eq!(text(want), want);
    assert_eq!(sha24(&value).unwrap(), sha24_of_json_text(want).unwrap());
}

struct Display(&'static str);
impl fmt::Display for Display {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)?;
        f.write_str("!")
    }
}
impl Serialize for Display {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
enum KeyKind {
    Beta,
    Alpha,
}
#[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
struct Name(&'static str);

#[test]
fn string_like_map_keys_are_accepted() {
    assert_eq!(
        canon(&BTreeMap::from([('b', 1), ('a', 2)])),
        r#"{"a":2,"b":1}"#
    );
    assert_eq!(
        canon(&BTreeMap::from([(KeyKind::Beta, 1), (KeyKind::Alpha, 2)])),
        r#"{"Alpha":2,"Beta":1}"#
    );
    assert_eq!(canon(&BTreeMap::from([(Name("n"), 1)])), r#"{"n":1}"#);
    assert_eq!(
        canon(&Pairs(vec![(Display("b\n"), 1), (Display("b"), 2)])),
        // Raw "b\n!" < "b!" (0x0a < 0x21), though escaped `b\n!` > `b!`.
        r#"{"b\n!":1,"b!":2}"#
    );
    assert_eq!(canon(&Display("q\"")), r#""q\"!""#);
}

// ---------------------------------------------------------------- strings and floats

#[test]
fn strings_escape_like_python_with_ensure_ascii_false() {
    let mut s: String = (0u8..0x20).map(char::from).collect();
    s.push_str("\u{7f}\u{2028}\u{2029}\"\\/é😀");
    let want = String::from(
        r#""\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f"#,
    ) + r#"\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f"#
        + "\u{7f}\u{2028}\u{2029}"
        + r#"\"\\/é😀""#;
    assert_eq!(canon(&s), want);
    assert_eq!(text(&serde_json::to_string(&s).unwrap()), want);
    // `\u` escapes in the text (any case, `\/`, surrogate pairs) decode before re-escaping.
    assert_eq!(
        text(r#""\u00E9\u4e2d\ud83d\ude00\/\u0041\u001F""#),
        r#""é中😀/A\u001f""#
    );
}

#[test]
fn floats_follow_python_repr() {
    let values = [
        0.1,
        1e16,
        1e15,
        9999999999999998.0,
        1e-5,
        1e-4,
        5e-324,
        -0.0,
        0.0,
        100.0,
        2.5e-7,
    ];
    assert_eq!(
        canon(&values),
        "[0.1,1e+16,1000000000000000.0,9999999999999998.0,1e-05,0.0001,5e-324,-0.0,0.0,100.0,2.5e-07]"
    );
    assert_eq!(
        canon(&[f64::NAN, f64::INFINITY, f64::NEG_INFINITY]),
        "[NaN,Infinity,-Infinity]"
    );
    assert_eq!(
        text("[1E400, -1e400, 1e-400, -0, -0.0, 1.0, 1e2, 123456789012345678901234567890]"),
        "[Infinity,-Infinity,0.0,0,-0.0,1.0,100.0,123456789012345678901234567890]"
    );
    assert_eq!(text("[NaN,Infinity,-Infinity]"), "[NaN,Infinity,-Infinity]");
}

#[test]
fn f32_hashes_like_its_shortest_decimal() {
    assert_eq!(sha24(&0.1f32).unwrap(), sha24_of_json_text("0.1").unwrap());
    assert_eq!(
        canon(&[0.1f32, 1e16, 16777216.0, f32::MAX, f32::NAN, -0.0]),
        "[0.1,1e+16,16777216.0,3.4028235e+38,NaN,-0.0]"
    );
}

#[test]
fn float_writer_matches_python_repr_fixture() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/floats.jsonl");
    let fixture = std::fs::read_to_string(path).expect("read tests/fixtures/floats.jsonl");
    let mut failures = Vec::new();
    let mut checked = 0;
    for (i, line) in fixture.lines().enumerate() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        let bits = u64::from_str_radix(row["bits"].as_str().unwrap(), 16).unwrap();
        let repr = row["repr"].as_str().unwrap();
        let value = f64::from_bits(bits);
        let written = canon(&value);
        if written != repr {
            failures.push(format!(
                "line {}: {bits:016x}: wrote {written}, Python {repr}",
                i + 1
            ));
        }
        // The text parser must read Python's output back to the same bits.
        if text(repr) != repr {
            failures.push(format!(
                "line {}: text {repr} re-wrote as {}",
                i + 1,
                text(repr)
            ));
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 400, "only {checked} floats in the fixture");
}

// ---------------------------------------------------------------- errors

#[derive(Serialize)]
struct Request {
    url: &'static str,
    headers: BTreeMap<u16, &'static str>,
}

#[test]
fn non_string_map_keys_are_rejected_with_their_path() {
    let err = sha24(&BTreeMap::from([(1, "one")])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "map key at `$.<key>` is not a string (found integer)"
    );
    assert_eq!(err.message(), err.to_string());

    let request = Request {
        url: "u",
        headers: BTreeMap::from([(200, "ok")]),
    };
    assert_eq!(
        sha24(&request).unwrap_err().to_string(),
        "map key at `$.headers.<key>` is not a string (found integer)"
    );

    let deep = json!({"a": [{"x y": null}]});
    let mut nested = BTreeMap::new();
    nested.insert("x y", BTreeMap::from([(true, 1)]));
    let deep_bad = BTreeMap::from([("a", vec![nested])]);
    assert!(sha24(&deep).is_ok());
    assert_eq!(
        sha24(&deep_bad).unwrap_err().to_string(),
        "map key at `$.a[0][\"x y\"].<key>` is not a string (found bool)"
    );

    let found = |err: tracing_agent::hash::HashError| err.to_string();
    assert!(
        found(sha24(&BTreeMap::from([((1u8, 2u8), 0)])).unwrap_err()).ends_with("(found tuple)")
    );
    assert!(found(sha24(&Pairs(vec![(1.5, 0)])).unwrap_err()).ends_with("(found float)"));
    assert!(
        found(sha24(&BTreeMap::from([(Some("k"), 0)])).unwrap_err()).ends_with("(found Some(..))")
    );
    assert!(found(sha24(&Pairs(vec![(Shape::New(1), 0)])).unwrap_err())
        .ends_with("(found enum variant `Shape::New`)"));
    assert!(found(sha24(&Pairs(vec![(Pair(1, 2), 0)])).unwrap_err())
        .ends_with("(found tuple struct `Pair`)"));
}

/// Serializes as its inner value, or fails.
struct Maybe(Option<u8>);
impl Serialize for Maybe {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(v) => serializer.serialize_u8(v),
            None => Err(S::Error::custom("boom")),
        }
    }
}

#[derive(Serialize)]
struct Holder {
    name: &'static str,
    items: Vec<Maybe>,
}

#[derive(Serialize)]
enum Wrapped {
    Fields { ok: u8, field: Maybe },
}

#[test]
fn failing_serialize_impls_become_errors_with_their_path() {
    let holder = Holder {
        name: "n",
        items: vec![Maybe(Some(1)), Maybe(None)],
    };
    let err = sha24(&holder).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`Serialize` impl failed at `$.items[1]`: boom"
    );
    assert_eq!(
        canonical_json(&Maybe(None)).unwrap_err().to_string(),
        "`Serialize` impl failed at `$`: boom"
    );
    assert_eq!(
        sha24(&Wrapped::Fields {
            ok: 1,
            field: Maybe(None)
        })
        .unwrap_err()
        .to_string(),
        "`Serialize` impl failed at `$.Fields.field`: boom"
    );
    assert_eq!(
        sha24(&BTreeMap::from([("bad key", Maybe(None))]))
            .unwrap_err()
            .to_string(),
        "`Serialize` impl failed at `$[\"bad key\"]`: boom"
    );
    // The thread's buffer is clean again afterwards.
    assert_eq!(sha24(&json!({})).unwrap().as_str(), EMPTY_OBJECT_SHA);
}

/// Ignores a failing element and carries on, which must not yield a hash.
struct Swallows;
impl Serialize for Swallows {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        let _ = seq.serialize_element(&Maybe(None));
        seq.serialize_element(&1)?;
        seq.end()
    }
}

#[test]
fn swallowed_errors_are_still_errors() {
    let err = sha24(&Swallows).unwrap_err().to_string();
    assert!(err.contains("misbehaved"), "{err}");
}

// ---------------------------------------------------------------- ArgsHasher

#[test]
fn args_hasher_equals_sha24_of_the_equivalent_object() {
    // Computed with the Python reference.
    const WANT: &str = "7b815a343ac19440d17e90ed";
    let headers = HashMap::from([("accept", "json"), ("Authorization", "x")]);
    let mut hasher = ArgsHasher::new();
    hasher.arg("flags", &[Some(true), Some(false), None]);
    hasher.arg("headers", &headers);
    hasher.arg("retries", &3u32);
    hasher.arg("timeout", &2.5f64);
    hasher.arg("url", "https://e.x/é");
    assert_eq!(hasher.finish().unwrap().as_str(), WANT);

    let object = json!({
        "url": "https://e.x/é", "timeout": 2.5, "retries": 3,
        "headers": {"accept": "json", "Authorization": "x"}, "flags": [true, false, null],
    });
    assert_eq!(sha24(&object).unwrap().as_str(), WANT);
    let map: BTreeMap<String, serde_json::Value> = serde_json::from_value(object).unwrap();
    assert_eq!(sha24(&map).unwrap().as_str(), WANT);

    assert_eq!(
        ArgsHasher::new().finish().unwrap().as_str(),
        EMPTY_OBJECT_SHA
    );
    assert_eq!(
        ArgsHasher::default().finish().unwrap().as_str(),
        EMPTY_OBJECT_SHA
    );
}

#[test]
fn args_hasher_reports_the_first_failing_parameter() {
    let mut hasher = ArgsHasher::new();
    hasher.arg("a", &1);
    hasher.arg("headers", &BTreeMap::from([(1u8, "x")]));
    hasher.arg("items", &vec![Maybe(None)]);
    assert_eq!(
        hasher.finish().unwrap_err().to_string(),
        "parameter `headers`: map key at `headers.<key>` is not a string (found integer)"
    );

    let mut hasher = ArgsHasher::new();
    hasher.arg("items", &vec![Maybe(Some(1)), Maybe(None)]);
    assert_eq!(
        hasher.finish().unwrap_err().to_string(),
        "parameter `items`: `Serialize` impl failed at `items[1]`: boom"
    );
}

/// The macro feeds names sorted; a hand-written caller may not, and must still get the
/// reference hash (never a panic: this runs inside the user's agent).
#[test]
fn args_hasher_sorts_unsorted_names() {
    let mut hasher = ArgsHasher::new();
    hasher.arg("b", &1);
    hasher.arg("a", &2);
    assert_eq!(
        hasher.finish().unwrap(),
        sha24(&json!({"a": 2, "b": 1})).unwrap()
    );
}

// ---------------------------------------------------------------- re-entrancy

/// Hashes its payload while being serialized (uses the hasher from inside the hasher).
struct HashesInside(Vec<u8>);
impl Serialize for HashesInside {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let inner = sha24(&self.0).map_err(S::Error::custom)?;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("z", &Pairs(vec![("y", 1), ("x", 2)]))?;
        map.serialize_entry("inner", &inner)?;
        map.end()
    }
}

#[test]
fn hashing_inside_a_serialize_impl_is_safe() {
    // Python: h([1, 2]) and h({"inner": h([1, 2]), "z": {"x": 2, "y": 1}}).
    let inner = sha24(&[1, 2]).unwrap();
    assert_eq!(inner.as_str(), "49a64717d5d4cb19952e6eac");
    let value = HashesInside(vec![1, 2]);
    let want = json!({"inner": inner, "z": {"x": 2, "y": 1}});
    assert_eq!(sha24(&value).unwrap(), sha24(&want).unwrap());
    assert_eq!(
        canon(&vec![value]),
        r#"[{"inner":"49a64717d5d4cb19952e6eac","z":{"x":2,"y":1}}]"#
    );

    // ArgsHashers interleaved with each other and with sha24.
    let mut outer = ArgsHasher::new();
    outer.arg("a", &HashesInside(vec![3]));
    let mut nested = ArgsHasher::new();
    nested.arg("x", &HashesInside(vec![1, 2]));
    outer.arg("b", &sha24(&"s").unwrap());
    let nested = nested.finish().unwrap();
    outer.arg("c", &nested);
    let outer = outer.finish().unwrap();
    assert_eq!(nested, sha24(&json!({"x": want})).unwrap());
    let want_outer = json!({
        "a": {"inner": sha24(&[3]).unwrap(), "z": {"x": 2, "y": 1}},
        "b": sha24(&"s").unwrap(),
        "c": nested,
    });
    assert_eq!(outer, sha24(&want_outer).unwrap());
}

#[test]
fn sha24_displays_and_serializes_as_hex() {
    let sha = sha24(&json!({})).unwrap();
    assert_eq!(sha.to_string(), EMPTY_OBJECT_SHA);
    assert_eq!(format!("{sha:?}"), format!("Sha24({EMPTY_OBJECT_SHA:?})"));
    assert_eq!(
        serde_json::to_string(&sha).unwrap(),
        format!("\"{EMPTY_OBJECT_SHA}\"")
    );
    let copy: Sha24 = sha;
    assert_eq!(HashSet::from([sha, copy]).len(), 1);
    assert_ne!(sha, sha24(&json!([])).unwrap());
}

// ---------------------------------------------------------------- JSON text

#[test]
fn json_text_errors_name_what_and_where() {
    assert_eq!(
        text_err(r#""\ud800""#),
        "lone surrogate `\\ud800` (Python could not encode it as UTF-8) at column 2 (byte offset 1)"
    );
    assert!(text_err(r#"["\ud83d\u0041"]"#).starts_with("lone surrogate `\\ud83d`"));
    assert!(text_err(r#""\udc00""#).starts_with("lone surrogate `\\udc00`"));
    assert_eq!(
        text_err("[1] x"),
        "unexpected data after the JSON value at column 5 (byte offset 4)"
    );
    assert_eq!(
        text_err("\"a\u{1}\""),
        "control character U+0001 in string (Python's strict mode requires it escaped) \
         at column 3 (byte offset 2)"
    );
    assert_eq!(
        text_err("01"),
        "invalid number: leading zeros are not allowed at column 1 (byte offset 0)"
    );
    assert_eq!(
        text_err("[1,]"),
        "expected a JSON value, found ']' at column 4 (byte offset 3)"
    );
    assert_eq!(
        text_err(r#"{"a":1,}"#),
        "expected a string key in double quotes, found '}' at column 8 (byte offset 7)"
    );
    assert_eq!(
        text_err(r#"{"a" 1}"#),
        "expected `:`, found '1' at column 6 (byte offset 5)"
    );
    assert_eq!(
        text_err("[\n1\n2]"),
        "expected `,` or `]`, found '2' at line 3, column 1 (byte offset 4)"
    );
    // Columns count characters, offsets bytes.
    assert_eq!(
        text_err(r#"["é" x]"#),
        "expected `,` or `]`, found 'x' at column 6 (byte offset 6)"
    );
    assert_eq!(
        text_err(""),
        "expected a JSON value, found end of input at column 1 (byte offset 0)"
    );
    assert_eq!(
        text_err(r#""abc"#),
        "unterminated string at column 1 (byte offset 0)"
    );
    assert_eq!(
        text_err(r#""\x""#),
        "invalid escape `\\x` at column 2 (byte offset 1)"
    );
    assert!(text_err(r#""\u12""#).starts_with("invalid `\\u` escape: expected 4 hex digits"));
    for bad in [
        "-",
        "1.",
        "1e",
        "1e+",
        ".5",
        "+1",
        "-NaN",
        "nan",
        "infinity",
        "tru",
        "[1 2]",
        "{1:2}",
        "\u{feff}1",
        "\u{a0}1",
        "\u{c}1",
        "[1]]",
        "{\"a\":1}}",
        "[",
        "{",
    ] {
        assert!(
            canonical_json_of_text(bad).is_err(),
            "{bad:?} should be rejected"
        );
        assert!(
            sha24_of_json_text(bad).is_err(),
            "{bad:?} should be rejected"
        );
    }
}

#[test]
fn json_text_nesting_is_limited() {
    let ok = "[".repeat(512) + &"]".repeat(512);
    assert_eq!(text(&ok), ok);
    let too_deep = "[".repeat(513) + &"]".repeat(513);
    assert_eq!(
        text_err(&too_deep),
        "nesting deeper than 512 levels at column 513 (byte offset 512)"
    );
    // Far deeper input fails cleanly rather than overflowing the stack.
    assert!(sha24_of_json_text(&"{\"a\":".repeat(1_000_000)).is_err());
}

#[test]
fn json_text_whitespace_and_literals() {
    assert_eq!(
        text(" \t\n\r{ \"b\" : [ true , false , null ] , \"a\" : { } }\r\n"),
        r#"{"a":{},"b":[true,false,null]}"#
    );
    assert_eq!(text("-Infinity"), "-Infinity");
    assert_eq!(text(r#""""#), r#""""#);
    assert_eq!(text("[]"), "[]");
}

// ---------------------------------------------------------------- both paths agree

/// A tiny deterministic generator (no `rand` dependency).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A value whose objects keep insertion order and may repeat keys.
enum Tree {
    Null,
    Bool(bool),
    Int(i64),
    Big(u128),
    Float(f64),
    Str(String),
    Array(Vec<Tree>),
    Object(Vec<(String, Tree)>),
}

impl Serialize for Tree {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Tree::Null => serializer.serialize_unit(),
            Tree::Bool(b) => serializer.serialize_bool(*b),
            Tree::Int(i) => serializer.serialize_i64(*i),
            Tree::Big(u) => serializer.serialize_u128(*u),
            Tree::Float(f) => serializer.serialize_f64(*f),
            Tree::Str(s) => serializer.serialize_str(s),
            Tree::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Tree::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

fn random_string(rng: &mut Lcg) -> String {
    const PIECES: &[&str] = &[
        "a", "b", "z", "A", "_", " ", "\"", "\\", "\n", "\u{1}", "\u{1f}", "\u{7f}", "é", "中",
        "😀", "\u{2028}", "\u{ffff}", "/",
    ];
    (0..rng.below(4))
        .map(|_| PIECES[rng.below(PIECES.len() as u64) as usize])
        .collect()
}

fn random_tree(rng: &mut Lcg, depth: u32) -> Tree {
    let kinds = if depth == 0 { 6 } else { 8 };
    match rng.below(kinds) {
        0 => Tree::Null,
        1 => Tree::Bool(rng.below(2) == 0),
        2 => Tree::Int(rng.next() as i64 - (1 << 30)),
        3 if rng.below(2) == 0 => {
            Tree::Big((u128::from(rng.next()) << 70) | u128::from(rng.next()))
        }
        3 => {
            let f = f64::from_bits((rng.next() << 33) ^ (rng.next() << 2) ^ rng.next());
            Tree::Float(if f.is_finite() { f } else { 0.5 })
        }
        4 => Tree::Float((rng.next() as f64 - 2e9) / 10f64.powi(rng.below(30) as i32 - 10)),
        5 => Tree::Str(random_string(rng)),
        6 => Tree::Array(
            (0..rng.below(5))
                .map(|_| random_tree(rng, depth - 1))
                .collect(),
        ),
        _ => Tree::Object(
            (0..rng.below(7))
                .map(|_| (random_string(rng), random_tree(rng, depth - 1)))
                .collect(),
        ),
    }
}

/// The serializer (in-place key sort) and the text parser (tree sort) are independent
/// implementations; serde_json's text of the same value must canonicalize identically.
#[test]
fn serialize_path_and_text_path_agree_on_random_values() {
    let mut rng = Lcg(0x5eed);
    for i in 0..2000 {
        let tree = random_tree(&mut rng, 4);
        let via_serialize = canon(&tree);
        let json_text = serde_json::to_string(&tree).unwrap();
        let via_text = text(&json_text);
        assert_eq!(via_serialize, via_text, "case {i}: {json_text}");
        assert_eq!(
            sha24(&tree).unwrap(),
            sha24_of_json_text(&json_text).unwrap()
        );
    }
}
