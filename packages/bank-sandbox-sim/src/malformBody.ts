import type { MalformedVariant } from './FaultQueue.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A transaction that is right in every field but `amount`, for pages that have none. */
const NUMERIC_AMOUNT_TRANSACTION = {
  transaction_id: 'tx_malformed',
  account_id: 'acc_1',
  amount: -12000,
  currency: 'KRW',
  booked_date: '2026-01-01',
  status: 'posted',
  pending_transaction_id: null,
  description: 'CARD 0000 MALFORMED',
  updated_at: '2026-01-01T00:00:00Z',
};

/**
 * The text of a 200 body that breaks the contract in the way `variant` names:
 * - `amount_number`: the first transaction's amount as a JSON number (a made-up transaction
 *   with a numeric amount when the page has none);
 * - `missing_next_cursor`: no `next_cursor`;
 * - `has_more_string`: `has_more` as the string `"true"`/`"false"`;
 * - `truncated_json`: the first half of the JSON text.
 * An accounts body gets `{"accounts":"unavailable"}` for every variant but `truncated_json`.
 */
export function malformBody(body: unknown, variant: MalformedVariant): string {
  const text = JSON.stringify(body);
  if (variant === 'truncated_json') return text.slice(0, Math.max(1, Math.floor(text.length / 2)));
  if (!isRecord(body)) return '"unavailable"';
  if ('accounts' in body) return JSON.stringify({ accounts: 'unavailable' });
  const copy = JSON.parse(text) as Record<string, unknown>;
  switch (variant) {
    case 'amount_number': {
      const first = [copy.added, copy.modified].flatMap((list) => (Array.isArray(list) ? list : [])).find(isRecord);
      if (first) first.amount = Number(first.amount);
      else copy.added = [NUMERIC_AMOUNT_TRANSACTION];
      break;
    }
    case 'missing_next_cursor':
      delete copy.next_cursor;
      break;
    case 'has_more_string':
      copy.has_more = String(copy.has_more);
      break;
  }
  return JSON.stringify(copy);
}
