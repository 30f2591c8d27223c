// Building blocks of the command forms: the server validates, and its field errors
// (from the ack's `error.fields`) are shown next to the inputs they name.
import { useId, useState, type ChangeEvent, type ReactNode } from 'react';
import { useWebSocketContext } from '../../contexts/WebSocketContext';
import type { CommandState } from '../../hooks/use-command';
import { NO_ANSWER, refusalInWords } from '../../lib/in-words';
import type { CommandName, Commands } from '../../lib/websocket/types';

export function Field({ label, error, children }: { label: string; error?: string; children: ReactNode }) {
  return (
    <label className={error ? 'field invalid' : 'field'}>
      <span>{label}</span>
      {children}
      {error && <span className="field-error">{error}</span>}
    </label>
  );
}

/** A form's submit button: off while its command is pending, and while offline, saying why. */
export function SendButton({ pending, children }: { pending: boolean; children: ReactNode }) {
  const { state } = useWebSocketContext();
  const reason = useId();
  const offline = state !== 'connected';
  return (
    <>
      <button type="submit" disabled={pending || offline} aria-describedby={offline ? reason : undefined}>
        {children}
      </button>
      {offline && (
        <p id={reason} className="hint">
          Sending is off until the connection to the server is back.
        </p>
      )}
    </>
  );
}

interface OutcomeProps<C extends CommandName> {
  command: CommandState<C>;
  describe: (result: Commands[C]['result']) => string;
}

/** Why the command failed, in words, or what it did when it worked. */
export function Outcome<C extends CommandName>({ command, describe }: OutcomeProps<C>) {
  const failure = command.noAnswer ? NO_ANSWER : command.error && refusalInWords(command.error);
  if (failure)
    return (
      <p className="error" role="alert">
        {failure}
      </p>
    );
  if (command.result) return <p className="ok">{describe(command.result)}</p>;
  return null;
}

type Input = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

/** Text inputs of a form: `bind(name)` gives an input its value and change handler. */
export function useFields<T extends Record<string, string>>(initial: T) {
  const [values, setValues] = useState(initial);
  const bind = (name: keyof T & string) => ({
    name,
    value: values[name],
    onChange: (event: ChangeEvent<Input>) => setValues((current) => ({ ...current, [name]: event.target.value })),
  });
  return { values, bind, reset: () => setValues(initial) };
}

/** An empty input means "leave it as it is". */
export function optionalNumber(text: string): number | undefined {
  return text.trim() === '' ? undefined : Number(text);
}
