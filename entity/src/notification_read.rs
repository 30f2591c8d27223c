use sea_orm::entity::prelude::*;

/// `user_id` has read notification `notification_id`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_reads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub notification_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: String,
    pub read_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
