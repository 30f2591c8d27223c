// The server's refusals as the page words them.
import { describe, expect, it } from 'vitest';
import { connectionRefusalInWords, refusalInWords } from '../src/lib/in-words';

describe('refusals in words', () => {
  it('points at the fields when the server named them, and says the rest as a sentence', () => {
    const fields = { 'items[0].unit_price': 'must be a number with at most two decimals' };
    expect(refusalInWords({ code: 'invalid', message: 'invalid fields: items[0].unit_price', fields })).toBe(
      'The server refused: please correct the fields marked below.',
    );
    expect(refusalInWords({ code: 'not_found', message: 'no order with id 999' })).toBe(
      'The server refused: no order with id 999.',
    );
  });

  it('drops the `unauthorized:` prefix of a refused connection', () => {
    expect(connectionRefusalInWords('unauthorized: unknown api key')).toBe(
      'The server refused to sign you in: unknown api key.',
    );
    expect(connectionRefusalInWords('too many connections')).toBe(
      'The server refused the connection: too many connections.',
    );
  });
});
