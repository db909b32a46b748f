//! Reading JSON as its users write it.

use serde::{Deserialize, Deserializer};

/// An id as any JSON number with no fraction: `7`, and also `7.0` or `7e0`, which JSON
/// Schema's `integer` allows and some clients send. A fraction or an out-of-range value is
/// refused.
pub fn integral<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    if let Some(i) = n.as_i64() {
        return Ok(i);
    }
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 => Ok(f as i64),
        _ => Err(serde::de::Error::custom(format!(
            "{n} is not a whole number"
        ))),
    }
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize)]
    struct Id {
        #[serde(deserialize_with = "super::integral")]
        id: i64,
    }

    fn id(json: &str) -> Result<i64, serde_json::Error> {
        serde_json::from_str::<Id>(json).map(|x| x.id)
    }

    #[test]
    fn whole_numbers_in_any_spelling_are_ids_and_fractions_are_not() {
        assert_eq!(id(r#"{"id": 7}"#).unwrap(), 7);
        assert_eq!(id(r#"{"id": -366.0}"#).unwrap(), -366);
        assert_eq!(id(r#"{"id": 7e0}"#).unwrap(), 7);
        assert!(id(r#"{"id": 7.5}"#).is_err());
        assert!(id(r#"{"id": 1e300}"#).is_err());
        assert!(id(r#"{"id": "7"}"#).is_err());
    }
}
