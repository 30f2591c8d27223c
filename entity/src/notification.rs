use sea_orm::entity::prelude::*;

/// A notification for one user (`user_id`) or for everyone (`user_id` is `None`).
/// Who has read it is in `notification_read`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: Option<String>,
    #[sea_orm(column_name = "type")]
    pub kind: String,
    pub subject: String,
    pub message: String,
    pub severity: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
