import { useWebSocketContext } from '../../contexts/WebSocketContext';
import { usePresence } from '../../hooks/use-presence';
import { ListStatus } from '../Common/ListStatus';

/** Who is signed in right now, on any tab or device. */
export function PresencePanel() {
  const { session } = useWebSocketContext();
  const presence = usePresence();
  return (
    <section className="panel presence" aria-labelledby="presence-title">
      <h2 id="presence-title">Online now</h2>
      <ListStatus list={presence} empty="Nobody is online." />
      <ul>
        {presence.items.map(({ user_id, role }) => (
          <li key={`${user_id}:${role}`}>
            {user_id} ({role}){user_id === session?.user_id && ' — you'}
          </li>
        ))}
      </ul>
    </section>
  );
}
