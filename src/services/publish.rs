//! Publishing for a producer that owns its data (`POST /api/publish`, the `publish`
//! command): its events go into the log and out to the same rooms, in the same envelope,
//! as the events pulso makes, and once only per idempotency key.

use chrono::TimeDelta;
use schemars::JsonSchema;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use entity::{event, publication};

use super::{Services, Write, notifications, now};
use crate::{
    auth::Identity,
    channels::{
        Envelope, EventName, NewEvent,
        rooms::{Room, Topic},
    },
    domain::published::{self, Data, Publication, PublishedType},
    error::{AppError, ErrorCode},
    telemetry,
};

/// How long an idempotency key answers its first result.
pub(super) const KEY_WINDOW: TimeDelta = TimeDelta::hours(24);

/// What a publish answers: the events as logged (and sent), and whether they were
/// logged by an earlier request with the same idempotency key.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Published {
    pub events: Vec<Envelope>,
    pub replayed: bool,
}

pub async fn publish(
    services: &Services,
    actor: &Identity,
    relay: bool,
    publication: Publication,
) -> Result<Published, AppError> {
    let result = match services
        .publish_rate
        .take(&scope_of(actor), "PULSO_PUBLISH_RATE_LIMIT")
    {
        Ok(()) => publish_checked(services, actor, relay, &publication).await,
        Err(refused) => Err(refused),
    };
    for event in &publication.events {
        let outcome = match &result {
            Ok(published) if published.replayed => "replayed",
            Ok(_) => "published",
            Err(error) => error.code.as_str(),
        };
        telemetry::record_published(event_name(event.kind).as_str(), outcome);
    }
    result
}

async fn publish_checked(
    services: &Services,
    actor: &Identity,
    relay: bool,
    publication: &Publication,
) -> Result<Published, AppError> {
    let events = published::checked(publication)?;
    if let Some((kind, _)) = events
        .iter()
        .find(|(kind, _)| *kind != PublishedType::Notification)
        && !relay
    {
        return Err(AppError::conflict(format!(
            "pulso owns orders, clients and inventory here: publishing {} needs relay mode (PULSO_RELAY=true)",
            event_name(*kind).as_str()
        )));
    }
    let remember = publication.idempotency_key.as_ref().map(|key| Remember {
        scope: scope_of(actor),
        key: key.clone(),
        digest: digest_of(actor, publication),
    });
    if let Some(remember) = &remember
        && let Some(events) = remember.earlier(services).await?
    {
        return Ok(Published {
            events,
            replayed: true,
        });
    }
    let mut write = Write::begin(services, actor).await?;
    let mut notified = Vec::new();
    for (kind, data) in events {
        // Each to the topic and entity rooms pulso's own event of that type goes to.
        let name = event_name(kind);
        let event = match data {
            Data::Notification(input) => {
                notified.push(notifications::record(&mut write, input).await?);
                continue;
            }
            Data::Order(order) => NewEvent::new(name, Topic::Orders, Room::Order(order.id), &order),
            Data::StatusChange(change) => {
                NewEvent::new(name, Topic::Orders, Room::Order(change.order_id), &change)
            }
            Data::Client(client) => {
                NewEvent::new(name, Topic::Clients, Room::Client(client.id), &client)
            }
            Data::Item(item) => {
                NewEvent::new(name, Topic::Inventory, Room::Sku(item.sku.clone()), &item)
            }
            Data::StockLow(alert) => {
                NewEvent::new(name, Topic::Alerts, Room::Sku(alert.sku.clone()), &alert)
            }
        };
        write.emit(event);
    }
    if let Some(remember) = remember.clone() {
        write.remember_as(remember);
    }
    let committed = match (write.commit_unpublished().await, &remember) {
        (Ok(committed), _) => committed,
        // The same key committed meanwhile (another node, a concurrent retry): its answer.
        (Err(error), Some(remember)) if error.code == ErrorCode::Conflict => {
            let events = remember.earlier(services).await?.ok_or(error)?;
            return Ok(Published {
                events,
                replayed: true,
            });
        }
        (Err(error), _) => return Err(error),
    };
    let events = committed.envelopes();
    committed.publish().await;
    for notification in &notified {
        notifications::push_unread_counts(services, notification).await;
    }
    Ok(Published {
        events,
        replayed: false,
    })
}

fn event_name(kind: PublishedType) -> EventName {
    match kind {
        PublishedType::OrderCreated => EventName::OrderCreated,
        PublishedType::OrderUpdated => EventName::OrderUpdated,
        PublishedType::OrderStatusChanged => EventName::OrderStatusChanged,
        PublishedType::ClientCreated => EventName::ClientCreated,
        PublishedType::ClientUpdated => EventName::ClientUpdated,
        PublishedType::InventoryUpdated => EventName::InventoryUpdated,
        PublishedType::StockLow => EventName::StockLow,
        PublishedType::Notification => EventName::Notification,
    }
}

/// Whose idempotency keys these are: the key's fingerprint when a key speaks for the
/// users it names, else the user.
fn scope_of(actor: &Identity) -> String {
    match &actor.delegated_by {
        Some(fingerprint) => format!("key:{fingerprint}"),
        None => format!("user:{}", actor.user_id),
    }
}

/// What a request publishes, as the user it names and its events' canonical JSON (object
/// keys sorted).
fn digest_of(actor: &Identity, publication: &Publication) -> String {
    let request = serde_json::json!([actor.user_id, publication.events]);
    let digest = Sha256::digest(request.to_string());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// An idempotency key, under its credential, and what it publishes.
#[derive(Debug, Clone)]
pub struct Remember {
    scope: String,
    key: String,
    digest: String,
}

impl Remember {
    /// The events an earlier request with this key logged, within the window.
    async fn earlier(&self, services: &Services) -> Result<Option<Vec<Envelope>>, AppError> {
        let db = &services.db;
        let found = publication::Entity::find_by_id((self.scope.clone(), self.key.clone()))
            .filter(publication::Column::CreatedAt.gt(now() - KEY_WINDOW))
            .one(db)
            .await?;
        let Some(found) = found else {
            return Ok(None);
        };
        if found.request_digest != self.digest {
            return Err(AppError::conflict(format!(
                "idempotency_key `{}` already published other events (or for another user): use a new key for new events",
                self.key
            ))
            .on_field("idempotency_key", "was already used for other events"));
        }
        let ids: Vec<i64> = serde_json::from_str(&found.event_ids).map_err(|error| {
            tracing::error!(%error, "unreadable publication row");
            AppError::internal()
        })?;
        let rows = event::Entity::find()
            .filter(event::Column::Id.is_in(ids))
            .order_by_asc(event::Column::Id)
            .all(db)
            .await?;
        Ok(Some(rows.into_iter().map(Envelope::from).collect()))
    }

    /// Notes the logged events' ids under the key, in the write's transaction; a key
    /// past its window is reused.
    pub(super) async fn record(
        self,
        txn: &DatabaseTransaction,
        ids: Vec<i64>,
    ) -> Result<(), sea_orm::DbErr> {
        publication::Entity::delete_many()
            .filter(publication::Column::Scope.eq(&self.scope))
            .filter(publication::Column::IdempotencyKey.eq(&self.key))
            .filter(publication::Column::CreatedAt.lte(now() - KEY_WINDOW))
            .exec(txn)
            .await?;
        publication::ActiveModel {
            scope: Set(self.scope),
            idempotency_key: Set(self.key),
            request_digest: Set(self.digest),
            event_ids: Set(serde_json::Value::from(ids).to_string()),
            created_at: Set(now()),
        }
        .insert(txn)
        .await?;
        Ok(())
    }
}
