import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { archivePartition } from '../lambdas/domain/archive-record';
import type { WebhookArchive } from '../lambdas/ingest/webhook-archive';

/** `npm start`'s archive: under `.data/archive/` by default, beside the embedded database. */
export const DEFAULT_LOCAL_ARCHIVE_DIR = '.data/archive';

/**
 * The webhook archive of `npm start`: the deployed layout (lambdas/domain/archive-record.ts) under a directory,
 * `<dir>/webhooks/year=.../month=.../day=.../hour=.../local-<pid>-<start>.jsonl`, one file per process and hour,
 * appended line by line (uncompressed: replay reads both this and Firehose's GZIP objects). Like Firehose, the
 * hour is the write's, not the receipt's.
 */
export class FileWebhookArchive implements WebhookArchive {
  private readonly fileName = `local-${process.pid}-${Date.now()}.jsonl`;

  constructor(
    private readonly dir: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** The directory replay reads: `<dir>/webhooks`. */
  get dataRoot(): string {
    return archiveDataRoot(this.dir);
  }

  async put(lines: readonly string[]): Promise<void> {
    const partition = path.join(this.dataRoot, archivePartition(this.now()));
    await mkdir(partition, { recursive: true });
    // One append per webhook: its parts stay together and in order.
    await appendFile(path.join(partition, this.fileName), lines.join(''), 'utf8');
  }
}

/** Where the records are under an archive directory (the S3 layout's `webhooks/` prefix). */
export function archiveDataRoot(dir: string): string {
  return path.join(dir, 'webhooks');
}
