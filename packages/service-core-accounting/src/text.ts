const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Whether PostgreSQL can store `text` in a text or jsonb column: no NUL character and no lone
 * UTF-16 surrogate. Inputs are checked with this so such strings are a 400, never a 500.
 */
export function isStorableText(text: string): boolean {
  return !text.includes('\u0000') && !LONE_SURROGATE.test(text);
}

export const STORABLE_TEXT_MESSAGE = 'contains characters that cannot be stored (NUL or a lone surrogate)';
