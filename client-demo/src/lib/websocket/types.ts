// pulso's wire contract as the app uses it: the types generated from the server's
// AsyncAPI document (contract.gen.ts), plus names and lists derived from them.
import type { AckError, ApiError, Commands, OrderStatus, ServerEvents, Severity, TopicRoom } from './contract.gen';

export type * from './contract.gen';

export type CommandName = keyof Commands;
export type ServerEventName = keyof ServerEvents;

/** A logged event's envelope, by its data: `Envelope<Client>` is `client_created` or `client_updated`. */
export type Envelope<T = unknown> = Extract<ServerEvents[ServerEventName], { data: T }>;

/** What a command's ack answers. */
export type Ack<T> = { ok: true; data: T } | AckError;

/** Why a command failed: its ack's `error`. */
export type CommandError = ApiError;

/**
 * `values`, which the compiler checks hold every member of the union `T`: a member the
 * contract gains is a compile error naming it, not an option the UI silently lacks.
 */
function everyMember<T extends string>() {
  return <const L extends readonly T[]>(
    values: L & ([Exclude<T, L[number]>] extends [never] ? unknown : { missing: Exclude<T, L[number]> }),
  ): L => values;
}

export const ORDER_STATUSES = everyMember<OrderStatus>()(['pending', 'confirmed', 'shipped', 'delivered', 'cancelled']);

/**
 * The moves the server allows from each status (its `OrderStatus::can_move_to`):
 * pending → confirmed → shipped → delivered, and any status not yet final → cancelled.
 */
export const NEXT_STATUSES: Record<OrderStatus, readonly OrderStatus[]> = {
  pending: ['confirmed', 'cancelled'],
  confirmed: ['shipped', 'cancelled'],
  shipped: ['delivered', 'cancelled'],
  delivered: [],
  cancelled: [],
};

export const SEVERITIES = everyMember<Severity>()(['info', 'warning', 'error', 'critical']);

/** Rooms every dashboard starts in; entity rooms are `order:{id}`, `client:{id}`, `sku:{sku}`. */
export const TOPIC_ROOMS = everyMember<TopicRoom>()(['orders', 'clients', 'inventory', 'alerts']);
