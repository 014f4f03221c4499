import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { archiveLines } from '../../lambdas/domain/archive-record';
import type { StatusUpdate } from '../../lambdas/domain/status-update';
import { aisensyMessage, aisensyWebhook, flatWebhook } from '../../testkit/webhooks';
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

  it('normalizes as the ingest did: the archived X-AiSensy-Project-Id header names the sender, the receipt judges the times', async () => {
    const sentAt = T - 60_000;
    const { project_id: _none, ...envelope } = aisensyWebhook(
      aisensyMessage({ messageId: 'wamid.p1', sent_at: sentAt, delivered_at: 0, status: 'SENT' }),
    ) as Record<string, unknown>;
    const archived = archiveLines({
      id: 'p',
      receivedAtMs: T,
      headers: { 'x-aisensy-project-id': 'project-7' },
      body: new Uint8Array(Buffer.from(JSON.stringify(envelope))),
    }).join('');
    s3.on(ListObjectsV2Command).callsFake((input: { Prefix: string }) =>
      input.Prefix.endsWith('hour=10/') ? { Contents: [{ Key: 'k' }] } : {},
    );
    s3.on(GetObjectCommand).callsFake(() => ({ Body: Readable.from([Buffer.from(archived)]) }));
    const applied: StatusUpdate[] = [];
    const summary = await replayArchive({
      source: s3ArchiveSource(new S3Client({ region: 'eu-west-1' }), 's3://archive-bucket/webhooks/'),
      fromMs: Date.UTC(2026, 10, 25, 10),
      toMs: Date.UTC(2026, 10, 25, 11),
      // A day's window measured from the receipt, not from now (2026-11-25 is long past when this runs again).
      window: { maxPastMs: 86_400_000, maxFutureMs: 300_000 },
      maxStatusesPerWebhook: 5_000,
      store: {
        applyStatusUpdates: async (updates: StatusUpdate[]) => {
          applied.push(...updates);
          return updates.map((u) => ({
            message_id: u.message_id,
            inserted: true,
            previous_status: null,
            status: {},
            inferred_stages: [],
          }));
        },
        close: async () => undefined,
      } as never,
    });
    expect(summary).toMatchObject({ bodies: 1, statuses: 1, rowsInserted: 1 });
    expect(applied).toEqual([
      expect.objectContaining({ message_id: 'wamid.p1', status: 'sent', sender_project_id: 'project-7' }),
    ]);
  });

  it('refuses a source that is not an s3:// address', () => {
    expect(() => s3ArchiveSource(new S3Client({ region: 'eu-west-1' }), 'https://bucket')).toThrow(
      /s3:\/\/bucket\/prefix/,
    );
  });
});
