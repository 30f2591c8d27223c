// pulso's REST API, for the lists a dashboard loads before live events take over.
import type { AuthPayload } from './websocket/client';
import { refusalInWords } from './in-words';
import type { CommandError, PageOfOrder, StatsReply } from './websocket/types';

/** A page of any REST list (`GET /api/orders`, …): every list pages alike. */
export type Page<T> = Omit<PageOfOrder, 'items'> & { items: T[] };

/** `GET /ws/stats`. */
export type StatsResponse = StatsReply;

/** The same credentials as the socket, in the headers REST reads. */
function authHeaders(auth: AuthPayload): Record<string, string> {
  return 'token' in auth
    ? { Authorization: `Bearer ${auth.token}` }
    : { 'X-API-Key': auth.api_key, 'X-User-Id': auth.user_id };
}

/** GETs `path` from the server (`url`, or this page's origin) and returns its JSON body. */
export async function getJson<T>(path: string, auth: AuthPayload, url = ''): Promise<T> {
  const response = await fetch(url + path, { headers: authHeaders(auth) }).catch(() => {
    throw new Error('The server cannot be reached.');
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const error = body?.error as CommandError | undefined;
    throw new Error(error ? refusalInWords(error) : `The server answered with an error (HTTP ${response.status}).`);
  }
  return body as T;
}
