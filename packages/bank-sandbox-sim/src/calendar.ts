/** Date helpers; the simulator books in UTC calendar days. */

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True for a real calendar date written `YYYY-MM-DD` (so `2026-02-30` is false). */
export function isCalendarDate(value: string): boolean {
  const match = DATE_PATTERN.exec(value);
  if (!match) return false;
  const [, y, m, d] = match;
  const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  return date.toISOString().slice(0, 10) === value;
}

/** The UTC calendar date of `at`, `YYYY-MM-DD`. */
export function toCalendarDate(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** ISO 8601 UTC with seconds precision: `2026-11-20T09:12:44Z`. */
export function toTimestamp(at: Date | number): string {
  return new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export const MS_PER_DAY = 86_400_000;

/** Midnight UTC of the day `at` falls on, in epoch milliseconds. */
export function startOfUtcDay(at: Date): number {
  return Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
}
