/**
 * Names and words of a Korean SME's books and bank statements, and the romanization banks and
 * counterparties use for them (Revised Romanization, with a McCune-Reischauer-like variant).
 */

/** Name stems of companies: Korean words, and a few English loanwords with their English spelling. */
export const COMPANY_STEMS: readonly string[] = [
  '한빛', '대한', '미래', '세종', '푸른', '동방', '새솔', '금강', '하늘', '태양', '바다', '누리', '다온', '은하', '성진',
  '동양', '삼원', '백두', '한라', '청솔', '가람', '나래', '아름', '보람', '새롬', '한결', '정우', '대성', '영진', '태광',
  '동진', '제일', '으뜸', '해솔', '다솜', '빛나', '도담', '라온', '미소', '우성', '신성', '한솔', '서진', '명성', '일신',
  '성우', '한길', '진흥', '대양', '국제', '그린', '에이스', '스마트', '글로벌', '코리아', '유니온', '베스트', '하나로',
];

/** Kinds of business that end a company name. */
export const COMPANY_KINDS: readonly string[] = [
  '상사', '물산', '테크', '식품', '무역', '전자', '물류', '건설', '디자인', '컨설팅', '유통', '소프트', '산업', '정밀',
  '화학', '인쇄', '기획', '시스템', '엔지니어링', '푸드', '포장', '광고', '인테리어', '네트웍스',
];

/** Loanwords a company writes in English rather than romanizing. */
export const ENGLISH_SPELLINGS: Readonly<Record<string, string>> = {
  그린: 'GREEN', 에이스: 'ACE', 스마트: 'SMART', 글로벌: 'GLOBAL', 코리아: 'KOREA', 유니온: 'UNION', 베스트: 'BEST',
  테크: 'TECH', 소프트: 'SOFT', 시스템: 'SYSTEM', 엔지니어링: 'ENGINEERING', 푸드: 'FOOD', 디자인: 'DESIGN',
  컨설팅: 'CONSULTING', 인테리어: 'INTERIOR', 네트웍스: 'NETWORKS',
};

/** Kinds some companies translate in their English name ("HANBIT TRADING"). */
export const KIND_TRANSLATIONS: Readonly<Record<string, string>> = {
  상사: 'TRADING', 무역: 'TRADING', 식품: 'FOODS', 전자: 'ELECTRONICS', 건설: 'CONSTRUCTION', 물류: 'LOGISTICS',
  산업: 'INDUSTRIAL', 화학: 'CHEMICAL', 정밀: 'PRECISION', 광고: 'ADVERTISING',
};

export const FAMILY_NAMES: readonly string[] = ['김', '이', '박', '최', '정', '강', '조', '윤', '장', '임', '한', '오', '서', '신', '권', '황'];
export const GIVEN_NAMES: readonly string[] = [
  '민수', '서연', '지훈', '지민', '현우', '수빈', '도윤', '하은', '준호', '예린', '성민', '유진', '영호', '미경', '상훈',
  '은지', '태희', '동현', '소영', '재원', '혜진', '승우', '다은', '정훈',
];

/** Purposes of ledger memos, per kind of counterparty. */
export const SUPPLIER_PURPOSES: readonly string[] = ['상품매입 대금', '원재료 매입', '외주용역비', '광고선전비', '운반비', '소모품 구입', '수선비', '지급수수료'];
export const CUSTOMER_PURPOSES: readonly string[] = ['매출 대금 입금', '제품매출', '용역매출', '상품매출 대금', '외상매출금 회수'];

/** A card merchant: how the books name it, and how the bank prints it. */
export interface MerchantSpec {
  korean: string;
  /** How card statements print it in Latin letters (a brand, not a romanization). */
  english: string;
  /** Branch names the card line may add. */
  branches: readonly string[];
  /** Ledger account words of the memo. */
  purposes: readonly string[];
  /** Amount range (KRW) and step. */
  range: readonly [number, number];
  step: number;
  /** The bank prints a company no one would recognize as the merchant (a PG or the operating company). */
  alias?: string;
}

export const MERCHANTS: readonly MerchantSpec[] = [
  { korean: '스타벅스', english: 'STARBUCKS COFFEE KOREA', branches: ['강남R점', '역삼점', '선릉역점', '삼성역점', '테헤란로점'], purposes: ['회의비', '복리후생비'], range: [4_500, 62_000], step: 100 },
  { korean: '이디야커피', english: 'EDIYA COFFEE', branches: ['역삼2호점', '논현점'], purposes: ['회의비', '복리후생비'], range: [3_200, 28_000], step: 100 },
  { korean: '투썸플레이스', english: 'A TWOSOME PLACE', branches: ['강남대로점'], purposes: ['회의비'], range: [5_000, 75_000], step: 100 },
  { korean: '쿠팡', english: 'COUPANG', branches: [], purposes: ['소모품비', '사무용품비'], range: [8_900, 420_000], step: 10 },
  { korean: '이마트', english: 'EMART', branches: ['역삼점', '성수점'], purposes: ['소모품비', '복리후생비'], range: [12_000, 380_000], step: 10 },
  { korean: '다이소', english: 'DAISO', branches: ['강남역점'], purposes: ['소모품비'], range: [2_000, 55_000], step: 100 },
  { korean: 'GS25', english: 'GS25', branches: ['역삼중앙점', '선릉점'], purposes: ['복리후생비'], range: [1_200, 32_000], step: 100 },
  { korean: 'CU', english: 'CU', branches: ['테헤란점'], purposes: ['복리후생비'], range: [1_200, 28_000], step: 100, alias: 'BGF리테일' },
  { korean: '교보문고', english: 'KYOBO BOOK CENTRE', branches: ['광화문점'], purposes: ['도서인쇄비'], range: [11_000, 160_000], step: 100 },
  { korean: '카카오T', english: 'KAKAO MOBILITY', branches: [], purposes: ['여비교통비'], range: [4_800, 58_000], step: 100 },
  { korean: '코레일', english: 'KORAIL', branches: [], purposes: ['여비교통비'], range: [8_400, 119_800], step: 100 },
  { korean: '대한항공', english: 'KOREAN AIR', branches: [], purposes: ['여비교통비'], range: [68_000, 1_450_000], step: 100 },
  { korean: '배달의민족', english: 'BAEMIN', branches: [], purposes: ['복리후생비', '야근식대'], range: [15_000, 185_000], step: 100, alias: '우아한형제들' },
  { korean: '맥도날드', english: 'MCDONALDS', branches: ['강남점'], purposes: ['복리후생비'], range: [5_900, 48_000], step: 100 },
  { korean: 'SK에너지', english: 'SK ENERGY', branches: ['역삼주유소'], purposes: ['차량유지비'], range: [30_000, 120_000], step: 1 },
  { korean: 'GS칼텍스', english: 'GS CALTEX', branches: ['논현셀프주유소'], purposes: ['차량유지비'], range: [30_000, 110_000], step: 1 },
  { korean: '오피스디포', english: 'OFFICE DEPOT', branches: [], purposes: ['사무용품비'], range: [9_000, 240_000], step: 100 },
  { korean: '네이버쇼핑', english: 'NAVER FINANCIAL', branches: [], purposes: ['소모품비'], range: [9_900, 310_000], step: 10, alias: 'NICE페이먼츠' },
  { korean: '올리브영', english: 'OLIVE YOUNG', branches: ['강남본점'], purposes: ['복리후생비'], range: [6_000, 90_000], step: 100 },
  { korean: '본죽', english: 'BONJUK', branches: ['역삼점'], purposes: ['복리후생비', '회의비'], range: [9_000, 96_000], step: 500 },
];

/** Monthly card subscriptions (fixed amount, KRW billed). */
export const SUBSCRIPTIONS: readonly { korean: string; english: string; amount: number; purpose: string }[] = [
  { korean: '아마존웹서비스', english: 'AMAZON WEB SERVICES', amount: 412_300, purpose: '지급수수료 (클라우드)' },
  { korean: '구글 워크스페이스', english: 'GOOGLE*WORKSPACE', amount: 151_200, purpose: '지급수수료' },
  { korean: '마이크로소프트', english: 'MICROSOFT*365', amount: 88_000, purpose: '지급수수료' },
  { korean: '어도비', english: 'ADOBE *CREATIVE CLD', amount: 77_000, purpose: '지급수수료' },
  { korean: '노션', english: 'NOTION LABS', amount: 52_800, purpose: '지급수수료' },
  { korean: '슬랙', english: 'SLACK T0123ABC', amount: 65_340, purpose: '지급수수료' },
];

/** Monthly auto-debits (CMS) of utilities, social insurance (4대보험) and taxes, with the bank's wording. */
export const INSTITUTIONS: readonly { korean: string; bank: readonly string[]; purpose: string; range: readonly [number, number]; dayOfMonth: number }[] = [
  { korean: '국민연금공단', bank: ['국민연금', 'CMS 국민연금공단', '연금보험료'], purpose: '4대보험 국민연금', range: [1_800_000, 2_300_000], dayOfMonth: 10 },
  { korean: '국민건강보험공단', bank: ['건강보험', 'CMS 건강보험공단', '국민건강'], purpose: '4대보험 건강보험', range: [1_500_000, 1_900_000], dayOfMonth: 10 },
  { korean: '근로복지공단', bank: ['고용보험', '고용산재', 'CMS 근로복지공'], purpose: '4대보험 고용·산재보험', range: [420_000, 560_000], dayOfMonth: 10 },
  { korean: '역삼세무서', bank: ['국세 원천세', '국세납부', '인터넷국세'], purpose: '예수금 원천세 납부', range: [900_000, 1_600_000], dayOfMonth: 10 },
  { korean: '강남구청', bank: ['지방세 위택스', '지방소득세', '위택스'], purpose: '예수금 지방소득세 납부', range: [90_000, 160_000], dayOfMonth: 10 },
  { korean: '한국전력공사', bank: ['한전전기요금', 'KEPCO', '전기요금 자동'], purpose: '수도광열비 전기요금', range: [180_000, 460_000], dayOfMonth: 20 },
  { korean: '케이티', bank: ['KT통신요금', 'KT 자동이체', '(주)케이티'], purpose: '통신비 인터넷', range: [110_000, 180_000], dayOfMonth: 21 },
  { korean: 'SK브로드밴드', bank: ['SKB요금', 'SK브로드밴드', 'SKBROADBAND'], purpose: '통신비 전화', range: [44_000, 66_000], dayOfMonth: 22 },
];

// Revised Romanization tables: initial, medial and final jamo of a Hangul syllable.
const INITIALS = ['g', 'kk', 'n', 'd', 'tt', 'r', 'm', 'b', 'pp', 's', 'ss', '', 'j', 'jj', 'ch', 'k', 't', 'p', 'h'];
const MEDIALS = ['a', 'ae', 'ya', 'yae', 'eo', 'e', 'yeo', 'ye', 'o', 'wa', 'wae', 'oe', 'yo', 'u', 'wo', 'we', 'wi', 'yu', 'eu', 'ui', 'i'];
const FINALS = ['', 'k', 'k', 'k', 'n', 'n', 'n', 't', 'l', 'k', 'm', 'l', 'l', 'l', 'p', 'l', 'm', 'p', 'p', 't', 't', 'ng', 't', 't', 'k', 't', 'p', 't'];
/** A final carried over to a following vowel (한국인 -> hangugin). */
const LIAISON: Readonly<Record<number, string>> = { 1: 'g', 2: 'kk', 4: 'n', 7: 'd', 8: 'r', 16: 'm', 17: 'b', 19: 's', 20: 'ss', 22: 'j', 23: 'ch', 24: 'k', 25: 't', 26: 'p', 27: '' };
const K_FINALS = new Set([1, 2, 3, 9, 24]);
const P_FINALS = new Set([14, 17, 18, 26]);
const T_FINALS = new Set([7, 19, 20, 22, 23, 25, 27]);
const SILENT_INITIAL = 11;
const NASAL_INITIALS = new Set([2, 6]);

interface Syllable {
  initial: number;
  medial: number;
  final: number;
}

function syllableOf(char: string): Syllable | null {
  const code = char.codePointAt(0)! - 0xac00;
  if (code < 0 || code > 11_171) return null;
  return { initial: Math.floor(code / 588), medial: Math.floor((code % 588) / 28), final: code % 28 };
}

/**
 * Romanizes Hangul (other characters pass through), word by word. `rr`: Revised Romanization
 * with liaison and the common nasal assimilations (국민 -> gungmin). `mccune`: the older style
 * many company names keep (word-initial k/t/p/ch, eo/eu as o/u: 대한 -> taehan, 금강 -> kumgang).
 */
export function romanize(text: string, style: 'rr' | 'mccune' = 'rr'): string {
  return text
    .split(' ')
    .map((word) => romanizeWord(word, style))
    .join(' ');
}

function romanizeWord(word: string, style: 'rr' | 'mccune'): string {
  const chars = [...word];
  let out = '';
  for (let i = 0; i < chars.length; i++) {
    const syllable = syllableOf(chars[i]!);
    if (!syllable) {
      out += chars[i];
      continue;
    }
    const previous = i > 0 ? syllableOf(chars[i - 1]!) : null;
    const next = i + 1 < chars.length ? syllableOf(chars[i + 1]!) : null;
    let initial = INITIALS[syllable.initial]!;
    if (previous && previous.final === 8 && syllable.initial === 5) initial = 'l';
    let medial = MEDIALS[syllable.medial]!;
    let final = FINALS[syllable.final]!;
    if (next && syllable.final !== 0) {
      if (next.initial === SILENT_INITIAL && syllable.final !== 21) final = LIAISON[syllable.final] ?? final;
      else if (NASAL_INITIALS.has(next.initial)) {
        if (K_FINALS.has(syllable.final)) final = 'ng';
        else if (P_FINALS.has(syllable.final)) final = 'm';
        else if (T_FINALS.has(syllable.final)) final = 'n';
      }
    }
    if (style === 'mccune') {
      if (!previous) initial = ({ g: 'k', d: 't', b: 'p', j: 'ch' } as Record<string, string>)[initial] ?? initial;
      medial = ({ eo: 'o', eu: 'u', yeo: 'yo' } as Record<string, string>)[medial] ?? medial;
    }
    out += initial + medial + final;
  }
  return out;
}

/** EUC-KR byte length: a bank's name field counts Hangul as 2 bytes, ASCII as 1. */
export function byteLength(text: string): number {
  let bytes = 0;
  for (const char of text) bytes += char.codePointAt(0)! < 0x80 ? 1 : 2;
  return bytes;
}

/** Cuts `text` to at most `bytes` EUC-KR bytes, never inside a character. */
export function truncateBytes(text: string, bytes: number): string {
  let out = '';
  let used = 0;
  for (const char of text) {
    const size = char.codePointAt(0)! < 0x80 ? 1 : 2;
    if (used + size > bytes) break;
    out += char;
    used += size;
  }
  return out.trimEnd();
}
