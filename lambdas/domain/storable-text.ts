/**
 * Text a client sends can hold characters the stores downstream refuse: PostgreSQL cannot hold U+0000 in text or
 * jsonb (SQLSTATE 22P05) nor a lone UTF-16 surrogate (a truncated emoji, `\ud83d`, which real campaign names
 * produce). One such character used to make a whole queue message unstorable, so every string that travels to the
 * queue is made storable here, at the domain boundary: each of those characters becomes U+FFFD (the Unicode
 * replacement character), everything else is kept as sent. (SQS refuses U+FFFE and U+FFFF in a message body, but
 * PostgreSQL stores them: the queue body carries them as JSON escapes instead, see toSqsJson in queue-message.ts.)
 */

/** U+FFFD: what every unstorable character becomes. */
export const REPLACEMENT_CHARACTER = '\uFFFD';

// A NUL, a high surrogate not followed by a low one, or a low one not preceded by a high one.
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what this must find
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `text` with U+0000 and lone surrogates replaced by U+FFFD. */
export function toStorableText(text: string): string {
  return text.replace(UNSTORABLE, REPLACEMENT_CHARACTER);
}

/** `toStorableText` for an optional value. */
export function toStorableOptional(text: string | null | undefined): string | undefined {
  return text === null || text === undefined ? undefined : toStorableText(text);
}

/** Bounds on a free-form JSON object a provider sends (`conversation`, `pricing`). */
export interface JsonObjectLimits {
  /** Levels of nesting below the object itself. @default 16 */
  maxDepth?: number;
  /** Values in the whole object, every key's value and every array element counted. @default 1000 */
  maxNodes?: number;
}

export type StorableJsonResult = { ok: true; value: Record<string, unknown> } | { ok: false; reason: string };

/**
 * Copies a free-form JSON object with every key and string made storable, refusing one nested deeper than
 * `maxDepth` or holding more than `maxNodes` values. The bounds are checked while copying, so the recursion never
 * goes deeper than `maxDepth + 2` frames whatever the input (JSON.stringify of a 4,500-level object overflows the
 * stack) and the work is at most `maxNodes` steps whatever the size.
 */
export function toStorableJsonObject(value: unknown, limits: JsonObjectLimits = {}): StorableJsonResult {
  const maxDepth = limits.maxDepth ?? 16;
  const maxNodes = limits.maxNodes ?? 1000;
  if (!isPlainObject(value)) return { ok: false, reason: 'expected an object' };
  let nodes = 0;
  let failure: string | undefined;

  const copy = (node: unknown, depth: number): unknown => {
    if (failure) return undefined;
    if (++nodes > maxNodes) {
      failure = `holds more than ${maxNodes} values`;
      return undefined;
    }
    if (typeof node === 'string') return toStorableText(node);
    if (node === null || typeof node !== 'object') return node;
    if (depth > maxDepth) {
      failure = `is nested deeper than ${maxDepth} levels`;
      return undefined;
    }
    if (Array.isArray(node)) {
      const out: unknown[] = [];
      for (const element of node) {
        out.push(copy(element, depth + 1));
        if (failure) return undefined;
      }
      return out;
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(node)) {
      // defineProperty: a "__proto__" key stays data, as JSON.parse made it, and cannot reach the prototype.
      Object.defineProperty(out, toStorableText(key), {
        value: copy((node as Record<string, unknown>)[key], depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      if (failure) return undefined;
    }
    return out;
  };

  const result = copy(value, 0);
  if (failure) return { ok: false, reason: failure };
  return { ok: true, value: result as Record<string, unknown> };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
