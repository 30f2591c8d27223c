import { useState, type FormEvent } from 'react';
import { useWebSocketContext } from '../../contexts/WebSocketContext';
import { NO_ANSWER } from '../../lib/in-words';
import { TOPIC_ROOMS, type Ack, type RoomMembership } from '../../lib/websocket/types';

/** Narrows (or widens) what this dashboard receives, with `joinRoom` / `leaveRoom`. */
export function RoomPicker() {
  const { client, rooms } = useWebSocketContext();
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
            onChange={(e) => change(e.target.checked ? client.joinRoom(room) : client.leaveRoom(room))}
          />
          {room}
        </label>
      ))}
      {entityRooms.map((room) => (
        <span key={room} className="chip">
          {room}
          <button type="button" aria-label={`Leave ${room}`} onClick={() => change(client.leaveRoom(room))}>
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
        <button type="submit">Join</button>
      </form>
      {error && <span className="error">{error}</span>}
    </section>
  );
}
