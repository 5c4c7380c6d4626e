/**
 * Korean public holidays 2025-2027 and the business-day arithmetic of Korean banks (no
 * transfers settle on weekends or holidays). Written out by hand from the official calendar:
 * lunar holidays (설날, 부처님오신날, 추석), substitute holidays (대체공휴일) and election days.
 */
export const KOREAN_PUBLIC_HOLIDAYS: readonly string[] = Object.freeze([
  // 2025
  '2025-01-01', '2025-01-27' /* 임시공휴일 */, '2025-01-28', '2025-01-29', '2025-01-30' /* 설날 */,
  '2025-03-01', '2025-03-03' /* 삼일절 대체 */, '2025-05-01' /* 근로자의 날: banks closed */,
  '2025-05-05' /* 어린이날, 부처님오신날 */, '2025-05-06' /* 대체 */, '2025-06-03' /* 대통령 선거 */,
  '2025-06-06', '2025-08-15', '2025-10-03', '2025-10-05', '2025-10-06', '2025-10-07' /* 추석 */,
  '2025-10-08' /* 추석 대체 */, '2025-10-09', '2025-12-25',
  // 2026
  '2026-01-01', '2026-02-16', '2026-02-17', '2026-02-18' /* 설날 */, '2026-03-01', '2026-03-02' /* 삼일절 대체 */,
  '2026-05-01' /* 근로자의 날: banks closed */, '2026-05-05', '2026-05-24' /* 부처님오신날 */, '2026-05-25' /* 대체 */,
  '2026-06-03' /* 지방선거 */, '2026-06-06', '2026-08-15', '2026-08-17' /* 광복절 대체 */,
  '2026-09-24', '2026-09-25', '2026-09-26' /* 추석 */, '2026-10-03', '2026-10-05' /* 개천절 대체 */, '2026-10-09', '2026-12-25',
  // 2027
  '2027-01-01', '2027-02-06', '2027-02-07', '2027-02-08' /* 설날 */, '2027-02-09' /* 설날 대체 */, '2027-03-01',
  '2027-05-01' /* 근로자의 날: banks closed */, '2027-05-05', '2027-05-13' /* 부처님오신날 */, '2027-06-06',
  '2027-08-15', '2027-08-16' /* 광복절 대체 */, '2027-09-14', '2027-09-15', '2027-09-16' /* 추석 */,
  '2027-10-03', '2027-10-04' /* 개천절 대체 */, '2027-10-09', '2027-10-11' /* 한글날 대체 */, '2027-12-25',
  '2027-12-27' /* 성탄절 대체 */,
]);

const MS_PER_DAY = 86_400_000;

/** Days since 1970-01-01 of a YYYY-MM-DD date. */
export function toDay(date: string): number {
  const time = Date.parse(`${date}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(time)) throw new Error(`not a YYYY-MM-DD date: ${date}`);
  return time / MS_PER_DAY;
}

/** YYYY-MM-DD of a day number. */
export function fromDay(day: number): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

/** Business days of a holiday list: Monday to Friday and not a holiday. */
export class BusinessCalendar {
  private readonly holidays: ReadonlySet<number>;

  constructor(holidays: readonly string[] = KOREAN_PUBLIC_HOLIDAYS) {
    this.holidays = new Set(holidays.map(toDay));
  }

  isHoliday(day: number): boolean {
    return this.holidays.has(day);
  }

  isBusinessDay(day: number): boolean {
    const weekday = (day + 4) % 7; // 1970-01-01 was a Thursday; 0 = Sunday
    return weekday !== 0 && weekday !== 6 && !this.holidays.has(day);
  }

  /** The day itself when a business day, else the next business day. */
  rollForward(day: number): number {
    let current = day;
    while (!this.isBusinessDay(current)) current += 1;
    return current;
  }

  /** `count` business days after `day` rolled forward (0 = the roll itself); negative counts go back. */
  addBusinessDays(day: number, count: number): number {
    let current = this.rollForward(day);
    const step = count < 0 ? -1 : 1;
    for (let left = Math.abs(count); left > 0; ) {
      current += step;
      if (this.isBusinessDay(current)) left -= 1;
    }
    return current;
  }

  /**
   * Signed business days from `from` to `to`, both rolled forward to a business day: a payment
   * landing Monday for an entry dated the Saturday before has a lag of 0.
   */
  lag(from: number, to: number): number {
    const start = this.rollForward(from);
    const end = this.rollForward(to);
    const step = end < start ? -1 : 1;
    let count = 0;
    for (let current = start; current !== end; current += step) {
      if (this.isBusinessDay(current + step)) count += step;
    }
    return count;
  }

  /** Whether a holiday (not a weekend) falls in (from, to]. */
  holidayBetween(from: number, to: number): boolean {
    for (let current = from + 1; current <= to; current++) if (this.holidays.has(current)) return true;
    return false;
  }
}

/** Business-day lag from an entry date to a bank date (YYYY-MM-DD), Korean holidays skipped. */
export function businessDayLag(entryDate: string, bankDate: string, holidays: readonly string[] = KOREAN_PUBLIC_HOLIDAYS): number {
  return new BusinessCalendar(holidays).lag(toDay(entryDate), toDay(bankDate));
}

/** Whether a YYYY-MM-DD date is a Korean business day. */
export function isKoreanBusinessDay(date: string, holidays: readonly string[] = KOREAN_PUBLIC_HOLIDAYS): boolean {
  return new BusinessCalendar(holidays).isBusinessDay(toDay(date));
}
