//! Clients: create, change, read.

use sea_orm::{ActiveModelTrait, EntityTrait, QueryOrder, QuerySelect, Set};

use entity::client;

use super::{Page, PageRequest, Services, Write, now, paginate};
use crate::{
    auth::Identity,
    channels::{
        EventName, NewEvent,
        rooms::{Room, Topic},
    },
    domain::{
        clients::{ClientPatch, ClientView, NewClient},
        non_blank,
    },
    error::AppError,
};

pub async fn create(
    services: &Services,
    actor: &Identity,
    input: NewClient,
) -> Result<ClientView, AppError> {
    let mut write = Write::begin(services, actor).await?;
    let at = now();
    let row = client::ActiveModel {
        name: Set(input.name.trim().to_owned()),
        email: Set(non_blank(input.email)),
        phone: Set(non_blank(input.phone)),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(write.txn())
    .await?;
    let view = ClientView::from(row);
    write.emit(NewEvent::new(
        EventName::ClientCreated,
        Topic::Clients,
        Room::Client(view.id),
        &view,
    ));
    write.commit().await?;
    Ok(view)
}

pub async fn update(
    services: &Services,
    actor: &Identity,
    id: i64,
    patch: ClientPatch,
) -> Result<ClientView, AppError> {
    let mut write = Write::begin(services, actor).await?;
    let current = client::Entity::find_by_id(id)
        .lock_exclusive()
        .one(write.txn())
        .await?
        .ok_or_else(|| not_found(id))?;
    let mut row: client::ActiveModel = current.into();
    if let Some(name) = patch.name {
        row.name = Set(name.trim().to_owned());
    }
    if let Some(email) = patch.email {
        row.email = Set(non_blank(Some(email)));
    }
    if let Some(phone) = patch.phone {
        row.phone = Set(non_blank(Some(phone)));
    }
    row.updated_at = Set(now());
    let view = ClientView::from(row.update(write.txn()).await?);
    write.emit(NewEvent::new(
        EventName::ClientUpdated,
        Topic::Clients,
        Room::Client(view.id),
        &view,
    ));
    write.commit().await?;
    Ok(view)
}

pub async fn get(services: &Services, id: i64) -> Result<ClientView, AppError> {
    client::Entity::find_by_id(id)
        .one(&services.db)
        .await?
        .map(ClientView::from)
        .ok_or_else(|| not_found(id))
}

pub async fn list(services: &Services, page: PageRequest) -> Result<Page<ClientView>, AppError> {
    let query = client::Entity::find().order_by_asc(client::Column::Id);
    Ok(paginate(&services.db, query, page)
        .await?
        .map(ClientView::from))
}

fn not_found(id: i64) -> AppError {
    AppError::not_found(format!("no client with id {id}"))
}
