/**
 * Exact decimal money for the reconciliation engine: amounts are parsed into integer units
 * (BigInt) at a known scale, compared and subtracted exactly, and never held as floats.
 */

/** ISO 4217 minor units of the currencies that do not have 2. */
const MINOR_UNITS: Readonly<Record<string, number>> = Object.freeze({
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0,
  UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  CLF: 4, UYW: 4,
});

/** ISO 4217 minor units of `currency` (2 when the code is not one of the exceptions). */
export function currencyMinorUnits(currency: string): number {
  return MINOR_UNITS[currency] ?? 2;
}

/** An exact amount: `units × 10^-scale`, with `scale` at least the currency's minor units. */
export interface Money {
  units: bigint;
  scale: number;
}

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?$/;
const CURRENCY = /^[A-Z]{3}$/;

/** Whether `code` looks like an ISO 4217 code (three capital letters). */
export function isCurrencyCode(code: string): boolean {
  return CURRENCY.test(code);
}

/**
 * Parses a decimal string ("-12000", "12000.00", "1234.5") of `currency`. Trailing zeros do not
 * change the value ("12000.00" KRW is 12000 KRW); digits beyond the minor units are kept exactly.
 * Returns null when `amount` is not a plain decimal number.
 */
export function parseMoney(amount: string, currency: string): Money | null {
  const match = DECIMAL.exec(amount.trim());
  if (!match) return null;
  const [, sign = '', whole = '', rawFraction = ''] = match;
  const fraction = rawFraction.replace(/0+$/, '');
  const scale = Math.max(currencyMinorUnits(currency), fraction.length);
  const units = BigInt(whole + fraction.padEnd(scale, '0'));
  return { units: sign === '-' ? -units : units, scale };
}

const pow10 = (exponent: number): bigint => 10n ** BigInt(exponent);

/** `money` as integer units at `scale` (which must not be below `money.scale`). */
export function unitsAt(money: Money, scale: number): bigint {
  return money.units * pow10(scale - money.scale);
}

/** -1, 0 or 1 by the sign of the amount. */
export function signOf(money: Money): -1 | 0 | 1 {
  return money.units < 0n ? -1 : money.units > 0n ? 1 : 0;
}

export function absMoney(money: Money): Money {
  return money.units < 0n ? { units: -money.units, scale: money.scale } : money;
}

/** |a - b|, exactly, at the larger scale. */
export function absDifference(a: Money, b: Money): Money {
  const scale = Math.max(a.scale, b.scale);
  const diff = unitsAt(a, scale) - unitsAt(b, scale);
  return { units: diff < 0n ? -diff : diff, scale };
}

/** -1, 0 or 1 as a < b, a = b, a > b. */
export function compareMoney(a: Money, b: Money): -1 | 0 | 1 {
  const scale = Math.max(a.scale, b.scale);
  const left = unitsAt(a, scale);
  const right = unitsAt(b, scale);
  return left < right ? -1 : left > right ? 1 : 0;
}

/** An approximation for ratios and scores only; never for equality. */
export function moneyToNumber(money: Money): number {
  return Number(money.units) / 10 ** money.scale;
}

/** The amount floored to whole minor units of `minorUnits` digits (for bucketing in an index). */
export function floorToMinorUnits(money: Money, minorUnits: number): bigint {
  const divisor = pow10(money.scale - minorUnits);
  const quotient = money.units / divisor;
  return money.units < 0n && quotient * divisor !== money.units ? quotient - 1n : quotient;
}

/**
 * "12,000 KRW", "-1,234.50 USD": thousands separators, at least the currency's minor units
 * (more only when the amount carries them), and the code.
 */
export function formatMoney(money: Money, currency: string): string {
  const scale = Math.max(money.scale, currencyMinorUnits(currency));
  const units = unitsAt(money, scale);
  const digits = (units < 0n ? -units : units).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const fraction = scale > 0 ? `.${digits.slice(digits.length - scale)}` : '';
  return `${units < 0n ? '-' : ''}${whole}${fraction} ${currency}`;
}

/** The plain decimal string of an amount ("-1500", "12.50"), at least the currency's minor units. */
export function toDecimalString(money: Money, currency: string): string {
  return formatMoney(money, currency).replace(/ [A-Z]{3}$/, '').replace(/,/g, '');
}
