// A small wrapper over the plain socket.io-client: typed events and commands, room
// membership that survives reconnects, and a connection state a UI can show.
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import type {
  Ack,
  CommandName,
  Commands,
  ConnectionEstablished,
  RoomMembership,
  ServerEventName,
  ServerEvents,
} from './types';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

/** Who we are: a development API key and a user id, or a JWT. */
export type AuthPayload = { api_key: string; user_id: string } | { token: string };

export interface ClientOptions {
  /** The server; by default the page's own origin (the dev server proxies to pulso). */
  url?: string;
  auth: AuthPayload;
  /** How long `send` waits for an ack before it rejects. */
  ackTimeoutMs?: number;
  /** Any other public socket.io-client option (e.g. `transports`, `reconnectionDelay`). */
  options?: Partial<ManagerOptions & SocketOptions>;
}

/** Everything about the connection a UI shows; a new object whenever something changes. */
export interface ConnectionSnapshot {
  state: ConnectionState;
  /** Why the connection was refused or dropped, e.g. `unauthorized: unknown api key`. */
  error: string | null;
  /** The server's greeting on the current (or last) connection. */
  session: ConnectionEstablished | null;
  /**
   * True when the current connection recovered the previous session (Socket.IO
   * connection state recovery): every event missed meanwhile was replayed, in order,
   * so what the page shows is current without reloading.
   */
  recovered: boolean;
  /** Topic and entity rooms we are in (not the automatic `user:`/`role:` rooms). */
  rooms: readonly string[];
  unreadCount: number | null;
  /** True once a try to reach the server failed, until connected again. */
  unreachable: boolean;
  /** While reconnecting: the latest moment (epoch ms) socket.io-client tries again. */
  nextTryAt: number | null;
}

export class PulsoClient {
  readonly socket: Socket;
  private current: ConnectionSnapshot = {
    state: 'connecting',
    error: null,
    session: null,
    recovered: false,
    rooms: [],
    unreadCount: null,
    unreachable: false,
    nextTryAt: null,
  };
  /** Failed or lost connections since the last connect: socket.io-client's back-off step. */
  private retries = 0;
  private readonly listeners = new Set<() => void>();
  private readonly ackTimeoutMs: number;

  constructor({ url, auth, ackTimeoutMs = 10_000, options }: ClientOptions) {
    this.ackTimeoutMs = ackTimeoutMs;
    const socketOptions: Partial<ManagerOptions & SocketOptions> = {
      autoConnect: false,
      forceNew: true,
      // Read at every (re)connect: a reconnected socket starts in the rooms we were in.
      auth: (send) => send(this.current.session ? { ...auth, rooms: this.current.rooms } : auth),
      ...options,
    };
    this.socket = url === undefined ? io(socketOptions) : io(url, socketOptions);

    this.socket.on('connect', () => {
      this.retries = 0;
      this.update({
        state: 'connected',
        error: null,
        recovered: this.socket.recovered,
        unreachable: false,
        nextTryAt: null,
      });
    });
    // `active` tells whether socket.io-client will try again by itself.
    this.socket.on('disconnect', (reason) => {
      const error = reason === 'io client disconnect' ? null : reason;
      this.update({ state: this.socket.active ? 'reconnecting' : 'disconnected', error, nextTryAt: this.nextTry() });
    });
    this.socket.on('connect_error', (error) => {
      const retrying = this.socket.active;
      this.update({
        state: retrying ? 'reconnecting' : 'disconnected',
        error: error.message,
        // A refusal (`active` false) reached the server; only a transport failure did not.
        unreachable: retrying,
        nextTryAt: this.nextTry(),
      });
    });
    this.on('connection_established', (session) => {
      this.update({ session, rooms: dashboardRooms(session.rooms) });
    });
    this.on('unread_count', ({ unread_count }) => this.update({ unreadCount: unread_count }));
  }

  get snapshot(): ConnectionSnapshot {
    return this.current;
  }

  /** Calls `listener` whenever the snapshot changes; returns the unsubscribe. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  connect(): void {
    if (this.socket.active) return;
    this.update({ state: 'connecting', error: null });
    this.socket.connect();
  }

  disconnect(): void {
    this.socket.disconnect();
  }

  /** Listens to a server event; returns the unsubscribe. */
  on<E extends ServerEventName>(event: E, handler: (payload: ServerEvents[E]) => void): () => void {
    const listener = handler as (payload: unknown) => void;
    this.socket.on(event as string, listener);
    return () => this.socket.off(event as string, listener);
  }

  /** Listens to every server event; returns the unsubscribe. */
  onAny(handler: (event: ServerEventName, payload: unknown) => void): () => void {
    this.socket.onAny(handler);
    return () => this.socket.offAny(handler);
  }

  /**
   * Sends a command and resolves with its ack, `{ ok: true, data }` or `{ ok: false, error }`.
   * Rejects only when no ack came within the timeout (e.g. while offline).
   */
  send<C extends CommandName>(command: C, data: Commands[C]['payload']): Promise<Ack<Commands[C]['result']>> {
    return this.socket.timeout(this.ackTimeoutMs).emitWithAck(command, data);
  }

  async joinRoom(room: string): Promise<Ack<RoomMembership>> {
    const ack = await this.send('join_room', { room });
    if (ack.ok) this.update({ rooms: dashboardRooms([...this.current.rooms.filter((r) => r !== room), room]) });
    return ack;
  }

  async leaveRoom(room: string): Promise<Ack<RoomMembership>> {
    const ack = await this.send('leave_room', { room });
    if (ack.ok) this.update({ rooms: this.current.rooms.filter((r) => r !== room) });
    return ack;
  }

  /**
   * The latest moment of socket.io-client's next try, counting one more retry: its
   * back-off doubles the delay at each retry up to the maximum, give or take the
   * randomization factor. Null when it will not try again.
   */
  private nextTry(): number | null {
    if (!this.socket.active) return null;
    const manager = this.socket.io;
    const delay = manager.reconnectionDelay() * 2 ** this.retries++ * (1 + manager.randomizationFactor());
    return Date.now() + Math.min(delay, manager.reconnectionDelayMax());
  }

  private update(change: Partial<ConnectionSnapshot>): void {
    this.current = { ...this.current, ...change };
    for (const listener of this.listeners) listener();
  }
}

/** The rooms a dashboard chooses: everything but the automatic `user:`/`role:` rooms. */
function dashboardRooms(rooms: string[]): string[] {
  return rooms.filter((room) => !room.startsWith('user:') && !room.startsWith('role:')).sort();
}
