import { useCallback, useState } from 'react';
import { useWebSocketContext } from '../contexts/WebSocketContext';
import type { CommandError, CommandName, Commands } from '../lib/websocket/types';

export interface CommandState<C extends CommandName> {
  pending: boolean;
  /** The last failure: the ack's error, or a timeout when no ack came. */
  error: CommandError | null;
  /** The last success's data. */
  result: Commands[C]['result'] | null;
  /** Sends the command; resolves with the ack's data, or null when it failed. */
  run: (payload: Commands[C]['payload']) => Promise<Commands[C]['result'] | null>;
}

/** One socket command as a form uses it: send, wait for the ack, keep its outcome. */
export function useCommand<C extends CommandName>(command: C): CommandState<C> {
  const { client } = useWebSocketContext();
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  const [result, setResult] = useState<Commands[C]['result'] | null>(null);

  const run = useCallback(
    async (payload: Commands[C]['payload']) => {
      setPending(true);
      setError(null);
      setResult(null);
      try {
        const ack = await client.send(command, payload);
        if (ack.ok) {
          setResult(ack.data);
          return ack.data;
        }
        setError(ack.error);
      } catch {
        setError({ code: 'internal', message: 'no answer from the server (offline?)' });
      } finally {
        setPending(false);
      }
      return null;
    },
    [client, command],
  );
  return { pending, error, result, run };
}
