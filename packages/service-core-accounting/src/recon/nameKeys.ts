/**
 * Names compared across scripts: a Hangul name and its romanised or English form
 * (한빛상사 / HANBIT SANGSA, 스타벅스 / STARBUCKS) reduce to the same sound skeleton.
 *
 * The skeleton keeps consonant classes and marks each vowel run with `a`: romanisation
 * systems (Revised, McCune-Reischauer, company spellings) disagree mostly on vowels and on
 * voicing (g/k, d/t, b/p, r/l, j/ch), rarely on the consonant frame. Hangul is decomposed
 * into jamo arithmetically (Unicode's syllable order); `ㅡ` is dropped, since it is the vowel
 * Korean adds to loanwords ("스타벅스" for "starbucks"); a Latin `r` before a consonant or at
 * the end is dropped, since Korean does not write it ("스타벅스", "이마트").
 */

const HANGUL_FIRST = 0xac00;
const HANGUL_LAST = 0xd7a3;
/** Initial consonants in Unicode order, by class (ㅇ is silent). */
const INITIALS = ['k', 'k', 'n', 't', 't', 'l', 'm', 'p', 'p', 's', 's', '', 'j', 'j', 'j', 'k', 't', 'p', 'h'];
/** Vowels in Unicode order: `a` for a vowel, '' for ㅡ (index 18). */
const VOWELS = Array.from({ length: 21 }, (_, index) => (index === 18 ? '' : 'a'));
/** Final consonants in Unicode order (index 0: none), as they sound at the end of a syllable. */
const FINALS = ['', 'k', 'k', 'k', 'n', 'n', 'n', 't', 'l', 'k', 'm', 'l', 'l', 'l', 'p', 'l', 'm', 'p', 'p', 't', 't', 'N', 't', 't', 'k', 't', 'p', 't'];

function hangulSkeleton(code: number): string {
  const offset = code - HANGUL_FIRST;
  const initial = Math.floor(offset / 588);
  const vowel = Math.floor((offset % 588) / 28);
  const final = offset % 28;
  return `${INITIALS[initial] ?? ''}${VOWELS[vowel] ?? ''}${FINALS[final] ?? ''}`;
}

const isVowel = (char: string | undefined): boolean => char !== undefined && 'aeiouyw'.includes(char);

/** Single letters to consonant classes (letters not listed stand for themselves). */
const LATIN_CLASS: Readonly<Record<string, string>> = { g: 'k', c: 'k', q: 'k', d: 't', b: 'p', f: 'p', v: 'p', z: 'j', x: 's', r: 'l' };
/** Digraphs to one class: "ng" before a consonant or at the end is /ŋ/ (`N`). */
const LATIN_DIGRAPHS: Readonly<Record<string, string>> = { ck: 'k', kh: 'k', ch: 'j', zh: 'j', dg: 'j', sh: 's', th: 't', ph: 'p' };

/**
 * Latin letters to consonant classes and `a` for each vowel (y and w included), in one pass:
 * digraphs first ("tch", "ch", "sh", "th", "ph", "ck", "ng" before a consonant), an `r` before
 * a consonant or at the end dropped, "eu" (Revised Romanization's ㅡ) dropped as the Hangul side
 * drops ㅡ.
 */
function latinSkeleton(word: string): string {
  let out = '';
  for (let i = 0; i < word.length; ) {
    const char = word[i]!;
    const next = word[i + 1];
    if (char === 'n' && next === 'g' && !isVowel(word[i + 2])) {
      out += 'N';
      i += 2;
    } else if (char === 't' && next === 'c' && word[i + 2] === 'h') {
      out += 'j';
      i += 3;
    } else if (next !== undefined && LATIN_DIGRAPHS[char + next] !== undefined) {
      out += LATIN_DIGRAPHS[char + next];
      i += 2;
    } else if (char === 'e' && next === 'u') {
      i += 2;
    } else if (isVowel(char)) {
      out += 'a';
      i += 1;
    } else if (char === 'r' && !isVowel(next)) {
      i += 1;
    } else {
      out += LATIN_CLASS[char] ?? char;
      i += 1;
    }
  }
  return out;
}

/** `text` with every run of one repeated character cut to one. */
function collapseRepeats(text: string): string {
  let out = '';
  for (const char of text) if (out[out.length - 1] !== char) out += char;
  return out;
}

/**
 * The sound skeleton of a word of one script (lower-case Latin letters or Hangul syllables),
 * e.g. both "hanbitsangsa" and "한빛상사" give "hanpathaNsa"-like frames that compare equal.
 * Repeated symbols collapse ("lotte" and "롯데" both keep one `t`). Empty for other scripts.
 */
export function soundSkeleton(word: string): string {
  let raw = '';
  if (/^[a-z]+$/.test(word)) {
    raw = latinSkeleton(word);
  } else {
    for (const char of word) {
      const code = char.codePointAt(0) ?? 0;
      if (code < HANGUL_FIRST || code > HANGUL_LAST) return '';
      raw += hangulSkeleton(code);
    }
    // A syllable's final ㅇ sounds /ng/ only before a consonant or at the end; before a vowel
    // (받침 연음) Latin writes "ng" + vowel, which the Latin rules keep as n + g.
    raw = raw.replace(/N(?=a)/g, 'nk');
  }
  return collapseRepeats(raw);
}

/**
 * The skeletons of a word: one, or two when a Latin word has a `g` or `c` before e, i or y,
 * which English reads soft ("energy", "office") and romanised Korean hard ("geum").
 */
export function soundSkeletons(word: string): readonly string[] {
  let skeletons = skeletonCache.get(word);
  if (!skeletons) {
    if (skeletonCache.size >= SKELETON_CACHE_SIZE) skeletonCache.clear();
    skeletons = computeSkeletons(word);
    skeletonCache.set(word, skeletons);
  }
  return skeletons;
}

/** Skeletons by word: names repeat across a ledger. Dropped when full. */
const skeletonCache = new Map<string, readonly string[]>();
const SKELETON_CACHE_SIZE = 50_000;

function computeSkeletons(word: string): readonly string[] {
  const hard = soundSkeleton(word);
  if (!/^[a-z]+$/.test(word) || !/[gc][eiy]/.test(word)) return [hard];
  const soft = soundSkeleton(word.replace(/g(?=[eiy])/g, 'j').replace(/c(?=[eiy])/g, 's'));
  return soft === hard ? [hard] : [hard, soft];
}

/** Whether a word is written in Hangul (syllables only). */
export const isHangulWord = (word: string): boolean => /^[\uac00-\ud7a3]+$/.test(word);

/** Whether a word is written in lower-case Latin letters only. */
export const isLatinWord = (word: string): boolean => /^[a-z]+$/.test(word);

/** The consonant frame of a skeleton: its vowels left out ("tasampalas" -> "tsmpls"). */
export const consonantFrame = (sound: string): string => collapseRepeats(sound.replace(/a/g, ''));
