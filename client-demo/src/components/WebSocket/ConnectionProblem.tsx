import { useWebSocketContext } from '../../contexts/WebSocketContext';
import { useSecondsUntil } from '../../hooks/use-seconds-until';

/** While the page is cut off from the server: which server, what to check, when the next try is. */
export function ConnectionProblem() {
  const { state, unreachable, nextTryAt, url, session } = useWebSocketContext();
  const seconds = useSecondsUntil(nextTryAt);
  if (state !== 'reconnecting') return null;
  const address = url ?? window.location.origin;
  return (
    <section className="connection-problem" role="alert" aria-labelledby="connection-problem-title">
      <h2 id="connection-problem-title">
        {unreachable
          ? `The server at ${address} cannot be reached.`
          : `The connection to the server at ${address} was lost.`}
      </h2>
      <p>Check that pulso is running at that address and that this computer is online.</p>
      <p>
        {session
          ? 'Until then the page shows what it last knew, and sending is off.'
          : 'Nothing can be shown until then.'}
      </p>
      {/* Not announced every second: the heading already was. */}
      <p aria-live="off" data-testid="next-try">
        {seconds ? `Next try in ${seconds} s.` : 'Trying again now…'}
      </p>
    </section>
  );
}
