import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';

/**
 * What `npm start` keeps of its in-memory queue across a shutdown: the queue messages it accepted (200) but could
 * not store, and its dead letters, written to one JSON file at shutdown and re-queued at the next start. The local
 * queue lives in the process's memory; without this, SIGTERM with the database down lost every accepted status.
 */
export const QueueSpool = z.object({
  v: z.literal(1),
  written_at: z.string(),
  /** Queue message bodies (each a status message of up to 100 statuses), still to be stored. */
  queued: z.array(z.string()),
  /** Bodies the local DLQ held: re-queued to the DLQ, not retried (a redrive is a person's decision). */
  dead_letters: z.array(z.string()),
});
export type QueueSpool = z.infer<typeof QueueSpool>;

/** Writes the spool atomically (a temporary file renamed), so a crash mid-write never leaves half a file. */
export function writeQueueSpool(file: string, content: Omit<QueueSpool, 'v' | 'written_at'>, now = new Date()): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify({ v: 1, written_at: now.toISOString(), ...content } satisfies QueueSpool));
  renameSync(temporary, file);
}

/** Reads the spool if there is one; a file that is not a spool fails the start (never silently dropped). */
export function readQueueSpool(file: string): QueueSpool | undefined {
  if (!existsSync(file)) return undefined;
  const parsed = QueueSpool.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success)
    throw new Error(`${file} is not a queue spool written by npm start: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

export function removeQueueSpool(file: string): void {
  rmSync(file, { force: true });
}

/** Statuses in queue message bodies (a body that is not a status message counts 0). */
export function countStatuses(bodies: readonly string[]): number {
  let total = 0;
  for (const body of bodies) {
    try {
      const statuses = (JSON.parse(body) as { statuses?: unknown }).statuses;
      if (Array.isArray(statuses)) total += statuses.length;
    } catch {
      // not a status message: nothing to count
    }
  }
  return total;
}
