use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Clients::Table)
                    .col(big_pk_auto(Clients::Id))
                    .col(string(Clients::Name))
                    .col(string_null(Clients::Email))
                    .col(string_null(Clients::Phone))
                    .col(timestamp_with_time_zone(Clients::CreatedAt))
                    .col(timestamp_with_time_zone(Clients::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(InventoryItems::Table)
                    .col(big_pk_auto(InventoryItems::Id))
                    .col(string_uniq(InventoryItems::Sku))
                    .col(string(InventoryItems::Name))
                    .col(
                        big_integer(InventoryItems::Quantity)
                            .check(Expr::col(InventoryItems::Quantity).gte(0)),
                    )
                    .col(
                        big_integer(InventoryItems::LowStockThreshold)
                            .check(Expr::col(InventoryItems::LowStockThreshold).gte(0)),
                    )
                    .col(timestamp_with_time_zone(InventoryItems::CreatedAt))
                    .col(timestamp_with_time_zone(InventoryItems::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Orders::Table)
                    .col(big_pk_auto(Orders::Id))
                    .col(big_integer(Orders::ClientId))
                    .col(string(Orders::Status))
                    .col(big_integer(Orders::TotalCents))
                    .col(text_null(Orders::Notes))
                    .col(timestamp_with_time_zone(Orders::CreatedAt))
                    .col(timestamp_with_time_zone(Orders::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Orders::Table, Orders::ClientId)
                            .to(Clients::Table, Clients::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_orders_status")
                    .table(Orders::Table)
                    .col(Orders::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OrderItems::Table)
                    .col(big_pk_auto(OrderItems::Id))
                    .col(big_integer(OrderItems::OrderId))
                    .col(string(OrderItems::Sku))
                    .col(big_integer(OrderItems::Quantity))
                    .col(big_integer(OrderItems::UnitPriceCents))
                    .foreign_key(
                        ForeignKey::create()
                            .from(OrderItems::Table, OrderItems::OrderId)
                            .to(Orders::Table, Orders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_order_items_order_id")
                    .table(OrderItems::Table)
                    .col(OrderItems::OrderId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(big_pk_auto(Notifications::Id))
                    .col(string_null(Notifications::UserId))
                    .col(string(Notifications::Type))
                    .col(string(Notifications::Subject))
                    .col(text(Notifications::Message))
                    .col(string(Notifications::Severity))
                    .col(boolean(Notifications::Read).default(false))
                    .col(timestamp_with_time_zone(Notifications::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_notifications_user_read")
                    .table(Notifications::Table)
                    .col(Notifications::UserId)
                    .col(Notifications::Read)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Events::Table)
                    .col(big_pk_auto(Events::Id))
                    .col(string(Events::Type))
                    .col(string(Events::Room))
                    .col(json(Events::Data))
                    .col(string_null(Events::UserId))
                    .col(timestamp_with_time_zone(Events::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Events::Table.into_iden(),
            Notifications::Table.into_iden(),
            OrderItems::Table.into_iden(),
            Orders::Table.into_iden(),
            InventoryItems::Table.into_iden(),
            Clients::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
    Name,
    Email,
    Phone,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum InventoryItems {
    Table,
    Id,
    Sku,
    Name,
    Quantity,
    LowStockThreshold,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    ClientId,
    Status,
    TotalCents,
    Notes,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OrderItems {
    Table,
    Id,
    OrderId,
    Sku,
    Quantity,
    UnitPriceCents,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    UserId,
    Type,
    Subject,
    Message,
    Severity,
    Read,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
    Type,
    Room,
    Data,
    UserId,
    CreatedAt,
}
