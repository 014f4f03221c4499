import { gzipSync } from 'node:zlib';
import { archiveLines } from '../lambdas/domain/archive-record';
import { aisensyMessage, aisensyWebhook, metaStatus, metaWebhook } from '../testkit/webhooks';

/**
 * What archiving costs in bytes, measured on the builders' realistic webhooks: `count` 1-status webhooks of each
 * format (AiSensy sends one per status; Meta as delivered, one status), their archive lines, and the lines GZIP'd
 * together as Firehose writes them.
 */
export function measureArchiveSize(count = 10_000) {
  const lines: string[] = [];
  const t0 = Date.UTC(2026, 10, 25, 9);
  for (let i = 0; i < count; i++) {
    const wamid = `wamid.HBgMOTE5ODc2${String(100_000 + i)}FQIAERgSQzg4RkM1RjdBQjcy${i.toString(36)}AA==`;
    const phone = `9198765${String(i).padStart(5, '0')}`;
    const body =
      i % 2 === 0
        ? aisensyWebhook(
            aisensyMessage({
              messageId: wamid,
              id: `6718b0e5e4b0${i.toString(16).padStart(12, '0')}`,
              phone_number: phone,
            }),
          )
        : metaWebhook([metaStatus({ id: wamid, recipient_id: phone, timestamp: String(Math.floor(t0 / 1000) + i) })]);
    lines.push(
      ...archiveLines({
        id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        receivedAtMs: t0 + i * 37,
        requestId: `req-${i.toString(36)}-${(i * 7919).toString(36)}`,
        format: i % 2 === 0 ? 'aisensy' : 'meta',
        auth: i % 2 === 0 ? 'aisensy-signature' : 'meta-signature',
        headers: { 'content-type': 'application/json' },
        body: new Uint8Array(Buffer.from(JSON.stringify(body))),
      }),
    );
  }
  return {
    recordBytes: lines.map((line) => Buffer.byteLength(line)),
    gzipBytes: gzipSync(lines.join('')).byteLength,
    statuses: count,
  };
}
