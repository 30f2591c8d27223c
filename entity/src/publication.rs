use sea_orm::entity::prelude::*;

/// A producer's publish request under an idempotency key, and the events it logged.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "publications")]
pub struct Model {
    /// The credential that published (a key's fingerprint, or `user:` and its user).
    #[sea_orm(primary_key, auto_increment = false)]
    pub scope: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub idempotency_key: String,
    /// What was published (the user and the events), so that the key reused for
    /// something else is refused rather than answered with the first result.
    pub request_digest: String,
    /// The logged events' ids, as a JSON array.
    pub event_ids: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
