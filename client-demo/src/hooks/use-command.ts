import { useCallback, useState } from 'react';
import { useWebSocketContext } from '../contexts/WebSocketContext';
import type { CommandError, CommandName, Commands } from '../lib/websocket/types';

export interface CommandState<C extends CommandName> {
  pending: boolean;
  /** The last failure's ack error. */
  error: CommandError | null;
  /** The last send got no ack in time (it may or may not have been done). */
  noAnswer: boolean;
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
  const [noAnswer, setNoAnswer] = useState(false);
  const [result, setResult] = useState<Commands[C]['result'] | null>(null);

  const run = useCallback(
    async (payload: Commands[C]['payload']) => {
      setPending(true);
      setError(null);
      setNoAnswer(false);
      setResult(null);
      try {
        const ack = await client.send(command, payload);
        if (ack.ok) {
          setResult(ack.data);
          return ack.data;
        }
        setError(ack.error);
      } catch {
        setNoAnswer(true);
      } finally {
        setPending(false);
      }
      return null;
    },
    [client, command],
  );
  return { pending, error, noAnswer, result, run };
}
