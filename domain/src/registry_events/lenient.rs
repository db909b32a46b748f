//! Reading JSON as registries write it: Docker Hub's stray backslashes forgiven, and only the
//! members a reader needs built.

use serde_json::Value;

/// Parses JSON the way Docker Hub writes it: a backslash before a character JSON does not
/// allow an escape for (`\]`) stands for that character, as most JSON readers in the wild take it.
/// One pass finds such escapes (Docker Hub's documented payload has one); the body is parsed
/// once, as it came when it has none, else without those backslashes.
pub fn lenient_json(bytes: &[u8]) -> Result<Value, String> {
    let repaired = without_stray_backslashes(bytes);
    serde_json::from_slice(repaired.as_deref().unwrap_or(bytes)).map_err(|e| json_error(bytes, e))
}

/// [`lenient_json`], keeping only what `pick` names.
pub(super) fn lenient_read(bytes: &[u8], pick: &Pick) -> Result<Value, String> {
    use serde::de::DeserializeSeed;
    let repaired = without_stray_backslashes(bytes);
    let mut d = serde_json::Deserializer::from_slice(repaired.as_deref().unwrap_or(bytes));
    pick.deserialize(&mut d)
        .and_then(|v| d.end().map(|()| v))
        .map_err(|e| json_error(bytes, e))
}

fn json_error(bytes: &[u8], e: serde_json::Error) -> String {
    if std::str::from_utf8(bytes).is_err() {
        "the body is not UTF-8".to_owned()
    } else {
        format!("the body is not JSON: {e}")
    }
}

/// `bytes` without the backslashes inside strings that start no JSON escape, or `None` when
/// there are none. Works on bytes: `"` and `\` never occur inside a multi-byte UTF-8 character.
fn without_stray_backslashes(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    let mut in_string = false;
    let mut i = 0;
    // only quotes and backslashes matter: jump from one to the next
    while let Some(found) = memchr::memchr2(b'"', b'\\', &bytes[i..]) {
        i += found;
        match bytes[i] {
            b'"' => in_string = !in_string,
            b'\\' if in_string => match bytes.get(i + 1) {
                Some(n) if b"\"\\/bfnrtu".contains(n) => {
                    i += 2;
                    continue;
                }
                Some(_) => {
                    // drop the backslash; the character after it is taken as it is
                    let o = out.get_or_insert_with(|| Vec::with_capacity(bytes.len()));
                    o.extend_from_slice(&bytes[copied..i]);
                    copied = i + 1;
                    i += 2;
                    continue;
                }
                None => {}
            },
            _ => {}
        }
        i += 1;
    }
    out.map(|mut o| {
        o.extend_from_slice(&bytes[copied..]);
        o
    })
}
/// Which members of an object [`Pick`] keeps, each whole or picked in turn.
type Members = &'static [(&'static str, Option<&'static Pick>)];

/// Reads JSON keeping, of an object, only the members it names: the others (Docker Hub's
/// `dockerfile` and `full_description`, which can be long) are checked as JSON and skipped
/// without being built. Anything but an object reads as `null`, so a member of the wrong type
/// is a missing member, as with a whole [`Value`]. A repeated member: the last one counts.
#[derive(Debug)]
pub(super) struct Pick(pub(super) Members);

impl<'de> serde::de::DeserializeSeed<'de> for &Pick {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for &Pick {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            match self.0.iter().find(|(name, _)| *name == key) {
                Some((_, Some(inner))) => {
                    out.insert(key, map.next_value_seed(*inner)?);
                }
                Some((_, None)) => {
                    out.insert(key, map.next_value::<Value>()?);
                }
                None => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(out))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_str<E>(self, _: &str) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
}
#[cfg(test)]
mod tests {
    use super::super::HUB_MEMBERS;
    use super::*;

    /// The example payload exactly as Aria's documentation prints it (seed 000).
    const HUB_EXAMPLE: &str = include_str!("../../../testkit/fixtures/docker_hub_example.json");

    #[test]
    fn stray_backslashes_are_dropped_inside_strings_only_and_valid_escapes_kept() {
        let read = |s: &str| lenient_json(s.as_bytes());
        assert_eq!(read(r#"{"a": "[\/x\]"}"#).unwrap()["a"], "[/x]");
        assert_eq!(read(r#"{"a": "q\"\]\\\é"}"#).unwrap()["a"], "q\"]\\é");
        assert_eq!(read(r#"{"a": "\u0041\n"}"#).unwrap()["a"], "A\n");
        // nothing to repair: parsed as it came
        assert!(without_stray_backslashes(br#"{"a": "\\ \" \u0041"}"#).is_none());
        // outside a string a backslash stays, and stays an error
        assert!(read(r#"{"a": 1 \]"#).is_err());
        assert_eq!(
            lenient_json(b"{\"a\": \"\xff\"}").unwrap_err(),
            "the body is not UTF-8"
        );
        assert!(read(r#"{"a": "open"#)
            .unwrap_err()
            .starts_with("the body is not JSON"));
        // a backslash as the last byte, inside or outside a string: an error, no panic
        for cut in [&br#"{"a": "x\"#[..], br#"{"a": 1}\"#, br"\"] {
            assert!(lenient_json(cut).is_err());
        }
        // runs of backslashes and quotes: pairs are escapes, a stray one before `]` dropped
        assert_eq!(read(r#"{"a": "\\\\\]\"\\"}"#).unwrap()["a"], "\\\\]\"\\");
    }

    #[test]
    fn a_picked_read_keeps_the_named_members_and_reads_as_a_whole_value_would() {
        let full = lenient_json(HUB_EXAMPLE.as_bytes()).unwrap();
        let picked = lenient_read(HUB_EXAMPLE.as_bytes(), &HUB_MEMBERS).unwrap();
        assert_eq!(picked["push_data"], full["push_data"]);
        assert_eq!(picked["callback_url"], full["callback_url"]);
        for m in ["repo_name", "namespace", "name", "owner"] {
            assert_eq!(picked["repository"][m], full["repository"][m], "{m}");
        }
        assert!(
            picked["repository"].get("dockerfile").is_none(),
            "skipped, not built"
        );
        // skipped members are still checked as JSON, and nothing may follow the object
        for bad in [
            r#"{"repository": {"dockerfile": "open}}"#,
            r#"{"other": [1, }"#,
            r#"{"push_data": {}} {"#,
        ] {
            assert!(lenient_read(bad.as_bytes(), &HUB_MEMBERS).is_err(), "{bad}");
        }
        // a member of the wrong type is a missing member; the last of a repeated one counts
        let odd = br#"{"repository": ["x"], "push_data": {"tag": "a"}, "push_data": {"tag": "b"}}"#;
        let v = lenient_read(odd, &HUB_MEMBERS).unwrap();
        assert_eq!(v["repository"], Value::Null);
        assert_eq!(v["push_data"]["tag"], "b");
        assert_eq!(lenient_read(b"[1]", &HUB_MEMBERS).unwrap(), Value::Null);
    }
}
