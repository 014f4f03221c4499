import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { AccountEvent } from '../lambdas/domain/account-events';
import { ArchiveAssembler, ArchiveLineError, archivePartitionsBetween } from '../lambdas/domain/archive-record';
import { normalizeWebhook, WebhookFormatError, WebhookTooLargeError } from '../lambdas/domain/normalize-webhook';
import type { StatusUpdate } from '../lambdas/domain/status-update';
import type { StatusTimeWindow } from '../lambdas/domain/timestamps';
import { applyIsolatingDataErrors } from '../lambdas/processor/isolate-data-errors';
import { isDataError, type StatusStore } from '../lambdas/store/status-store';

/**
 * Replay (`npm run replay`, docs/archive.md): reads the webhook archive of a period, runs today's normalization
 * on every raw body, with the webhook's own receipt as the receipt, and applies the updates through
 * apply_status_updates. The merge is order-independent and idempotent: a table that already holds them does not
 * change, an empty one is rebuilt, and a rule fixed or a field added since reaches the old messages.
 *
 * Meta's account and template events in the same bodies are recorded through record_account_events, whose unique
 * key (field, WABA, time, the change's JSON: index account_events_once, migration 0018) makes a second replay, or a
 * replay over events the processor recorded live, add nothing. Replay never notifies them: they are history.
 */

/** Where the archive's files are: a directory of the local layout, or objects under an S3 prefix. */
export interface ArchiveSource {
  describe: string;
  /** The files (objects) of one partition (`year=.../hour=../`), in name order. */
  list(partition: string): Promise<string[]>;
  /** A file's bytes, as stored (GZIP or not). */
  open(name: string): Promise<Readable>;
}

export function localArchiveSource(dataRoot: string): ArchiveSource {
  return {
    describe: dataRoot,
    async list(partition) {
      const dir = path.join(dataRoot, partition);
      const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return [] as string[];
        throw error;
      });
      return names.sort().map((name) => path.join(dir, name));
    },
    open: async (name) => createReadStream(name),
  };
}

/** `s3://bucket/prefix`: the prefix is the archive's data root (the stack's ArchiveLocation output). */
export function s3ArchiveSource(client: S3Client, url: string): ArchiveSource {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!match) throw new Error(`${url} is not an s3://bucket/prefix address`);
  const bucket = match[1]!;
  const prefix = match[2] && !match[2].endsWith('/') ? `${match[2]}/` : (match[2] ?? '');
  return {
    describe: url,
    async list(partition) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}${partition}`, ContinuationToken: token }),
        );
        for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
        token = page.NextContinuationToken;
      } while (token);
      return keys.sort();
    },
    async open(key) {
      const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return object.Body as Readable;
    },
  };
}

/** The lines of a file, gunzipped when it starts with GZIP's magic bytes (Firehose's objects), else as they are. */
async function* linesOf(stream: Readable): AsyncGenerator<string> {
  const iterator = stream[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return;
  const head = Buffer.from(first.value as Uint8Array);
  const rest = new PassThrough();
  rest.write(head);
  void (async () => {
    try {
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        if (!rest.write(next.value)) await new Promise((resolve) => rest.once('drain', resolve));
      }
      rest.end();
    } catch (error) {
      rest.destroy(error as Error);
    }
  })();
  const gzipped = head[0] === 0x1f && head[1] === 0x8b;
  const text = gzipped ? rest.pipe(createGunzip()) : rest;
  for await (const line of createInterface({ input: text, crlfDelay: Infinity })) if (line.trim()) yield line;
}

export interface ReplayOptions {
  source: ArchiveSource;
  fromMs: number;
  toMs: number;
  /** Unset: a dry run (read and normalize, apply nothing). */
  store?: StatusStore;
  /** The ingest's window around the receipt (MAX_STATUS_AGE_DAYS, MAX_STATUS_AHEAD_SECONDS). */
  window: StatusTimeWindow;
  maxStatusesPerWebhook: number;
  /** Statuses per apply_status_updates call. @default 500 */
  batchSize?: number;
  onProgress?: (summary: ReplaySummary) => void;
}

export interface ReplaySummary {
  files: number;
  /** Webhooks read whose receipt is in the period. */
  bodies: number;
  /** Statuses the normalization produced and (unless a dry run) applied. */
  statuses: number;
  /** Rows apply_status_updates inserted or changed. */
  rowsInserted: number;
  rowsChanged: number;
  /** Bodies the current rules refuse as a whole (not JSON, no known envelope, too many statuses), by reason. */
  bodiesRefused: Record<string, number>;
  /** Statuses rejected inside a known envelope, by reason. */
  statusesRejected: Record<string, number>;
  /** Statuses the database refused for their data, by error. */
  statusesUnstorable: Record<string, number>;
  /** Lines that are not archive records, and split webhooks missing parts. */
  unreadableLines: Record<string, number>;
  incomplete: number;
  /** Meta's account and template events found in the bodies. */
  accountEvents: number;
  /** Of those, recorded now for the first time; the rest were stored already (by the processor or a replay). */
  accountEventsRecorded: number;
  /** Account events the database refused for their data, by error. */
  accountEventsUnstorable: Record<string, number>;
}

const count = (tally: Record<string, number>, reason: string) => {
  tally[reason] = (tally[reason] ?? 0) + 1;
};

/** Item reasons carry the value or the index; the tally groups them by their wording. */
const reasonKind = (reason: string) => reason.replace(/"[^"]*"/g, '"…"').replace(/\d+/g, 'N');

export async function replayArchive(options: ReplayOptions): Promise<ReplaySummary> {
  const summary: ReplaySummary = {
    files: 0,
    bodies: 0,
    statuses: 0,
    rowsInserted: 0,
    rowsChanged: 0,
    bodiesRefused: {},
    statusesRejected: {},
    statusesUnstorable: {},
    unreadableLines: {},
    incomplete: 0,
    accountEvents: 0,
    accountEventsRecorded: 0,
    accountEventsUnstorable: {},
  };
  const batchSize = options.batchSize ?? 500;
  let batch: StatusUpdate[] = [];
  let events: AccountEvent[] = [];
  const flushEvents = async () => {
    if (events.length === 0) return;
    const pending = events;
    events = [];
    if (!options.store) return;
    const store = options.store;
    const result = await applyIsolatingDataErrors(pending, (slice) => store.recordAccountEvents(slice), isDataError);
    summary.accountEventsRecorded += result.results.length;
    for (const { error } of result.unstorable) count(summary.accountEventsUnstorable, (error as Error).message);
  };
  const flush = async () => {
    await flushEvents();
    if (batch.length === 0) return;
    const updates = batch;
    batch = [];
    summary.statuses += updates.length;
    if (!options.store) return;
    const store = options.store;
    const result = await applyIsolatingDataErrors(updates, (slice) => store.applyStatusUpdates(slice), isDataError);
    for (const change of result.results) {
      if (change.inserted) summary.rowsInserted++;
      else summary.rowsChanged++;
    }
    for (const { error } of result.unstorable) count(summary.statusesUnstorable, (error as Error).message);
  };

  const assembler = new ArchiveAssembler();
  for (const partition of archivePartitionsBetween(options.fromMs, options.toMs)) {
    for (const file of await options.source.list(partition)) {
      summary.files++;
      for await (const line of linesOf(await options.source.open(file))) {
        let webhook: ReturnType<ArchiveAssembler['push']>;
        try {
          webhook = assembler.push(line);
        } catch (error) {
          if (!(error instanceof ArchiveLineError)) throw error;
          count(summary.unreadableLines, error.message);
          continue;
        }
        if (!webhook || webhook.receivedAtMs < options.fromMs || webhook.receivedAtMs >= options.toMs) continue;
        summary.bodies++;
        try {
          const normalized = normalizeWebhook(JSON.parse(Buffer.from(webhook.body).toString('utf8')), {
            maxItems: options.maxStatusesPerWebhook,
            receipt: { receivedAtMs: webhook.receivedAtMs, window: options.window },
            projectId: webhook.headers?.['x-aisensy-project-id'],
          });
          if (normalized.updates.length + normalized.rejected.length > options.maxStatusesPerWebhook) {
            count(summary.bodiesRefused, `more than ${options.maxStatusesPerWebhook} statuses`);
            continue;
          }
          for (const rejected of normalized.rejected) count(summary.statusesRejected, reasonKind(rejected.reason));
          summary.accountEvents += normalized.accountEvents.length;
          events.push(...normalized.accountEvents);
          batch.push(...normalized.updates);
        } catch (error) {
          if (error instanceof SyntaxError) count(summary.bodiesRefused, 'body is not valid JSON');
          else if (error instanceof WebhookFormatError || error instanceof WebhookTooLargeError)
            count(summary.bodiesRefused, error.message);
          else throw error;
          continue;
        }
        if (batch.length >= batchSize || events.length >= batchSize) {
          await flush();
          options.onProgress?.(summary);
        }
      }
    }
  }
  await flush();
  summary.incomplete = assembler.incomplete().length;
  return summary;
}

/** The summary as `npm run replay` prints it. */
export function formatSummary(summary: ReplaySummary, dryRun: boolean): string {
  const tally = (title: string, counts: Record<string, number>) => {
    const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
    if (entries.length === 0) return [];
    return [`${title}:`, ...entries.map(([reason, n]) => `  ${n}  ${reason}`)];
  };
  const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
  return [
    `files read:          ${summary.files}`,
    `bodies read:         ${summary.bodies}`,
    `statuses ${dryRun ? 'found:    ' : 'applied:  '}  ${summary.statuses}`,
    ...(dryRun
      ? ['rows changed:        (dry run: nothing applied)']
      : [
          `rows changed:        ${summary.rowsInserted + summary.rowsChanged} (${summary.rowsInserted} inserted, ${summary.rowsChanged} updated)`,
        ]),
    `bodies refused:      ${total(summary.bodiesRefused)}`,
    `statuses rejected:   ${total(summary.statusesRejected)}`,
    `statuses unstorable: ${total(summary.statusesUnstorable)}`,
    `unreadable lines:    ${total(summary.unreadableLines)}; split webhooks missing parts: ${summary.incomplete}`,
    ...(summary.accountEvents
      ? [
          dryRun
            ? `account and template events found: ${summary.accountEvents} (dry run: nothing recorded)`
            : `account and template events: ${summary.accountEvents} found, ${summary.accountEventsRecorded} recorded, ${summary.accountEvents - summary.accountEventsRecorded - total(summary.accountEventsUnstorable)} already stored, ${total(summary.accountEventsUnstorable)} unstorable (none notified)`,
        ]
      : []),
    ...tally('bodies refused, by reason', summary.bodiesRefused),
    ...tally('statuses rejected, by reason', summary.statusesRejected),
    ...tally('statuses unstorable, by error', summary.statusesUnstorable),
    ...tally('account events unstorable, by error', summary.accountEventsUnstorable),
    ...tally('unreadable lines, by reason', summary.unreadableLines),
  ].join('\n');
}
