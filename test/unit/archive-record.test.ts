import * as fc from 'fast-check';
import {
  ArchiveAssembler,
  type ArchivedWebhook,
  archiveLines,
  archivePartition,
  archivePartitionsBetween,
  FIREHOSE_MAX_RECORD_BYTES,
  parseArchiveLine,
} from '../../lambdas/domain/archive-record';

const webhook = (body: Uint8Array | string, overrides: Partial<ArchivedWebhook> = {}): ArchivedWebhook => ({
  id: 'a1',
  receivedAtMs: Date.UTC(2026, 10, 25, 9, 30, 0, 123),
  requestId: 'req-1',
  format: 'meta',
  auth: 'meta-signature',
  headers: { 'content-type': 'application/json' },
  body: typeof body === 'string' ? new Uint8Array(Buffer.from(body, 'utf8')) : body,
  ...overrides,
});

/** Reads lines back in the given order. */
function readBack(lines: string[]): ArchivedWebhook[] {
  const assembler = new ArchiveAssembler();
  return lines.flatMap((line) => assembler.push(line) ?? []);
}

describe('archive record format', () => {
  it('keeps a UTF-8 body as text, with what is needed to read it again, in one line', () => {
    const body = '{"object":"whatsapp_business_account","entry":[]}';
    const lines = archiveLines(webhook(body));
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    expect(JSON.parse(lines[0]!)).toEqual({
      v: 1,
      id: 'a1',
      received_at: '2026-11-25T09:30:00.123Z',
      request_id: 'req-1',
      format: 'meta',
      auth: 'meta-signature',
      headers: { 'content-type': 'application/json' },
      bytes: body.length,
      part: 1,
      parts: 1,
      body,
    });
    expect(readBack(lines)).toEqual([webhook(body)]);
  });

  it('keeps bytes that are not UTF-8 as base64, exactly', () => {
    const bytes = new Uint8Array([0x7b, 0xff, 0xfe, 0x00, 0x7d]);
    const [line] = archiveLines(webhook(bytes, { format: undefined }));
    expect(JSON.parse(line!)).toMatchObject({ body_base64: Buffer.from(bytes).toString('base64'), format: null });
    expect(readBack([line!])[0]!.body).toEqual(bytes);
  });

  it('splits a webhook over the Firehose record limit into parts that each fit, and joins them in any order', () => {
    // 1 MiB of JSON full of quotes and non-ASCII: escaping makes it larger than the body.
    const body = JSON.stringify({
      statuses: Array.from({ length: 26_000 }, (_, i) => ({ id: `wamid.${i}`, note: '"é😀"' })),
    });
    expect(Buffer.byteLength(body)).toBeGreaterThan(FIREHOSE_MAX_RECORD_BYTES);
    const lines = archiveLines(webhook(body));
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(FIREHOSE_MAX_RECORD_BYTES);
    const shuffled = [...lines].reverse();
    // A part delivered twice (Firehose is at least once) is counted once.
    const read = readBack([shuffled[0]!, ...shuffled]);
    expect(read).toHaveLength(1);
    expect(Buffer.from(read[0]!.body).toString('utf8')).toBe(body);
  });

  it('round-trips any body, split or not', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 3_000 }),
        fc.string({ maxLength: 2_000, unit: 'grapheme' }),
        (bytes, text) => {
          for (const body of [bytes, new Uint8Array(Buffer.from(text, 'utf8'))]) {
            const lines = archiveLines(webhook(body), 2_048 + 300);
            for (const line of lines) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(2_048 + 300);
            expect(readBack(lines)[0]!.body).toEqual(body);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('names what is wrong with a line that is not a record, and keeps incomplete webhooks apart', () => {
    expect(() => parseArchiveLine('not json')).toThrow('not JSON');
    expect(() => parseArchiveLine('{"v":2}')).toThrow('unknown record version 2');
    const [line] = archiveLines(webhook('{}'));
    const record = JSON.parse(line!);
    expect(() => parseArchiveLine(JSON.stringify({ ...record, body_base64: 'e30=' }))).toThrow(
      /exactly one of body and body_base64/,
    );
    const assembler = new ArchiveAssembler();
    expect(assembler.push(JSON.stringify({ ...record, parts: 3, part: 2 }))).toBeUndefined();
    expect(assembler.incomplete()).toEqual([{ id: 'a1', seen: 1, parts: 3 }]);
  });

  it('lays records out by UTC hour, Hive-style, and lists the hours around a period', () => {
    expect(archivePartition(Date.UTC(2026, 0, 5, 7))).toBe('year=2026/month=01/day=05/hour=07/');
    expect(archivePartitionsBetween(Date.UTC(2026, 0, 5, 7, 30), Date.UTC(2026, 0, 5, 8))).toEqual([
      'year=2026/month=01/day=05/hour=06/',
      'year=2026/month=01/day=05/hour=07/',
      'year=2026/month=01/day=05/hour=08/',
    ]);
  });
});
