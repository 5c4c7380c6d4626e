/** Amounts as decimal strings, with ISO 4217 minor units. */

const MINOR_UNITS: Readonly<Record<string, number>> = {
  KRW: 0,
  JPY: 0,
  VND: 0,
  CLP: 0,
  USD: 2,
  EUR: 2,
  GBP: 2,
  CNY: 2,
  SGD: 2,
  HKD: 2,
  KWD: 3,
  BHD: 3,
};

/** Decimals of `currency` per ISO 4217 (2 for a code this table does not know). */
export function minorUnits(currency: string): number {
  return MINOR_UNITS[currency] ?? 2;
}

/**
 * Formats an integer count of minor units, e.g. (-1250, 'USD') -> `-12.50` and
 * (-12000, 'KRW') -> `-12000`, or `-12000.00` when `padZeroDecimals` (the contract lets a
 * 0-decimal currency carry `.00`).
 */
export function formatMinorUnits(minor: number, currency: string, padZeroDecimals = false): string {
  if (!Number.isSafeInteger(minor)) throw new RangeError(`not an integer amount: ${minor}`);
  const decimals = minorUnits(currency);
  const sign = minor < 0 ? '-' : '';
  const digits = Math.abs(minor).toString();
  if (decimals === 0) return `${sign}${digits}${padZeroDecimals ? '.00' : ''}`;
  const padded = digits.padStart(decimals + 1, '0');
  return `${sign}${padded.slice(0, -decimals)}.${padded.slice(-decimals)}`;
}

const AMOUNT_PATTERN = /^-?(0|[1-9]\d*)(\.(\d+))?$/;

/**
 * True when `amount` is a decimal string valid for `currency`: no more decimals than the
 * currency has, except that a 0-decimal currency may carry zeros (`-12000.00`); never `-0`.
 */
export function isValidAmount(amount: string, currency: string): boolean {
  const match = AMOUNT_PATTERN.exec(amount);
  if (!match) return false;
  const fraction = match[3] ?? '';
  if (/^-0(\.0*)?$/.test(amount)) return false;
  const decimals = minorUnits(currency);
  if (decimals === 0) return /^0*$/.test(fraction) && fraction.length <= 2;
  return fraction.length <= decimals;
}
