// What the server said, as sentences for people: no error codes, prefixes or field paths.
import type { CommandError } from './websocket/types';

/** A command's error ack; its field messages are shown next to the fields themselves. */
export function refusalInWords(error: CommandError): string {
  if (error.fields && Object.keys(error.fields).length > 0) {
    return 'The server refused: please correct the fields marked below.';
  }
  return `The server refused: ${sentence(error.message)}`;
}

/** Why the server refused the connection (`unauthorized: unknown api key`, …). */
export function connectionRefusalInWords(reason: string | null): string {
  const why = reason?.match(/^unauthorized:\s*(.*)$/)?.[1];
  if (why !== undefined) return `The server refused to sign you in: ${sentence(why)}`;
  return `The server refused the connection${reason ? `: ${sentence(reason)}` : '.'}`;
}

export const NO_ANSWER =
  'No answer from the server in time: this may or may not have been done. Check before sending it again.';

function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}
