// Event names and payloads of pulso's wire contract (see the server's README).

export type Role = 'admin' | 'staff' | 'viewer';
export type Severity = 'info' | 'warning' | 'error' | 'critical';

export const ORDER_STATUSES = ['pending', 'confirmed', 'shipped', 'delivered', 'cancelled'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Rooms every dashboard starts in; entity rooms are `order:{id}`, `client:{id}`, `sku:{sku}`. */
export const TOPIC_ROOMS = ['orders', 'clients', 'inventory', 'alerts'] as const;

/** Money travels as a decimal string with two places, e.g. `"12.50"`. */
export type Money = string;

export interface OrderLine {
  sku: string;
  quantity: number;
  unit_price: Money;
  line_total: Money;
}

export interface Order {
  id: number;
  client_id: number;
  status: OrderStatus;
  total: Money;
  notes: string | null;
  items: OrderLine[];
  created_at: string;
  updated_at: string;
}

export interface Client {
  id: number;
  name: string;
  email: string | null;
  phone: string | null;
  created_at: string;
  updated_at: string;
}

export interface InventoryItem {
  id: number;
  sku: string;
  name: string;
  quantity: number;
  low_stock_threshold: number;
  low_stock: boolean;
  created_at: string;
  updated_at: string;
}

export interface StockLow {
  sku: string;
  name: string;
  quantity: number;
  threshold: number;
  item_id: number;
  source: 'threshold' | 'report';
  note?: string;
}

export interface StatusChange {
  order_id: number;
  from: OrderStatus;
  to: OrderStatus;
  order: Order;
}

export interface Notification {
  id: number;
  type: string;
  subject: string;
  message: string;
  severity: Severity;
  created_at: string;
  read: boolean;
  /** The recipient, or null when it went to everyone. */
  user_id: string | null;
}

export interface ReadConfirmation {
  /** null after `mark_all_read`, which lists every id in `notification_ids`. */
  notification_id: number | null;
  notification_ids: number[];
  read: true;
}

/** What every persisted (domain) event carries. */
export interface Envelope<T> {
  id: number;
  type: string;
  data: T;
  timestamp: string;
  user_id: string | null;
  room: string;
}

export interface ConnectionEstablished {
  user_id: string;
  socket_id: string;
  role: Role;
  rooms: string[];
  server_time: string;
}

export interface UnreadCount {
  unread_count: number;
}

export interface Presence {
  user_id: string;
  role: Role;
}

/** Domain events: each arrives wrapped in an {@link Envelope}. */
export interface DomainEvents {
  order_created: Order;
  order_updated: Order;
  order_status_changed: StatusChange;
  client_created: Client;
  client_updated: Client;
  inventory_updated: InventoryItem;
  stock_low: StockLow;
  notification: Notification;
  notification_read_confirmation: ReadConfirmation;
}

/** Every server → client event and the argument it carries. */
export type ServerEvents = { [E in keyof DomainEvents]: Envelope<DomainEvents[E]> } & {
  connection_established: ConnectionEstablished;
  unread_count: UnreadCount;
  user_connected: Presence;
  user_disconnected: Presence;
};
export type ServerEventName = keyof ServerEvents;

/** A `join_room` / `leave_room` ack: the room, and how many rooms the socket is in now. */
export interface RoomMembership {
  room: string;
  room_count: number;
}

export interface NewOrderLine {
  sku: string;
  quantity: number;
  unit_price: Money | number;
}

export interface BroadcastReport {
  status: 'ok';
  sent: number;
  metrics: Metrics;
}

export interface Metrics {
  total_messages_sent: number;
  total_broadcasts: number;
  total_send_errors: number;
  last_broadcast_at: string | null;
}

/** Client → server commands: what each one takes and what its ack carries. */
export interface Commands {
  join_room: { payload: string | { room: string }; result: RoomMembership };
  leave_room: { payload: string | { room: string }; result: RoomMembership };
  'client:create': { payload: { name: string; email?: string; phone?: string }; result: Client };
  'client:update': {
    payload: { id: number; name?: string; email?: string; phone?: string };
    result: Client;
  };
  'inventory:update': {
    /** `threshold` is accepted as an alias of `low_stock_threshold`. */
    payload: { sku: string; name?: string; quantity?: number; delta?: number; low_stock_threshold?: number };
    result: InventoryItem;
  };
  stock_low: { payload: { sku: string; quantity?: number; note?: string }; result: StockLow };
  'order:create': {
    payload: { client_id: number; items: NewOrderLine[]; notes?: string };
    result: Order;
  };
  'order:update': { payload: { id: number; status?: OrderStatus; notes?: string }; result: Order };
  'notification:send': {
    payload: { user_id: string | null; subject: string; message: string; severity?: Severity };
    result: Notification;
  };
  mark_read: { payload: { notification_id: number }; result: ReadConfirmation };
  mark_all_read: { payload: Record<string, never>; result: ReadConfirmation };
  get_unread_count: { payload: Record<string, never>; result: UnreadCount };
  'admin:test_broadcast': {
    payload: { title: string; content: string; level: Severity };
    result: BroadcastReport;
  };
}
export type CommandName = keyof Commands;

export type ErrorCode =
  'invalid' | 'unauthorized' | 'forbidden' | 'not_found' | 'conflict' | 'rate_limited' | 'internal';

export interface CommandError {
  code: ErrorCode;
  message: string;
  /** Bad field (`items[0].quantity`) → what is wrong with it. */
  fields?: Record<string, string>;
}

export type Ack<T> = { ok: true; data: T } | { ok: false; error: CommandError };
