//! Variables: names, kinds, and what the Variables page shows of them.

use crate::names::NameError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A variable's name, referenced in pipelines as `${var.NAME}`: `^[A-Za-z_][A-Za-z0-9_]*$`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct VariableName(String);

impl VariableName {
    /// The longest name accepted.
    pub const MAX_LEN: usize = 128;

    /// Parses a name as typed (surrounding spaces are dropped).
    pub fn parse(input: &str) -> Result<Self, NameError> {
        let s = input.trim();
        let mut chars = s.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if s.is_empty() {
            return Err(NameError::new("name", "Enter a name."));
        }
        if !first_ok || !rest_ok {
            return Err(NameError::new(
                "name",
                "Use letters, digits and '_', starting with a letter or '_' (as in DEPLOY_ENV).",
            ));
        }
        if s.len() > Self::MAX_LEN {
            return Err(NameError::new(
                "name",
                format!("A name has at most {} characters.", Self::MAX_LEN),
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for VariableName {
    type Error = NameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<VariableName> for String {
    fn from(value: VariableName) -> Self {
        value.0
    }
}

/// A variable's kind, with Aria's meanings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "db", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(
    feature = "db",
    sea_orm(
        rs_type = "String",
        db_type = "Text",
        rename_all = "SCREAMING_SNAKE_CASE"
    )
)]
pub enum VariableKind {
    /// Shown to everyone in the project and usable by members.
    Regular,
    /// Hidden once saved, usable by members.
    Secret,
    /// Hidden once saved, usable only by the project's administrators.
    Restricted,
}

impl VariableKind {
    /// Every kind.
    pub const ALL: [VariableKind; 3] = [
        VariableKind::Regular,
        VariableKind::Secret,
        VariableKind::Restricted,
    ];

    /// The stable string form (stored, and sent on the wire).
    pub fn as_str(self) -> &'static str {
        match self {
            VariableKind::Regular => "REGULAR",
            VariableKind::Secret => "SECRET",
            VariableKind::Restricted => "RESTRICTED",
        }
    }

    /// Parses the stable string form.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the value is sealed and never sent back.
    pub fn is_hidden(self) -> bool {
        self != VariableKind::Regular
    }

    /// What the kind means, for the form.
    pub fn description(self) -> &'static str {
        match self {
            VariableKind::Regular => "visible to everyone in the project",
            VariableKind::Secret => "hidden once saved; members can use it",
            VariableKind::Restricted => "hidden once saved; only administrators can use it",
        }
    }
}

/// One row of the Variables page. Hidden kinds never carry their value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariableRow {
    /// The variable's id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: VariableKind,
    /// The value, for REGULAR variables only.
    pub value: Option<String>,
    /// What it is for.
    pub description: String,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_binding_syntax() {
        for ok in ["DEPLOY_ENV", "_x", "a1", "registryPassword"] {
            assert_eq!(VariableName::parse(ok).unwrap().as_str(), ok);
        }
        for bad in ["", "1abc", "a-b", "a b", "${x}", "ä", "a.b", "../etc"] {
            assert!(VariableName::parse(bad).is_err(), "{bad}");
        }
        assert!(VariableName::parse(&"a".repeat(129)).is_err());
    }

    #[test]
    fn kinds_round_trip_and_only_regular_is_shown() {
        for k in VariableKind::ALL {
            assert_eq!(VariableKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(VariableKind::parse("secret"), None);
        assert!(!VariableKind::Regular.is_hidden());
        assert!(VariableKind::Secret.is_hidden() && VariableKind::Restricted.is_hidden());
    }
}
