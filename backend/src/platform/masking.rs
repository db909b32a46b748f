//! The one masking rule: wherever a value bound from a SECRET or RESTRICTED variable could be
//! shown (task messages, outputs, logs, approvers, error messages, bound input, the REST and
//! page views of an execution), it is replaced by [`MASK`], and so are the forms a task may
//! have turned it into on the way: percent-encoded (URLs, forms), JSON-escaped, and base64 in
//! both alphabets at any alignment (a password inside `Basic dXNlcjpwYXNz`).

use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine;

/// What a hidden value is shown as, everywhere.
pub use domain::views::MASK;

/// Base64 fragments shorter than this are not masked: they would match by chance.
const MIN_BASE64_FRAGMENT: usize = 6;

/// Masks a set of hidden values and their encoded forms.
#[derive(Debug, Clone, Default)]
pub struct Masker {
    /// Every form to replace, longest first (so a value inside another is not half-masked).
    needles: Vec<String>,
}

impl Masker {
    /// A masker for `secrets` (empty ones are ignored).
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Self {
        let mut needles = Vec::new();
        for s in secrets.into_iter().filter(|s| !s.is_empty()) {
            needles.push(s.to_owned());
            needles.push(percent_encoded(s, false));
            needles.push(percent_encoded(s, true));
            // as a URL parser leaves it in a query or a path (WHATWG percent-encode sets)
            needles.push(url_encoded(s, b" \"#<>'"));
            needles.push(url_encoded(s, b" \"#<>?`{}"));
            if let Ok(json) = serde_json::to_string(s) {
                needles.push(json[1..json.len() - 1].to_owned());
            }
            needles.extend(base64_fragments(s.as_bytes()));
        }
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        needles.dedup();
        Self { needles }
    }

    /// Whether there is nothing to mask.
    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// `text` with every hidden value masked.
    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for n in &self.needles {
            if out.contains(n.as_str()) {
                out = out.replace(n.as_str(), MASK);
            }
        }
        out
    }

    /// Every string inside a JSON value masked (keys included).
    pub fn mask_value(&self, v: &serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match v {
            Value::String(s) => Value::String(self.mask(s)),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.mask_value(x)).collect()),
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| (self.mask(k), self.mask_value(x)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// `s` percent-encoded as in a URL path or query (`form`: spaces as `+`).
fn percent_encoded(s: &str, form: bool) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b));
            }
            b' ' if form => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `s` with only the bytes of `set`, controls and non-ASCII percent-encoded, as a URL parser
/// writes a query (or a path) it was given raw.
fn url_encoded(s: &str, set: &[u8]) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if !(0x21..=0x7e).contains(&b) || set.contains(&b) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(char::from(b));
        }
    }
    out
}

/// The characters of `bytes`' base64 that do not depend on what precedes or follows it, for
/// each of the three alignments it can have inside a longer encoded text, in both alphabets.
fn base64_fragments(bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for offset in 0..3usize {
        let mut padded = vec![0u8; offset];
        padded.extend_from_slice(bytes);
        let first = (offset * 8).div_ceil(6);
        let end = (padded.len() * 8) / 6;
        for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
            let encoded = engine.encode(&padded);
            if let Some(fragment) = encoded.get(first..end) {
                if fragment.len() >= MIN_BASE64_FRAGMENT {
                    out.push(fragment.to_owned());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cr+t/pa ss\"word";

    #[test]
    fn the_value_and_its_encodings_are_masked() {
        let m = Masker::new([SECRET]);
        let json = serde_json::to_string(SECRET).unwrap();
        for shown in [
            format!("x {SECRET} y"),
            format!("https://h/p?q={}", percent_encoded(SECRET, false)),
            reqwest::Url::parse(&format!("https://h/p?q={SECRET}"))
                .unwrap()
                .to_string(),
            reqwest::Url::parse(&format!("https://h/{SECRET}"))
                .unwrap()
                .to_string(),
            format!("form: a={}&b=1", percent_encoded(SECRET, true)),
            format!("{{\"password\":{json}}}"),
            format!(
                "Authorization: Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("alice:{SECRET}"))
            ),
            format!("token={}", URL_SAFE_NO_PAD.encode(format!("xy{SECRET}zz"))),
            format!("b64: {}", STANDARD_NO_PAD.encode(SECRET)),
        ] {
            let masked = m.mask(&shown);
            assert!(masked.contains(MASK), "{shown} → {masked}");
            assert!(!masked.contains(SECRET), "{masked}");
            for b in base64_fragments(SECRET.as_bytes()) {
                assert!(!masked.contains(&b), "{masked} still holds {b}");
            }
        }
    }

    #[test]
    fn short_secrets_are_masked_too_and_other_text_is_left_alone() {
        let m = Masker::new(["ab", ""]);
        assert_eq!(m.mask("cab"), format!("c{MASK}"));
        assert_eq!(m.mask("nothing here"), "nothing here");
        assert!(Masker::new([""]).is_empty());
        let v = m.mask_value(&serde_json::json!({"ab": ["ab", 1]}));
        assert_eq!(v, serde_json::json!({MASK: [MASK, 1]}));
    }
}
