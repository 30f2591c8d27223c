use sea_orm::entity::prelude::*;

/// One persisted domain event: the event log that clients replay with `GET /api/events?after=ID`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(column_name = "type")]
    pub event_type: String,
    pub room: String,
    /// The entity room the event also went to (`order:7`, `sku:A-1`), if any.
    pub entity: Option<String>,
    pub data: Json,
    pub user_id: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
