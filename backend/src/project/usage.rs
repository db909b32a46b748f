//! Which Docker webhook cards use an endpoint or a pipeline, so that neither is deleted from
//! under a card. (Which pipelines name an endpoint is `pipelines::using_endpoint`: it reads
//! their definitions.) Reads the cards' table only, so the project's resources need nothing of
//! the triggers that use them.

use crate::platform::entities::docker_webhooks as card;
use crate::Result;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

/// The names of the cards that take images from endpoint `endpoint_id`.
pub async fn cards_using_endpoint(
    db: &impl ConnectionTrait,
    endpoint_id: i64,
) -> Result<Vec<String>> {
    Ok(card::Entity::find()
        .select_only()
        .column(card::Column::Name)
        .filter(card::Column::EndpointId.eq(endpoint_id))
        .into_tuple::<String>()
        .all(db)
        .await?)
}

/// The names of the cards that run pipeline `pipeline_id`.
pub async fn cards_using_pipeline(
    db: &impl ConnectionTrait,
    pipeline_id: i64,
) -> Result<Vec<String>> {
    Ok(card::Entity::find()
        .select_only()
        .column(card::Column::Name)
        .filter(card::Column::PipelineId.eq(pipeline_id))
        .into_tuple::<String>()
        .all(db)
        .await?)
}
