/**
 * Test data for the reconciliation engine (`@accounting/service-core-accounting/testing`):
 * labelled Korean SME bank statements and the measure of the engine against them. Production
 * code never imports this subpath.
 */
export {
  KRW_AUTO_MATCH_LIMIT,
  REMITTANCE_FEES,
  generateKoreanStatements,
  type KoreanStatementDataset,
  type KoreanStatementOptions,
  type StatementExpectation,
  type StatementLabel,
} from './koreanStatements.js';
export { formatStatementAccuracy, measureStatementAccuracy, type StatementAccuracy } from './statementAccuracy.js';
export { BusinessCalendar, KOREAN_PUBLIC_HOLIDAYS, businessDayLag, fromDay, isKoreanBusinessDay, toDay } from './koreanHolidays.js';
export { byteLength, romanize, truncateBytes } from './koreanNames.js';
