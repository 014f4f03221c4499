import * as z from 'zod';

/**
 * The webhook archive's record format, the one definition the ingest writes and replay (tools/replay.ts) and Athena
 * read (docs/archive.md). One JSON line per webhook that passed authentication, as the provider sent it: the raw
 * body and what is needed to read it again (receipt time, which the status-time window is measured from, the
 * request id, the payload format the ingest recognised, the headers the normalization reads). Never a signature, a
 * token, a header that authenticates, or the path token. Pure: no I/O, no clock.
 *
 * A body is kept as UTF-8 text (`body`) when it is valid UTF-8, so Athena can `json_extract` it; otherwise as
 * `body_base64`. A line longer than the archive's record limit (Kinesis Data Firehose: 1,000 KiB) is split into
 * `parts` lines sharing one `id`, which replay joins again; every other webhook is one line with `parts: 1`.
 */
export const ARCHIVE_RECORD_VERSION = 1;

/**
 * Kinesis Data Firehose's largest record, before base64: "1,000 KiB" in its quota page, "1,000 KB" in the
 * PutRecordBatch reference (https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html); the
 * smaller reading.
 */
export const FIREHOSE_MAX_RECORD_BYTES = 1_000_000;

/** Room left in every line for the fields around the body (the id, times, format, content type are far shorter). */
const ENVELOPE_BYTES = 2_048;

export const ArchiveRecord = z
  .object({
    v: z.literal(ARCHIVE_RECORD_VERSION),
    /** One per archived webhook; shared by its parts. */
    id: z.string().min(1).max(100),
    /** The receipt (API Gateway's requestTimeEpoch), UTC ISO-8601 with milliseconds. */
    received_at: z.iso.datetime({ offset: false }),
    request_id: z.string().max(200).nullable(),
    /** The payload format the ingest recognised; null when it recognised none (answered 400). */
    format: z.string().max(40).nullable(),
    /** How the ingest authenticated it (the method's name, never the credential). */
    auth: z.string().max(40).nullable(),
    /** ARCHIVED_HEADERS present on the request, by lower-case name. */
    headers: z.record(z.string(), z.string().max(500)),
    /** Length of the raw body in bytes (all parts together). */
    bytes: z.number().int().nonnegative(),
    part: z.number().int().positive(),
    parts: z.number().int().positive(),
    body: z.string().optional(),
    body_base64: z.string().optional(),
  })
  .refine((r) => (r.body === undefined) !== (r.body_base64 === undefined), 'exactly one of body and body_base64')
  .refine((r) => r.part <= r.parts, 'part is beyond parts');
export type ArchiveRecord = z.infer<typeof ArchiveRecord>;

/** A webhook as archived and as replay reads it back. */
export interface ArchivedWebhook {
  id: string;
  receivedAtMs: number;
  requestId?: string | undefined;
  format?: string | undefined;
  auth?: string | undefined;
  /** ARCHIVED_HEADERS present on the request, by lower-case name. */
  headers?: Record<string, string> | undefined;
  /** The exact bytes received. */
  body: Uint8Array;
}

/**
 * The only headers kept: what the normalization reads (AiSensy's project id names the sender when the envelope does
 * not) and what says how to read the body. Never one that authenticates (signatures, tokens, cookies).
 */
export const ARCHIVED_HEADERS = ['content-type', 'x-aisensy-project-id'] as const;

/** ARCHIVED_HEADERS of a request's lower-case headers, each cut to 500 characters. */
export function archivedHeaders(headers: Record<string, string | undefined>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of ARCHIVED_HEADERS) {
    const value = headers[name];
    if (value !== undefined) kept[name] = value.slice(0, 500);
  }
  return kept;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The body as text when it is valid UTF-8, else undefined. */
function asUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

const encodedBytes = (text: string) => Buffer.byteLength(JSON.stringify(text), 'utf8');

/** Splits `text` so that each piece, JSON-encoded, is at most `limit` bytes; never inside a surrogate pair. */
function splitText(text: string, limit: number): string[] {
  if (encodedBytes(text) <= limit) return [text];
  let cut = Math.floor(text.length / 2);
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut += 1; // keep a high surrogate with its low one
  return [...splitText(text.slice(0, cut), limit), ...splitText(text.slice(cut), limit)];
}

/**
 * The archive lines of one webhook, each ending in a newline (the records are concatenated as delivered: Firehose
 * adds no delimiter). More than one line only when the webhook does not fit in `maxRecordBytes`.
 */
export function archiveLines(webhook: ArchivedWebhook, maxRecordBytes = FIREHOSE_MAX_RECORD_BYTES): string[] {
  const text = asUtf8(webhook.body);
  const field = text === undefined ? 'body_base64' : 'body';
  const content = text ?? Buffer.from(webhook.body).toString('base64');
  const pieces = splitText(content, maxRecordBytes - ENVELOPE_BYTES);
  const envelope = {
    v: ARCHIVE_RECORD_VERSION,
    id: webhook.id,
    received_at: new Date(webhook.receivedAtMs).toISOString(),
    request_id: webhook.requestId ?? null,
    format: webhook.format ?? null,
    auth: webhook.auth ?? null,
    headers: webhook.headers ?? {},
    bytes: webhook.body.byteLength,
  };
  return pieces.map(
    (piece, index) => `${JSON.stringify({ ...envelope, part: index + 1, parts: pieces.length, [field]: piece })}\n`,
  );
}

/** A line that is not a record of this format, with the reason (replay counts and reports them). */
export class ArchiveLineError extends Error {
  override readonly name = 'ArchiveLineError';
}

export function parseArchiveLine(line: string): ArchiveRecord {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    throw new ArchiveLineError('not JSON');
  }
  const version = (json as { v?: unknown } | null)?.v;
  if (version !== ARCHIVE_RECORD_VERSION) throw new ArchiveLineError(`unknown record version ${String(version)}`);
  const parsed = ArchiveRecord.safeParse(json);
  if (!parsed.success) {
    throw new ArchiveLineError(
      `not an archive record: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'record'} ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}

/**
 * Reads archive lines back into webhooks: a one-part record at once, the parts of a split one when the last has
 * arrived (in any order; a part delivered twice, as Firehose may, is counted once).
 */
export class ArchiveAssembler {
  private readonly pending = new Map<string, { parts: number; pieces: Map<number, ArchiveRecord> }>();

  /** The webhook this line completes, or undefined while parts are missing. Throws ArchiveLineError. */
  push(line: string): ArchivedWebhook | undefined {
    const record = parseArchiveLine(line);
    if (record.parts === 1) return toWebhook([record]);
    let entry = this.pending.get(record.id);
    if (!entry) {
      entry = { parts: record.parts, pieces: new Map() };
      this.pending.set(record.id, entry);
    }
    entry.pieces.set(record.part, record);
    if (entry.pieces.size < entry.parts) return undefined;
    this.pending.delete(record.id);
    return toWebhook([...entry.pieces.values()].sort((a, b) => a.part - b.part));
  }

  /** Split webhooks some of whose parts never came (their ids and how many parts were seen). */
  incomplete(): { id: string; seen: number; parts: number }[] {
    return [...this.pending].map(([id, entry]) => ({ id, seen: entry.pieces.size, parts: entry.parts }));
  }
}

function toWebhook(records: ArchiveRecord[]): ArchivedWebhook {
  const first = records[0]!;
  const body =
    first.body !== undefined
      ? Buffer.from(records.map((r) => r.body ?? '').join(''), 'utf8')
      : Buffer.from(records.map((r) => r.body_base64 ?? '').join(''), 'base64');
  if (body.byteLength !== first.bytes) {
    throw new ArchiveLineError(`record ${first.id}: ${body.byteLength} bytes read back, ${first.bytes} archived`);
  }
  return {
    id: first.id,
    receivedAtMs: Date.parse(first.received_at),
    requestId: first.request_id ?? undefined,
    format: first.format ?? undefined,
    auth: first.auth ?? undefined,
    headers: first.headers,
    body: new Uint8Array(body),
  };
}

/** The archive's date layout: Hive-style partitions, UTC, one per hour (Athena partition projection reads them). */
export const ARCHIVE_DATA_PREFIX = 'webhooks/';

/** Where the records of an hour are, under the archive's root: `year=2026/month=11/day=25/hour=09/`. */
export function archivePartition(atMs: number): string {
  const d = new Date(atMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return `year=${d.getUTCFullYear()}/month=${two(d.getUTCMonth() + 1)}/day=${two(d.getUTCDate())}/hour=${two(d.getUTCHours())}/`;
}

/**
 * The same layout as Kinesis Data Firehose writes it (its `!{timestamp:...}` expressions are the record's arrival
 * at Firehose, UTC: within seconds of the receipt, so replay also reads the hour before and after its range).
 */
export const FIREHOSE_ARCHIVE_PREFIX = `${ARCHIVE_DATA_PREFIX}year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/`;
/** Records Firehose could not deliver, by error type (required beside a prefix with expressions). */
export const FIREHOSE_ERROR_PREFIX =
  'errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/';

/** The partitions (hours) that may hold records received in [fromMs, toMs): one hour of margin on each side. */
export function archivePartitionsBetween(fromMs: number, toMs: number): string[] {
  const HOUR = 3_600_000;
  const partitions: string[] = [];
  for (let at = Math.floor(fromMs / HOUR) * HOUR - HOUR; at < toMs + HOUR; at += HOUR) {
    partitions.push(archivePartition(at));
  }
  return partitions;
}
