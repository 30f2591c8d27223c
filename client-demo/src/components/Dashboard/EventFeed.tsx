import { useRef, useState } from 'react';
import { useWebSocketAny } from '../../hooks/use-websocket';
import type { Envelope } from '../../lib/websocket/types';

const KEEP = 50;

interface FeedEntry {
  seq: number;
  event: string;
  summary: string;
  at: string;
}

/** Every event this socket receives, newest first. */
export function EventFeed() {
  const [entries, setEntries] = useState<FeedEntry[]>([]);
  const seq = useRef(0);
  useWebSocketAny((event, payload) => {
    const entry = { seq: ++seq.current, event, summary: summarize(payload), at: new Date().toLocaleTimeString() };
    setEntries((shown) => [entry, ...shown].slice(0, KEEP));
  });
  return (
    <section className="panel feed" aria-labelledby="feed-title">
      <h2 id="feed-title">Live events</h2>
      <ol data-testid="event-feed">
        {entries.map(({ seq, event, summary, at }) => (
          <li key={seq}>
            <time>{at}</time> <code>{event}</code> <span>{summary}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}

/** A domain event shows its event id, room and author; anything else its JSON. */
function summarize(payload: unknown): string {
  if (isEnvelope(payload)) {
    return `#${payload.id} in ${payload.room}${payload.user_id ? ` by ${payload.user_id}` : ''}: ${JSON.stringify(payload.data)}`;
  }
  return JSON.stringify(payload);
}

function isEnvelope(payload: unknown): payload is Envelope<unknown> {
  return typeof payload === 'object' && payload !== null && 'room' in payload && 'data' in payload;
}
