import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { archiveLines } from '../../lambdas/domain/archive-record';
import { flatWebhook } from '../../testkit/webhooks';
import { formatSummary, replayArchive, s3ArchiveSource } from '../../tools/replay-archive';

const HOUR = 3_600_000;
const T = Date.UTC(2026, 10, 25, 10, 30);
const line = (id: string, receivedAtMs: number, body: unknown) =>
  archiveLines({ id, receivedAtMs, body: new Uint8Array(Buffer.from(JSON.stringify(body))) }).join('');
const status = (id: string, atMs: number) =>
  flatWebhook([{ id, status: 'delivered', timestamp: String(Math.floor(atMs / 1000)) }]);

describe('replay from S3', () => {
  const s3 = mockClient(S3Client);
  afterEach(() => s3.reset());

  it('lists each hour under the prefix (every page), reads Firehose GZIP objects and plain ones, and keeps to the period', async () => {
    const hour10 = 'webhooks/year=2026/month=11/day=25/hour=10/';
    const hour11 = 'webhooks/year=2026/month=11/day=25/hour=11/';
    const gz = gzipSync(line('a', T, status('wamid.a', T)) + line('b', T + 60_000, status('wamid.b', T)));
    const bodies: Record<string, Buffer> = {
      [`${hour10}s-1.jsonl.gz`]: gz,
      [`${hour10}plain.jsonl`]: Buffer.from(`${line('c', T + 120_000, status('wamid.c', T))}not a record\n`),
      // The hour after the period, read for Firehose's arrival-time margin: its record was received outside.
      [`${hour11}late.jsonl`]: Buffer.from(line('d', T + HOUR, status('wamid.d', T))),
    };
    s3.on(ListObjectsV2Command).callsFake((input: { Prefix: string; ContinuationToken?: string }) => {
      if (input.Prefix === hour10)
        return input.ContinuationToken
          ? { Contents: [{ Key: `${hour10}plain.jsonl` }] }
          : { Contents: [{ Key: `${hour10}s-1.jsonl.gz` }], NextContinuationToken: 'next' };
      if (input.Prefix === hour11) return { Contents: [{ Key: `${hour11}late.jsonl` }] };
      return {};
    });
    s3.on(GetObjectCommand).callsFake((input: { Bucket: string; Key: string }) => {
      expect(input.Bucket).toBe('archive-bucket');
      const body = bodies[input.Key]!;
      // Delivered in small chunks, as a network stream is: the GZIP header and the lines cross chunk boundaries.
      const chunks = Array.from({ length: Math.ceil(body.length / 7) }, (_, i) => body.subarray(i * 7, i * 7 + 7));
      return { Body: Readable.from(chunks) };
    });

    const summary = await replayArchive({
      source: s3ArchiveSource(new S3Client({ region: 'eu-west-1' }), 's3://archive-bucket/webhooks'),
      fromMs: Date.UTC(2026, 10, 25, 10),
      toMs: Date.UTC(2026, 10, 25, 11),
      window: { maxPastMs: 86_400_000, maxFutureMs: 300_000 },
      maxStatusesPerWebhook: 5_000,
    });
    expect(summary).toMatchObject({ files: 3, bodies: 3, statuses: 3, unreadableLines: { 'not JSON': 1 } });
    expect(formatSummary(summary, true)).toContain('unreadable lines, by reason:\n  1  not JSON');
  });

  it('refuses a source that is not an s3:// address', () => {
    expect(() => s3ArchiveSource(new S3Client({ region: 'eu-west-1' }), 'https://bucket')).toThrow(
      /s3:\/\/bucket\/prefix/,
    );
  });
});
