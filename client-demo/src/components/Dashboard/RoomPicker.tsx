import { useState, type FormEvent } from 'react';
import { useWebSocketContext } from '../../contexts/WebSocketContext';
import { NO_ANSWER } from '../../lib/in-words';
import { TOPIC_ROOMS, type Ack, type RoomMembership, type TopicRoom } from '../../lib/websocket/types';

/** The topic rooms a dashboard has left (none before it first connected). */
export function unfollowedTopics(rooms: readonly string[], connectedOnce: boolean): TopicRoom[] {
  return connectedOnce ? TOPIC_ROOMS.filter((room) => !rooms.includes(room)) : [];
}

/** What the page stops showing when it leaves a topic room. */
const UNFOLLOWED: Record<TopicRoom, string> = {
  orders: 'new orders and status changes stop arriving; the orders table and figures no longer update live.',
  clients: 'new clients stop arriving; they no longer appear in the order form.',
  inventory: 'stock changes stop arriving; the inventory table no longer updates live.',
  alerts: 'stock-low alerts and their notices stop arriving.',
};

/** Narrows (or widens) what this dashboard receives, with `joinRoom` / `leaveRoom`. */
export function RoomPicker() {
  const { client, rooms, session, state } = useWebSocketContext();
  const offline = state !== 'connected';
  const [entityRoom, setEntityRoom] = useState('');
  const [error, setError] = useState<string | null>(null);
  const entityRooms = rooms.filter((room) => !(TOPIC_ROOMS as readonly string[]).includes(room));

  async function change(request: Promise<Ack<RoomMembership>>): Promise<boolean> {
    setError(null);
    try {
      const ack = await request;
      if (!ack.ok) setError(`The server refused: ${ack.error.fields?.room ?? ack.error.message}`);
      return ack.ok;
    } catch {
      setError(NO_ANSWER);
      return false;
    }
  }

  async function joinEntityRoom(event: FormEvent) {
    event.preventDefault();
    if (await change(client.joinRoom(entityRoom.trim()))) setEntityRoom('');
  }

  return (
    <section className="panel rooms" aria-label="Rooms">
      <strong>Rooms</strong>
      {TOPIC_ROOMS.map((room) => (
        <label key={room}>
          <input
            type="checkbox"
            checked={rooms.includes(room)}
            disabled={offline}
            onChange={(e) => change(e.target.checked ? client.joinRoom(room) : client.leaveRoom(room))}
          />
          {room}
        </label>
      ))}
      {unfollowedTopics(rooms, session !== null).map((room) => (
        <p key={room} className="unfollowed">
          Not following {room}: {UNFOLLOWED[room]}
        </p>
      ))}
      {entityRooms.map((room) => (
        <span key={room} className="chip">
          {room}
          <button
            type="button"
            aria-label={`Leave ${room}`}
            disabled={offline}
            onClick={() => change(client.leaveRoom(room))}
          >
            ×
          </button>
        </span>
      ))}
      <form onSubmit={joinEntityRoom}>
        <input
          value={entityRoom}
          onChange={(e) => setEntityRoom(e.target.value)}
          placeholder="sku:A-1, order:7, client:3"
          aria-label="Room to join"
        />
        <button type="submit" disabled={offline}>
          Join
        </button>
      </form>
      {error && <span className="error">{error}</span>}
    </section>
  );
}
