import type { IncomingMessage } from 'node:http';
import express, { type RequestHandler } from 'express';

/** The methods whose requests carry a body here; the API's GET routes never read one. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** How deep arrays and objects may nest in a JSON body; deeper is `400 JSON_TOO_DEEP` (docs/API.md). */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * Whether the JSON text in `bytes` (UTF-8) opens more than `max` arrays and objects one inside
 * another. One pass over the bytes with a counter: no recursion, nothing allocated. Brackets
 * inside strings do not count (every byte of a multi-byte UTF-8 character is >= 0x80, so none is
 * mistaken for one). The text need not be valid JSON; `JSON.parse` judges that afterwards.
 */
export function nestsDeeperThan(bytes: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_BRACKET || byte === OPEN_BRACE) {
      if (++depth > max) return true;
    } else if (byte === CLOSE_BRACKET || byte === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}

/** An error the body parser passes on as is; its `type` names the error code (middleware/errors.ts). */
function bodyError(status: number, type: string, message: string): Error {
  return Object.assign(new Error(message), { status, type, expose: true });
}

/**
 * Runs on the raw body before it is decoded and parsed. Only UTF-8 is read (RFC 8259 section 8.1),
 * so the depth scan sees the bytes `JSON.parse` will; a body nesting deeper than
 * `MAX_JSON_DEPTH` is refused before `JSON.parse` spends time on it (a 1 MB body of `[[[...`
 * costs `JSON.parse` hundreds of milliseconds of the event loop, the scan about one) and before
 * anything walks the parsed value.
 */
function checkRawJson(_req: IncomingMessage, _res: unknown, body: Buffer, encoding: string): void {
  if (encoding !== 'utf-8') throw bodyError(415, 'charset.unsupported', `unsupported charset "${encoding.toUpperCase()}"`);
  if (nestsDeeperThan(body, MAX_JSON_DEPTH)) throw bodyError(400, 'entity.too.deep', `JSON nests deeper than ${MAX_JSON_DEPTH} levels`);
}

/**
 * `express.json({limit})` for requests that may carry a body, with the depth and charset checks
 * of `checkRawJson`. GET, HEAD and DELETE requests, most of the traffic, skip the body parser's
 * checks entirely (docs/BENCHMARKS.md); a body sent with them is ignored, as no handler of theirs
 * reads `req.body`.
 */
export function jsonBody(limit: string): RequestHandler {
  const parse = express.json({ limit, verify: checkRawJson });
  return (req, res, next) => {
    if (BODY_METHODS.has(req.method)) parse(req, res, next);
    else next();
  };
}
