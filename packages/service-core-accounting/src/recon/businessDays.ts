/**
 * Business days for the date criterion: a payment booked "two business days later" is two days
 * later whether a weekend or 추석 lies between. Saturdays, Sundays and the currency's holidays
 * (`ReconRules.holidays`) are not business days.
 */

/**
 * Public holidays of the Republic of Korea, substitute holidays and election days included
 * (관공서의 공휴일에 관한 규정), 2025-2027. Banks are closed on them. A tenant can replace the
 * list per currency (`RECON_HOLIDAYS_JSON`, docs/RECON.md "Rules").
 */
export const KOREAN_HOLIDAYS: readonly string[] = Object.freeze([
  '2025-01-01', '2025-01-27', '2025-01-28', '2025-01-29', '2025-01-30', '2025-03-03', '2025-05-05', '2025-05-06',
  '2025-06-03', '2025-06-06', '2025-08-15', '2025-10-03', '2025-10-06', '2025-10-07', '2025-10-08', '2025-10-09',
  '2025-12-25',
  '2026-01-01', '2026-02-16', '2026-02-17', '2026-02-18', '2026-03-02', '2026-05-05', '2026-05-25', '2026-06-03',
  '2026-08-17', '2026-09-24', '2026-09-25', '2026-09-28', '2026-10-05', '2026-10-09', '2026-12-25',
  '2027-01-01', '2027-02-08', '2027-02-09', '2027-03-01', '2027-05-05', '2027-05-13', '2027-08-16', '2027-09-14',
  '2027-09-15', '2027-09-16', '2027-10-04', '2027-10-11', '2027-12-27',
]);

const DAY_MS = 86_400_000;
/** 1970-01-01 was a Thursday: day number 0 has weekday 4 (0 = Sunday). */
const weekdayOf = (day: number): number => (((day + 4) % 7) + 7) % 7;
const isWeekend = (day: number): boolean => {
  const weekday = weekdayOf(day);
  return weekday === 0 || weekday === 6;
};

/** Weekdays in [0, day) for day >= 0, and minus those in [day, 0) for day < 0. */
function weekdaysBefore(day: number): number {
  const weeks = Math.floor(day / 7);
  let count = weeks * 5;
  for (let d = weeks * 7; d < day; d++) if (!isWeekend(d)) count += 1;
  return count;
}

/** The business days of one currency, answering signed business-day distances in O(log holidays). */
export class BusinessCalendar {
  /** Holidays falling on weekdays, as sorted day numbers. */
  private readonly holidays: number[];

  constructor(holidays: readonly string[]) {
    const days = holidays.map((date) => Math.round(Date.parse(`${date}T00:00:00Z`) / DAY_MS)).filter((day) => Number.isFinite(day) && !isWeekend(day));
    this.holidays = [...new Set(days)].sort((a, b) => a - b);
  }

  /** Whether `day` (days since 1970-01-01) is a business day. */
  isBusinessDay(day: number): boolean {
    return !isWeekend(day) && !this.holidays.includes(day);
  }

  /** Business days in [0, day): an ordinal whose differences count business days. */
  private ordinal(day: number): number {
    let low = 0;
    let high = this.holidays.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.holidays[mid]! < day) low = mid + 1;
      else high = mid;
    }
    return weekdaysBefore(day) - low;
  }

  /**
   * Business days from `from` to `to`: the business days in (from, to] when `to` is later,
   * minus those in (to, from] when earlier, 0 for the same day. A payment on Monday for an
   * entry of the Friday before is 1; over 추석 (Thursday to the next Monday) it is 1 too.
   */
  shift(from: number, to: number): number {
    return this.ordinal(to + 1) - this.ordinal(from + 1);
  }
}

const calendars = new WeakMap<readonly string[], BusinessCalendar>();
const WEEKENDS_ONLY = new BusinessCalendar([]);

/** The calendar of a holiday list (built once per list object: rules are frozen); weekends only when absent. */
export function calendarOf(holidays: readonly string[] | undefined): BusinessCalendar {
  if (holidays === undefined) return WEEKENDS_ONLY;
  let calendar = calendars.get(holidays);
  if (!calendar) {
    calendar = new BusinessCalendar(holidays);
    calendars.set(holidays, calendar);
  }
  return calendar;
}
