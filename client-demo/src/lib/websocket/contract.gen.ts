// Generated from docs/asyncapi.json and docs/openapi.json by client-demo/scripts/generate-types.mjs: do not edit.
// Regenerate with `npm run types` in client-demo/; `npm run build` fails while this file is stale.

/**
 * How urgent a notification is. The older `priority` names are accepted too:
 * `low` → info, `normal` → warning, `high` → error, `urgent` → critical.
 *
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "Severity".
 */
export type Severity = 'info' | 'warning' | 'error' | 'critical';
/**
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "OrderStatus".
 */
export type OrderStatus = 'pending' | 'confirmed' | 'shipped' | 'delivered' | 'cancelled';
/**
 * The events a producer may publish.
 *
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "PublishedType".
 */
export type PublishedType =
  | (
      | 'order_created'
      | 'order_updated'
      | 'order_status_changed'
      | 'client_created'
      | 'client_updated'
      | 'inventory_updated'
      | 'stock_low'
    )
  | 'notification';
/**
 * Why a `stock_low` alert went out.
 *
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "AlertSource".
 */
export type AlertSource = 'threshold' | 'report';
/**
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "Role".
 */
export type Role = ('admin' | 'staff' | 'viewer') | 'service';
/**
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "ErrorCode".
 */
export type ErrorCode =
  | ('invalid' | 'unauthorized' | 'forbidden' | 'not_found' | 'conflict' | 'rate_limited' | 'internal')
  | 'cursor_expired';
/**
 * A room with a fixed name, joined with `join_room`.
 *
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "TopicRoom".
 */
export type TopicRoom = 'alerts' | 'clients' | 'inventory' | 'orders';

/**
 * pulso's wire contract: the commands a client sends and the events it receives.
 */
export interface PulsoContract {
  commands: Commands;
  events: ServerEvents;
}
/**
 * Each command (an event sent with an ack): its payload, and the `data` of a successful ack.
 *
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "Commands".
 */
export interface Commands {
  'admin:test_broadcast': {
    payload: TestBroadcast;
    result: BroadcastReport;
  };
  'client:create': {
    payload: NewClient;
    result: Client;
  };
  'client:update': {
    /**
     * A change to a client: absent fields stay as they are; an empty `email` or `phone` clears it.
     */
    payload: {
      email?: string | null;
      id: number;
      name?: string | null;
      phone?: string | null;
    };
    result: Client;
  };
  get_unread_count: {
    /**
     * No argument (one may be sent: it is ignored)
     */
    payload: unknown;
    result: UnreadCount;
  };
  'inventory:update': {
    payload: ItemUpdate;
    result: InventoryItem;
  };
  join_room: {
    payload:
      | string
      | {
          /**
           * orders, clients, inventory, alerts, order:{id}, client:{id} or sku:{sku}
           */
          room: string;
        };
    result: RoomMembership;
  };
  leave_room: {
    payload:
      | string
      | {
          /**
           * orders, clients, inventory, alerts, order:{id}, client:{id} or sku:{sku}
           */
          room: string;
        };
    result: RoomMembership;
  };
  mark_all_read: {
    /**
     * No argument (one may be sent: it is ignored)
     */
    payload: unknown;
    result: ReadConfirmation;
  };
  mark_read: {
    payload: MarkRead;
    result: ReadConfirmation;
  };
  'notification:send': {
    payload: NewNotification;
    result: Notification;
  };
  'order:create': {
    payload: NewOrder;
    result: Order;
  };
  'order:update': {
    /**
     * A change to an order: a new status, new notes, or both. Empty notes clear them.
     */
    payload: {
      id: number;
      notes?: string | null;
      status?: OrderStatus | null;
    };
    result: Order;
  };
  publish: {
    payload: PublishEvent | PublishBatch;
    result: Published;
  };
  stock_low: {
    payload: StockLowReport;
    result: StockLow;
  };
}
/**
 * `admin:test_broadcast` / `POST /ws/_test/broadcast`.
 *
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "TestBroadcast".
 */
export interface TestBroadcast {
  content?: string;
  /**
   * Also accepted as `severity`.
   */
  level?: Severity & string;
  title?: string;
}
/**
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "BroadcastReport".
 */
export interface BroadcastReport {
  metrics: Metrics;
  /**
   * Sockets on this node the notification reached.
   */
  sent: number;
  status: 'ok';
}
/**
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "Metrics".
 */
export interface Metrics {
  last_broadcast_at: string | null;
  total_broadcasts: number;
  total_messages_sent: number;
  total_send_errors: number;
}
/**
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "NewClient".
 */
export interface NewClient {
  email?: string | null;
  name: string;
  phone?: string | null;
}
/**
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "Client".
 */
export interface Client {
  created_at: string;
  email: string | null;
  id: number;
  name: string;
  phone: string | null;
  updated_at: string;
}
/**
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "UnreadCount".
 */
export interface UnreadCount {
  unread_count: number;
}
/**
 * `inventory:update`: set `quantity` or move it by `delta`, and optionally rename or
 * change the threshold. An unknown SKU is created when a `name` is given.
 *
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "ItemUpdate".
 */
export interface ItemUpdate {
  delta?: number | null;
  /**
   * Also accepted as `threshold`.
   */
  low_stock_threshold?: number | null;
  name?: string | null;
  quantity?: number | null;
  sku: string;
}
/**
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "InventoryItem".
 */
export interface InventoryItem {
  created_at: string;
  id: number;
  /**
   * True when `quantity` is at or below `low_stock_threshold`.
   */
  low_stock: boolean;
  low_stock_threshold: number;
  name: string;
  quantity: number;
  sku: string;
  updated_at: string;
}
/**
 * What `join_room` and `leave_room` answer: the room and how many the socket is in now
 * (not their names, so an ack stays small however many rooms a socket holds).
 *
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "RoomMembership".
 */
export interface RoomMembership {
  room: string;
  room_count: number;
}
/**
 * `notification_read_confirmation`: one notification, or with `mark_all_read` every
 * one that was unread (`notification_id` is then `null`).
 *
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "ReadConfirmation".
 */
export interface ReadConfirmation {
  notification_id: number | null;
  notification_ids: number[];
  read: true;
}
/**
 * `mark_read { notification_id }`.
 *
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "MarkRead".
 */
export interface MarkRead {
  notification_id: number;
}
/**
 * `notification:send` / `POST /api/notifications`. `user_id: null` (or absent) means
 * everyone.
 *
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "NewNotification".
 */
export interface NewNotification {
  message: string;
  /**
   * Also accepted as `priority`.
   */
  severity?: Severity & string;
  subject: string;
  type?: string;
  user_id?: string | number | null;
}
/**
 * A notification as its reader sees it (`read` is that reader's state).
 *
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "Notification".
 */
export interface Notification {
  created_at: string;
  id: number;
  message: string;
  read: boolean;
  severity: Severity;
  subject: string;
  type: string;
  /**
   * The recipient, or `null` for everyone.
   */
  user_id: string | null;
}
/**
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "NewOrder".
 */
export interface NewOrder {
  client_id: number;
  /**
   * @minItems 1
   * @maxItems 100
   */
  items: NewOrderLine[];
  notes?: string | null;
}
/**
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "NewOrderLine".
 */
export interface NewOrderLine {
  quantity: number;
  sku: string;
  /**
   * A non-negative amount with at most two decimals, as a string ("12.50") or a number (12.5)
   */
  unit_price: string | number;
}
/**
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "Order".
 */
export interface Order {
  client_id: number;
  created_at: string;
  id: number;
  /**
   * @minItems 1
   * @maxItems 100
   */
  items: OrderLine[];
  notes: string | null;
  status: OrderStatus;
  /**
   * An amount with two decimals, e.g. "12.50"
   */
  total: string;
  updated_at: string;
}
/**
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "OrderLine".
 */
export interface OrderLine {
  /**
   * An amount with two decimals, e.g. "12.50"
   */
  line_total: string;
  quantity: number;
  sku: string;
  /**
   * An amount with two decimals, e.g. "12.50"
   */
  unit_price: string;
}
/**
 * One event: `{ type, data, idempotency_key? }`.
 *
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "PublishEvent".
 */
export interface PublishEvent {
  /**
   * As in `PublishedEvent`.
   */
  data: {
    [k: string]: unknown;
  };
  /**
   * As in `PublishBatch`.
   */
  idempotency_key?: string | null;
  type: PublishedType;
}
/**
 * Several events in one request, published together or not at all.
 *
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "PublishBatch".
 */
export interface PublishBatch {
  /**
   * @minItems 1
   * @maxItems 100
   */
  events: PublishedEvent[];
  /**
   * A retry with the same key (same credential, within a day) answers the first
   * result and publishes nothing new.
   */
  idempotency_key?: string | null;
}
/**
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "PublishedEvent".
 */
export interface PublishedEvent {
  /**
   * The event's data, as pulso sends it in the envelope (`Order`, `Client`, …); for
   * `notification`, a `NewNotification`.
   */
  data: {
    [k: string]: unknown;
  };
  type: PublishedType;
}
/**
 * What a publish answers: the events as logged (and sent), and whether they were
 * logged by an earlier request with the same idempotency key.
 *
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "Published".
 */
export interface Published {
  events: Envelope[];
  replayed: boolean;
}
/**
 * What every server→client domain event carries.
 *
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "Envelope".
 */
export interface Envelope {
  data: unknown;
  id: number;
  room: string;
  timestamp: string;
  type: string;
  user_id: string | null;
}
/**
 * `stock_low` reported by a client: the SKU, optionally the quantity seen and a note.
 *
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "StockLowReport".
 */
export interface StockLowReport {
  note?: string | null;
  quantity?: number | null;
  sku: string;
}
/**
 * The `stock_low` event's data.
 *
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "StockLow".
 */
export interface StockLow {
  item_id: number;
  name: string;
  /**
   * Only when the report had one.
   */
  note?: string;
  quantity: number;
  sku: string;
  source: AlertSource;
  threshold: number;
}
/**
 * Each server → client event and its payload (logged events arrive in their envelope).
 *
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "ServerEvents".
 */
export interface ServerEvents {
  client_created: ClientCreatedEnvelope;
  client_updated: ClientUpdatedEnvelope;
  connection_established: ConnectionEstablished;
  inventory_updated: InventoryUpdatedEnvelope;
  notification: NotificationEnvelope;
  notification_read_confirmation: NotificationReadConfirmationEnvelope;
  order_created: OrderCreatedEnvelope;
  order_status_changed: OrderStatusChangedEnvelope;
  order_updated: OrderUpdatedEnvelope;
  stock_low: StockLowEnvelope;
  unread_count: UnreadCount;
  user_connected: Presence;
  user_disconnected: Presence;
}
/**
 * What every server→client domain event carries.
 */
export interface ClientCreatedEnvelope {
  data: Client;
  id: number;
  room: string;
  timestamp: string;
  type: 'client_created';
  user_id: string | null;
}
/**
 * What every server→client domain event carries.
 */
export interface ClientUpdatedEnvelope {
  data: Client;
  id: number;
  room: string;
  timestamp: string;
  type: 'client_updated';
  user_id: string | null;
}
/**
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "ConnectionEstablished".
 */
export interface ConnectionEstablished {
  role: Role;
  rooms: string[];
  server_time: string;
  socket_id: string;
  user_id: string;
}
/**
 * What every server→client domain event carries.
 */
export interface InventoryUpdatedEnvelope {
  data: InventoryItem;
  id: number;
  room: string;
  timestamp: string;
  type: 'inventory_updated';
  user_id: string | null;
}
/**
 * What every server→client domain event carries.
 */
export interface NotificationEnvelope {
  data: Notification;
  id: number;
  room: string;
  timestamp: string;
  type: 'notification';
  user_id: string | null;
}
/**
 * What every server→client domain event carries.
 */
export interface NotificationReadConfirmationEnvelope {
  data: ReadConfirmation;
  id: number;
  room: string;
  timestamp: string;
  type: 'notification_read_confirmation';
  user_id: string | null;
}
/**
 * What every server→client domain event carries.
 */
export interface OrderCreatedEnvelope {
  data: Order;
  id: number;
  room: string;
  timestamp: string;
  type: 'order_created';
  user_id: string | null;
}
/**
 * What every server→client domain event carries.
 */
export interface OrderStatusChangedEnvelope {
  data: StatusChange;
  id: number;
  room: string;
  timestamp: string;
  type: 'order_status_changed';
  user_id: string | null;
}
/**
 * The `order_status_changed` event's data.
 *
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "StatusChange".
 */
export interface StatusChange {
  from: OrderStatus;
  order: Order;
  order_id: number;
  to: OrderStatus;
}
/**
 * What every server→client domain event carries.
 */
export interface OrderUpdatedEnvelope {
  data: Order;
  id: number;
  room: string;
  timestamp: string;
  type: 'order_updated';
  user_id: string | null;
}
/**
 * What every server→client domain event carries.
 */
export interface StockLowEnvelope {
  data: StockLow;
  id: number;
  room: string;
  timestamp: string;
  type: 'stock_low';
  user_id: string | null;
}
/**
 * A connected user: the payload of `user_connected` / `user_disconnected`, and an
 * entry of `GET /api/presence`.
 *
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "Presence".
 */
export interface Presence {
  role: Role;
  user_id: string;
}
/**
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "Adjust".
 */
export interface Adjust {
  delta: number;
}
/**
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "ApiError".
 */
export interface ApiError {
  code: ErrorCode;
  /**
   * Each bad field, named as the client sent it (`items[0].quantity`), and what is
   * wrong with it, in words a form can show.
   */
  fields?: {
    [k: string]: string;
  } | null;
  message: string;
  /**
   * With `rate_limited`: how long to wait before trying again.
   */
  retry_after_ms?: number | null;
}
/**
 * A change to a client: absent fields stay as they are; an empty `email` or `phone` clears it.
 *
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "ClientPatch".
 */
export interface ClientPatch {
  email?: string | null;
  name?: string | null;
  phone?: string | null;
}
/**
 * The stats of every node together, and each node's beside them.
 *
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "ClusterStats".
 */
export interface ClusterStats {
  connections_by_role: {
    [k: string]: number;
  };
  heartbeat_interval: number;
  metrics: Metrics;
  nodes: NodeStats[];
  rooms: {
    [k: string]: number;
  };
  total_connections: number;
  unique_users: number;
}
/**
 * One node's stats, as the cluster shares them.
 *
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "NodeStats".
 */
export interface NodeStats {
  connections_by_role: {
    [k: string]: number;
  };
  heartbeat_interval: number;
  metrics: Metrics;
  node_id: string;
  /**
   * Milliseconds since the epoch when the node reported them.
   */
  reported_at: number;
  rooms: {
    [k: string]: number;
  };
  total_connections: number;
  unique_users: number;
}
/**
 * What a refused HTTP request answers.
 *
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "ErrorBody".
 */
export interface ErrorBody {
  error: ApiError;
}
/**
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "EventPage".
 */
export interface EventPage {
  events: Envelope[];
  /**
   * The id to pass as `after` for the next page (the last id seen, or `after` itself).
   */
  next_after: number;
}
/**
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "NewItem".
 */
export interface NewItem {
  /**
   * Also accepted as `threshold`.
   */
  low_stock_threshold?: number;
  name: string;
  quantity?: number;
  sku: string;
}
/**
 * `POST /api/orders/{id}/status`.
 *
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "NewStatus".
 */
export interface NewStatus {
  status: OrderStatus;
}
/**
 * Who is connected now.
 *
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "Online".
 */
export interface Online {
  users: Presence[];
}
/**
 * A change to an order: a new status, new notes, or both. Empty notes clear them.
 *
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "OrderPatch".
 */
export interface OrderPatch {
  notes?: string | null;
  status?: OrderStatus | null;
}
/**
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "OrdersByStatus".
 */
export interface OrdersByStatus {
  cancelled: number;
  confirmed: number;
  delivered: number;
  pending: number;
  shipped: number;
}
/**
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "PageOfClient".
 */
export interface PageOfClient {
  items: Client[];
  limit: number;
  offset: number;
  total: number;
}
/**
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "PageOfInventoryItem".
 */
export interface PageOfInventoryItem {
  items: InventoryItem[];
  limit: number;
  offset: number;
  total: number;
}
/**
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "PageOfNotification".
 */
export interface PageOfNotification {
  items: Notification[];
  limit: number;
  offset: number;
  total: number;
}
/**
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "PageOfOrder".
 */
export interface PageOfOrder {
  items: Order[];
  limit: number;
  offset: number;
  total: number;
}
/**
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "StatsReply".
 */
export interface StatsReply {
  stats: ClusterStats;
  status: 'ok';
  timestamp: string;
}
/**
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "Summary".
 */
export interface Summary {
  /**
   * When the figures were taken.
   */
  as_of: string;
  /**
   * Items at or below their low-stock threshold.
   */
  low_stock_items: number;
  /**
   * Every order, whatever its day, by its status now.
   */
  orders_by_status: OrdersByStatus;
  /**
   * Orders created since midnight UTC, whatever their status.
   */
  orders_today: number;
  /**
   * The total of those orders, cancelled ones excluded.
   */
  revenue_today: string;
}
/**
 * This interface was referenced by `PulsoContract`'s JSON-Schema
 * via the `definition` "AckError".
 */
export interface AckError {
  error: ApiError;
  ok: false;
}
