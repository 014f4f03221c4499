import fc from 'fast-check';
import { toStorableText } from '../../lambdas/domain/storable-text';

/** What PostgreSQL refuses (NUL, lone surrogates), as a test reads it independently. */
function hasUnstorable(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit === 0) return true;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
      i++;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) return true;
  }
  return false;
}

describe('toStorableText', () => {
  it.each([
    ['a NUL', 'a\u0000b', 'a\ufffdb'],
    ['a truncated emoji (lone high surrogate) at the end', 'offer \ud83d', 'offer \ufffd'],
    ['a lone low surrogate', '\ude00x', '\ufffdx'],
    ['two high surrogates in a row', '\ud83d\ud83d\ude00', '\ufffd😀'],
  ])('replaces %s with U+FFFD', (_name, input, expected) => {
    expect(toStorableText(input)).toBe(expected);
  });

  it('keeps every other character as sent, emoji and control characters included', () => {
    // U+FFFE and U+FFFF included: PostgreSQL stores them, and the queue body escapes them for SQS.
    const text = 'दिवाली ऑफ़र 😀🙂 tab\there \u0001 \ufffd \ufffe\uffff';
    expect(toStorableText(text)).toBe(text);
  });

  it('leaves nothing PostgreSQL or SQS refuses, changes only what it must, and is idempotent', () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.oneof(
            fc.constantFrom('\u0000', '\ud83d', '\ude00', '\ufffe', '\uffff'),
            fc.string({ unit: 'binary', maxLength: 2 }),
          ),
        }),
        (text) => {
          const storable = toStorableText(text);
          expect(hasUnstorable(storable)).toBe(false);
          expect(storable).toHaveLength(text.length);
          expect(toStorableText(storable)).toBe(storable);
          if (!hasUnstorable(text)) expect(storable).toBe(text);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
