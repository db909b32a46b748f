//! Project variables. REGULAR values are stored and shown as they are; SECRET and RESTRICTED
//! values are sealed under the key file and never leave the server again (pipelines, in a later
//! release, open them when they run).
//!
//! Who may do what: viewers read the list; members create, change and delete REGULAR and SECRET
//! variables; only administrators touch RESTRICTED ones.

use crate::access::accounts::Actor;
use crate::access::projects::authorize;
use crate::error::conflict_on_unique;
use crate::platform::entities::variables as row;
use crate::platform::secrets::SecretValue;
use crate::{Backend, Error, Result};
use domain::role::ProjectAction;
use domain::variables::{VariableKind, VariableName, VariableRow};
use domain::ProjectRole;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

/// The associated data that binds sealed values to their use.
const PURPOSE: &str = "wharf:variable";
/// The largest value accepted, in bytes.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

/// What the New/Edit variable forms send.
#[derive(Debug, Clone)]
pub struct VariableInput {
    /// The name.
    pub name: String,
    /// The kind, in its stable string form.
    pub kind: String,
    /// The value. On an edit of a hidden kind, `None` keeps the stored value.
    pub value: Option<SecretValue>,
    /// What it is for.
    pub description: String,
}

/// The fewest characters a SECRET or RESTRICTED value may have.
pub const MIN_HIDDEN_CHARS: usize = 8;

fn parse_kind(s: &str) -> Result<VariableKind> {
    VariableKind::parse(s)
        .ok_or_else(|| Error::invalid("kind", "Pick REGULAR, SECRET or RESTRICTED."))
}

fn check_value(v: &SecretValue) -> Result<()> {
    if v.expose().len() > MAX_VALUE_BYTES {
        return Err(Error::invalid(
            "value",
            format!("A value has at most {} KiB.", MAX_VALUE_BYTES / 1024),
        ));
    }
    Ok(())
}

fn check_description(s: &str) -> Result<String> {
    let s = s.trim();
    if s.chars().count() > 500 {
        return Err(Error::invalid(
            "description",
            "A description has at most 500 characters.",
        ));
    }
    Ok(s.to_owned())
}

fn require_for_kind(role: ProjectRole, kind: VariableKind) -> Result<()> {
    if kind == VariableKind::Restricted && role != ProjectRole::Administrator {
        return Err(Error::Forbidden(
            "Only the project's administrators can manage RESTRICTED variables.".to_owned(),
        ));
    }
    Ok(())
}

fn view(m: row::Model) -> Result<VariableRow> {
    let kind = m.kind;
    Ok(VariableRow {
        id: m.id,
        name: m.name,
        kind,
        value: if kind.is_hidden() { None } else { m.value },
        description: m.description,
        updated_at: m.updated_at,
    })
}

/// A project's variables by name; hidden kinds without their values.
pub async fn list(backend: &Backend, actor: Actor, project_id: i64) -> Result<Vec<VariableRow>> {
    authorize(&backend.db, actor, project_id, ProjectAction::View).await?;
    row::Entity::find()
        .filter(row::Column::ProjectId.eq(project_id))
        .order_by_asc(row::Column::Name)
        .all(&backend.db)
        .await?
        .into_iter()
        .map(view)
        .collect()
}

fn split_value(
    backend: &Backend,
    kind: VariableKind,
    value: &SecretValue,
) -> Result<(Option<String>, Option<String>)> {
    check_value(value)?;
    if kind.is_hidden() && value.expose().chars().count() < MIN_HIDDEN_CHARS {
        return Err(Error::invalid(
            "value",
            format!(
                "A {} value has at least {MIN_HIDDEN_CHARS} characters: a shorter one would be \
                 masked wherever that text appears in logs and outputs, and guessed easily.",
                kind.as_str()
            ),
        ));
    }
    if kind.is_hidden() {
        let sealed = backend
            .sealer
            .seal(value, PURPOSE)
            .map_err(|e| Error::Internal(e.to_string()))?;
        Ok((None, Some(sealed)))
    } else {
        Ok((Some(value.expose().to_owned()), None))
    }
}

/// Creates a variable.
#[tracing::instrument(skip_all, fields(actor = actor.user_id, project_id))]
pub async fn create(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    input: VariableInput,
) -> Result<VariableRow> {
    let name = VariableName::parse(&input.name)?;
    let kind = parse_kind(&input.kind)?;
    let description = check_description(&input.description)?;
    let value = input
        .value
        .ok_or_else(|| Error::invalid("value", "Enter a value."))?;
    let (plain, sealed) = split_value(backend, kind, &value)?;
    let txn = crate::platform::db::begin_write(&backend.db).await?;
    let role = authorize(&txn, actor, project_id, ProjectAction::Use).await?;
    require_for_kind(role, kind)?;
    let now = backend.clock.now();
    let model = row::ActiveModel {
        project_id: Set(project_id),
        name: Set(name.as_str().to_owned()),
        kind: Set(kind),
        description: Set(description),
        value: Set(plain),
        sealed_value: Set(sealed),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| conflict_on_unique(e, "This project already has a variable with that name."))?;
    txn.commit().await?;
    view(model)
}

/// Changes a variable. Leaving the value out of a hidden kind keeps the stored one, unless the
/// kind changes from REGULAR (whose value would otherwise become visible-then-hidden).
#[tracing::instrument(skip_all, fields(actor = actor.user_id, project_id, variable_id))]
pub async fn update(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    variable_id: i64,
    input: VariableInput,
) -> Result<VariableRow> {
    let name = VariableName::parse(&input.name)?;
    let kind = parse_kind(&input.kind)?;
    let description = check_description(&input.description)?;
    let txn = crate::platform::db::begin_write(&backend.db).await?;
    let role = authorize(&txn, actor, project_id, ProjectAction::Use).await?;
    let existing =
        crate::access::scoped::find::<row::Entity>(&txn, project_id, variable_id).await?;
    let old_kind = existing.kind;
    require_for_kind(role, old_kind)?;
    require_for_kind(role, kind)?;
    let (plain, sealed) =
        match (&input.value, old_kind.is_hidden(), kind.is_hidden()) {
            (Some(v), _, _) => split_value(backend, kind, v)?,
            (None, true, true) => (None, existing.sealed_value.clone()),
            (None, false, false) => (existing.value.clone(), None),
            (None, false, true) => match &existing.value {
                Some(v) => split_value(backend, kind, &SecretValue::new(v.clone()))?,
                None => (None, None),
            },
            (None, true, false) => return Err(Error::invalid(
                "value",
                "A hidden value cannot be shown: enter the value the REGULAR variable should have.",
            )),
        };
    let mut model: row::ActiveModel = existing.into();
    model.name = Set(name.as_str().to_owned());
    model.kind = Set(kind);
    model.description = Set(description);
    model.value = Set(plain);
    model.sealed_value = Set(sealed);
    model.updated_at = Set(backend.clock.now());
    let updated = model.update(&txn).await.map_err(|e| {
        conflict_on_unique(e, "This project already has a variable with that name.")
    })?;
    txn.commit().await?;
    view(updated)
}

/// Deletes a variable.
#[tracing::instrument(skip_all, fields(actor = actor.user_id, project_id, variable_id))]
pub async fn delete(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    variable_id: i64,
) -> Result<()> {
    let txn = crate::platform::db::begin_write(&backend.db).await?;
    let role = authorize(&txn, actor, project_id, ProjectAction::Use).await?;
    let existing =
        crate::access::scoped::find::<row::Entity>(&txn, project_id, variable_id).await?;
    require_for_kind(role, existing.kind)?;
    row::Entity::delete_by_id(variable_id).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Opens a hidden variable's value for the engine. Not reachable from any page or API.
pub async fn reveal_for_engine(
    backend: &Backend,
    project_id: i64,
    name: &str,
) -> Result<Option<SecretValue>> {
    let Some(m) = row::Entity::find()
        .filter(row::Column::ProjectId.eq(project_id))
        .filter(row::Column::Name.eq(name))
        .one(&backend.db)
        .await?
    else {
        return Ok(None);
    };
    match (m.value, m.sealed_value) {
        (Some(v), _) => Ok(Some(SecretValue::new(v))),
        (None, Some(sealed)) => backend
            .sealer
            .open(&sealed, PURPOSE)
            .map(Some)
            .map_err(|e| Error::Internal(format!("variable {name}: {e}"))),
        (None, None) => Ok(None),
    }
}

/// A project variable as the engine holds it.
pub struct EngineVariable {
    /// Its name.
    pub name: String,
    /// Its value, opened.
    pub value: SecretValue,
    /// SECRET or RESTRICTED: masked wherever it could be shown.
    pub hidden: bool,
    /// RESTRICTED: released to a task only under the rules of `engine::restricted`.
    pub restricted: bool,
}

/// Every variable of a project, opened, for the engine (which decides what a task may read).
pub async fn all_for_engine(backend: &Backend, project_id: i64) -> Result<Vec<EngineVariable>> {
    let mut out = Vec::new();
    for m in row::Entity::find()
        .filter(row::Column::ProjectId.eq(project_id))
        .all(&backend.db)
        .await?
    {
        let restricted = m.kind == VariableKind::Restricted;
        let (value, hidden) = match (m.value, m.sealed_value) {
            (Some(v), _) => (SecretValue::new(v), false),
            (None, Some(sealed)) => (
                backend
                    .sealer
                    .open(&sealed, PURPOSE)
                    .map_err(|e| Error::Internal(format!("variable {}: {e}", m.name)))?,
                true,
            ),
            (None, None) => continue,
        };
        out.push(EngineVariable {
            name: m.name,
            value,
            hidden,
            restricted,
        });
    }
    Ok(out)
}

/// One variable of a project (hidden kinds without their value).
pub async fn get(
    backend: &Backend,
    actor: Actor,
    project_id: i64,
    variable_id: i64,
) -> Result<VariableRow> {
    authorize(&backend.db, actor, project_id, ProjectAction::View).await?;
    view(crate::access::scoped::find::<row::Entity>(&backend.db, project_id, variable_id).await?)
}
