/**
 * What generated transactions look like: Korean card merchants, vendors, customers and bills
 * for KRW accounts, SaaS and wires for USD ones. Amount ranges are in minor units.
 */

export interface Template {
  kind: 'card' | 'transfer_out' | 'transfer_in' | 'auto_debit' | 'fee' | 'payroll' | 'wire_in';
  weight: number;
  /** Candidate names: merchants, vendors, customers or billers. */
  names: readonly string[];
  /** Card purchases: branch suffixes; an empty string means none (online merchants). */
  areas?: readonly string[];
  min: number;
  max: number;
  /** Amounts are multiples of this many minor units. */
  step: number;
  direction: 'out' | 'in';
}

const SEOUL_AREAS = ['GANGNAM', 'YEOKSAM', 'SEONGSU', 'JAMSIL', 'HONGDAE', 'YEOUIDO', 'MAPO', 'JONGNO', 'PANGYO'];

/** Templates for accounts in a currency without minor units (KRW-like amounts). */
export const WHOLE_UNIT_TEMPLATES: readonly Template[] = [
  { kind: 'card', weight: 22, names: ['STARBUCKS', 'TWOSOME PLACE', 'EDIYA COFFEE', 'PARIS BAGUETTE'], areas: SEOUL_AREAS, min: 3_000, max: 48_000, step: 100, direction: 'out' },
  { kind: 'card', weight: 14, names: ['GS25', 'CU', '7-ELEVEN', 'DAISO'], areas: SEOUL_AREAS, min: 1_200, max: 32_000, step: 100, direction: 'out' },
  { kind: 'card', weight: 10, names: ['E-MART', 'LOTTE MART', 'HOMEPLUS', 'OLIVE YOUNG', 'KYOBO BOOK'], areas: SEOUL_AREAS, min: 8_000, max: 240_000, step: 10, direction: 'out' },
  { kind: 'card', weight: 8, names: ['COUPANG', 'NAVER PAY', 'KAKAO PAY', 'SSG.COM'], areas: [''], min: 9_900, max: 320_000, step: 10, direction: 'out' },
  { kind: 'card', weight: 6, names: ['BAEMIN', 'KAKAO T', 'YOGIYO'], areas: [''], min: 4_800, max: 48_000, step: 100, direction: 'out' },
  { kind: 'card', weight: 5, names: ['SK ENERGY', 'GS CALTEX', 'S-OIL'], areas: SEOUL_AREAS, min: 40_000, max: 150_000, step: 100, direction: 'out' },
  { kind: 'transfer_out', weight: 9, names: ['HANIL LOGISTICS', 'SEOUL OFFICE LEASING', 'DAEHAN PRINTING', 'MIRAE IT SOLUTIONS', 'KOREA EXPRESS', 'SAMIL ACCOUNTING'], min: 100_000, max: 8_000_000, step: 1_000, direction: 'out' },
  { kind: 'transfer_in', weight: 8, names: ['HYUNDAI TRADING', 'LG HOUSEHOLD', 'CJ OLIVENETWORKS', 'NAVER CLOUD', 'SHINSEGAE INTL', 'POSCO DX'], min: 200_000, max: 15_000_000, step: 1_000, direction: 'in' },
  { kind: 'auto_debit', weight: 5, names: ['KEPCO ELECTRICITY', 'SK TELECOM', 'SEOUL CITY GAS', 'NHIS HEALTH INSURANCE', 'KT INTERNET'], min: 30_000, max: 900_000, step: 10, direction: 'out' },
  { kind: 'fee', weight: 7, names: ['WIRE TRANSFER', 'ATM WITHDRAWAL', 'ACCOUNT MAINTENANCE'], min: 500, max: 3_000, step: 100, direction: 'out' },
  { kind: 'payroll', weight: 1, names: ['PAYROLL BATCH'], min: 5_000_000, max: 40_000_000, step: 10_000, direction: 'out' },
];

/** Templates for accounts in a currency with cents (USD-like amounts). */
export const CENT_TEMPLATES: readonly Template[] = [
  { kind: 'card', weight: 60, names: ['AWS EMEA', 'GITHUB.COM', 'SLACK TECHNOLOGIES', 'GOOGLE CLOUD', 'ZOOM.US', 'NOTION LABS', 'FIGMA', 'DIGITALOCEAN'], areas: [''], min: 500, max: 250_000, step: 1, direction: 'out' },
  { kind: 'wire_in', weight: 15, names: ['ACME CORP', 'GLOBEX LLC', 'INITECH INC', 'UMBRELLA PTE'], min: 100_000, max: 5_000_000, step: 1, direction: 'in' },
  { kind: 'transfer_out', weight: 10, names: ['SEOUL OFFICE LEASING', 'MIRAE IT SOLUTIONS'], min: 50_000, max: 2_000_000, step: 1, direction: 'out' },
  { kind: 'fee', weight: 15, names: ['FX CONVERSION', 'INCOMING WIRE'], min: 50, max: 4_500, step: 1, direction: 'out' },
];
