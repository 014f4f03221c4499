import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import {
  type OutboxEntry,
  PUT_EVENTS_MAX_BYTES,
  putEventsRequests,
  STATUS_CHANGED_DETAIL_TYPE,
  STATUS_EVENT_SOURCE,
  StatusChangedDetail,
  type StatusChangeRow,
  type StatusEventEntry,
  statusChangedDetails,
  statusEventEntry,
} from '../../lambdas/domain/status-change-event';
import { drainStatusEvents, RELAY_SETTINGS } from '../../lambdas/processor/status-event-relay';
import { EventBridgeSink, NdjsonFileSink, redriveStatusEvents } from '../../lambdas/processor/status-events';
import { sqsEvent, sqsRecord } from '../../testkit/events';
import { capturingMetrics, quietMetrics, silentLogger } from '../support/powertools';

const T = (s: number) => new Date(Date.UTC(2024, 0, 1, 10, 0, s)).toISOString();
const row = (overrides: Partial<StatusChangeRow> = {}): StatusChangeRow => ({
  message_id: 'wamid.1',
  inserted: false,
  previous_status: { sent: T(0) },
  status: { sent: T(0), delivered: T(5) },
  inferred_stages: [],
  campaign: 'diwali',
  error_code: null,
  error_title: null,
  phone_number: '+919876543210',
  ...overrides,
});
const entries = (n: number): StatusEventEntry[] =>
  Array.from({ length: n }, (_, i) =>
    statusEventEntry(statusChangedDetails([row({ message_id: `wamid.${i}` })], 'masked')[0]!, new Date(T(9))),
  );
const messageIdOf = (e: { Detail?: string }) => (JSON.parse(e.Detail!) as { message_id: string }).message_id;

describe('status-change event detail', () => {
  it('says what changed: previous and new status, stage times, campaign, masked recipient, version', () => {
    const [detail] = statusChangedDetails([row()], 'masked');
    expect(detail).toEqual({
      version: '1',
      message_id: 'wamid.1',
      previous_status: 'sent',
      status: 'delivered',
      previous_stages: { sent: T(0) },
      stages: { sent: T(0), delivered: T(5) },
      inferred_stages: [],
      campaign: 'diwali',
      error: null,
      recipient: '+91********10',
      recipient_policy: 'masked',
    });
    expect(StatusChangedDetail.parse(detail)).toEqual(detail);
    expect(JSON.stringify(detail)).not.toContain('9876543210');
  });

  it('names a recipient known only by WhatsApp user id by that id, masked', () => {
    const [detail] = statusChangedDetails(
      [row({ phone_number: null, recipient_user_id: 'IN.1648738043044942' })],
      'masked',
    );
    expect(detail?.recipient).toBe('IN.**************42');
    expect(statusChangedDetails([row({ recipient_user_id: 'IN.1648738043044942' })], 'masked')[0]?.recipient).toBe(
      '+91********10',
    );
    expect(
      statusChangedDetails([row({ phone_number: null, recipient_user_id: 'IN.1648738043044942' })], 'omitted')[0]
        ?.recipient,
    ).toBeNull();
  });

  it('omits the recipient when configured so', () => {
    expect(statusChangedDetails([row()], 'omitted')[0]).toMatchObject({ recipient: null, recipient_policy: 'omitted' });
  });

  it('carries the error of a failure; a new row has no previous status', () => {
    const [detail] = statusChangedDetails(
      [
        row({
          inserted: true,
          previous_status: null,
          status: { failed: T(3) },
          error_code: 131026,
          error_title: 'Message undeliverable',
        }),
      ],
      'masked',
    );
    expect(detail).toMatchObject({
      previous_status: null,
      status: 'failed',
      previous_stages: {},
      error: { code: 131026, title: 'Message undeliverable' },
    });
  });

  it('is not emitted for a row whose stage times did not change (pricing, conversation only)', () => {
    expect(statusChangedDetails([row({ previous_status: { sent: T(0) }, status: { sent: T(0) } })], 'masked')).toEqual(
      [],
    );
  });

  it('applies the SQL rule for the current status: a delivered message that also failed shows delivered', () => {
    expect(
      statusChangedDetails(
        [
          row({
            previous_status: { delivered: T(1), sent: T(1) },
            status: { sent: T(1), delivered: T(1), failed: T(2) },
          }),
        ],
        'masked',
      )[0],
    ).toMatchObject({ previous_status: 'delivered', status: 'delivered' });
  });
});

describe('PutEvents requests', () => {
  it('hold at most 10 entries', () => {
    expect(putEventsRequests(entries(23)).map((r) => r.length)).toEqual([10, 10, 3]);
  });

  it('hold at most 256 KiB', () => {
    const big = { ...entries(1)[0]!, Detail: JSON.stringify({ pad: 'x'.repeat(100_000) }) };
    const requests = putEventsRequests([big, big, big, big]);
    expect(requests.map((r) => r.length)).toEqual([2, 2]);
    expect(PUT_EVENTS_MAX_BYTES).toBe(262_144);
  });
});

describe('EventBridgeSink (aws-sdk-client-mock at the client)', () => {
  const eventBridge = mockClient(EventBridgeClient);
  beforeEach(() => eventBridge.reset());
  const noWait = { sleep: async () => undefined };

  it('puts 25 events in 3 requests of at most 10 on the named bus', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => ({
      FailedEntryCount: 0,
      Entries: input.Entries.map((_, i) => ({ EventId: `id-${i}` })),
    }));
    const sink = new EventBridgeSink(new EventBridgeClient({ region: 'eu-west-1' }), 'whatsapp-delivery-tracker-dev');
    expect(await sink.put(entries(25))).toEqual([]);
    const calls = eventBridge.commandCalls(PutEventsCommand);
    expect(calls.map((c) => c.args[0].input.Entries?.length)).toEqual([10, 10, 5]);
    const first = calls[0]!.args[0].input.Entries![0]!;
    expect(first).toMatchObject({
      EventBusName: 'whatsapp-delivery-tracker-dev',
      Source: STATUS_EVENT_SOURCE,
      DetailType: STATUS_CHANGED_DETAIL_TYPE,
    });
  });

  it('retries only the entries EventBridge reports as failed', async () => {
    let call = 0;
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
      call++;
      // First call: entries 1 and 3 throttled; the retry succeeds.
      return {
        FailedEntryCount: call === 1 ? 2 : 0,
        Entries: input.Entries.map((_, i) =>
          call === 1 && (i === 1 || i === 3) ? { ErrorCode: 'ThrottlingException' } : { EventId: `id-${i}` },
        ),
      };
    });
    const sink = new EventBridgeSink(new EventBridgeClient({ region: 'eu-west-1' }), 'bus', noWait);
    expect(await sink.put(entries(5))).toEqual([]);
    const calls = eventBridge.commandCalls(PutEventsCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.args[0].input.Entries!.map(messageIdOf)).toEqual(['wamid.1', 'wamid.3']);
  });

  it('returns what still fails after its attempts, including requests that fail whole', async () => {
    eventBridge.on(PutEventsCommand).rejects(new Error('service unavailable'));
    const sink = new EventBridgeSink(new EventBridgeClient({ region: 'eu-west-1', maxAttempts: 1 }), 'bus', {
      ...noWait,
      attempts: 3,
    });
    const refused = await sink.put(entries(12));
    expect(refused.map(messageIdOf).sort()).toEqual(entries(12).map(messageIdOf).sort());
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(6);
  });
});

describe('the relay (an in-memory outbox; aws-sdk-client-mock at the client)', () => {
  const eventBridge = mockClient(EventBridgeClient);
  beforeEach(() => eventBridge.reset());

  /** An outbox as claim_status_events / ack_status_events behave, minus the locks (those are tested on PostgreSQL). */
  function memoryOutbox(rows: StatusChangeRow[]) {
    let now = 0;
    const entries: (OutboxEntry & { until: number })[] = rows.map((r, i) => ({
      ...r,
      id: i + 1,
      applied_at: new Date(T(30)),
      attempts: 0,
      until: -1,
    }));
    const outbox = {
      claims: [] as number[],
      acked: [] as number[],
      advance(seconds: number) {
        now += seconds;
      },
      async claimStatusEvents(max: number, lease: number) {
        const claimed = entries.filter((e) => e.until <= now).slice(0, max);
        for (const e of claimed) {
          e.until = now + lease;
          e.attempts++;
        }
        outbox.claims.push(claimed.length);
        return claimed.map(({ until: _until, ...e }) => ({ ...e }));
      },
      async ackStatusEvents(ids: readonly number[]) {
        outbox.acked.push(...ids);
        const before = entries.length;
        for (const id of ids) {
          const index = entries.findIndex((e) => e.id === id);
          if (index >= 0) entries.splice(index, 1);
        }
        return before - entries.length;
      },
      pending: () => entries.map((e) => e.id),
    };
    return outbox;
  }
  const accepting = () =>
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => ({
      FailedEntryCount: 0,
      Entries: input.Entries.map((_, i) => ({ EventId: `id-${i}` })),
    }));
  const relayDeps = (outbox: ReturnType<typeof memoryOutbox>, metrics = quietMetrics()) => ({
    outbox,
    sink: new EventBridgeSink(new EventBridgeClient({ region: 'eu-west-1', maxAttempts: 1 }), 'bus', {
      sleep: async () => undefined,
    }),
    recipientPolicy: 'masked' as const,
    logger: silentLogger(),
    metrics,
    sleep: async () => undefined,
    now: () => new Date(T(45)),
  });
  const once = { ...RELAY_SETTINGS, maxEvents: 10, lingerMs: 0 };

  it('claims until the outbox is empty, puts each claim in requests of 10, and acknowledges what the bus accepted', async () => {
    accepting();
    const outbox = memoryOutbox(Array.from({ length: 25 }, (_, i) => row({ message_id: `wamid.${i}` })));
    const captured = capturingMetrics();
    try {
      const outcome = await drainStatusEvents(relayDeps(outbox, captured.metrics), once);
      captured.metrics.publishStoredMetrics();
      expect(outcome).toEqual({ claims: 3, claimed: 25, published: 25, refused: 0, skipped: 0 });
      expect(outbox.claims).toEqual([10, 10, 5]);
      expect(outbox.pending()).toEqual([]);
      const calls = eventBridge.commandCalls(PutEventsCommand);
      expect(calls.map((c) => c.args[0].input.Entries!.length)).toEqual([10, 10, 5]);
      // The event is the change as committed, at the time it was committed, with the recipient masked.
      const first = calls[0]!.args[0].input.Entries![0]!;
      expect(first.Time).toEqual(new Date(T(30)));
      expect(JSON.parse(first.Detail!)).toMatchObject({
        message_id: 'wamid.0',
        status: 'delivered',
        recipient: '+91********10',
      });
      expect(captured.values('StatusEventsPublished').map((v) => v.value)).toEqual([25]);
      // Committed at 10:00:30, accepted at 10:00:45: once per claim.
      expect(captured.values('StatusEventLatency').map((v) => v.value)).toEqual([15, 15, 15]);
    } finally {
      captured.restore();
    }
  });

  it('logs a drain that moved events at info, and an empty one at debug only', async () => {
    accepting();
    const logger = silentLogger();
    const info = jest.spyOn(logger, 'info');
    const debug = jest.spyOn(logger, 'debug');
    await drainStatusEvents({ ...relayDeps(memoryOutbox([])), logger }, once);
    expect(info).not.toHaveBeenCalled();
    expect(debug).toHaveBeenCalledWith('status-change outbox drained', expect.objectContaining({ claimed: 0 }));
    await drainStatusEvents({ ...relayDeps(memoryOutbox([row()])), logger }, once);
    expect(info).toHaveBeenCalledWith('status-change outbox drained', expect.objectContaining({ published: 1 }));
  });

  it('leaves what the bus refuses in the outbox, counts it StatusEventsParked, and puts it once the lease expires', async () => {
    let down = true;
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
      if (down) throw new Error('service unavailable');
      return { FailedEntryCount: 0, Entries: input.Entries.map((_, i) => ({ EventId: `id-${i}` })) };
    });
    const outbox = memoryOutbox([row({ message_id: 'wamid.a' }), row({ message_id: 'wamid.b' })]);
    const captured = capturingMetrics();
    try {
      expect(await drainStatusEvents(relayDeps(outbox, captured.metrics), once)).toMatchObject({
        published: 0,
        refused: 2,
      });
      captured.metrics.publishStoredMetrics();
      expect(captured.values('StatusEventsParked').map((v) => v.value)).toEqual([2]);
      expect(outbox.acked).toEqual([]);
      // Still leased: a second relay finds nothing.
      down = false;
      expect(await drainStatusEvents(relayDeps(outbox), once)).toMatchObject({ claimed: 0 });
      outbox.advance(once.leaseSeconds);
      expect(await drainStatusEvents(relayDeps(outbox), once)).toMatchObject({ claimed: 2, published: 2 });
      expect(outbox.pending()).toEqual([]);
    } finally {
      captured.restore();
    }
  });

  it('acknowledges without an event an entry whose stage times did not change', async () => {
    accepting();
    const outbox = memoryOutbox([row({ previous_status: { sent: T(0) }, status: { sent: T(0) } }), row()]);
    expect(await drainStatusEvents(relayDeps(outbox), once)).toMatchObject({ published: 1, skipped: 1 });
    expect(outbox.pending()).toEqual([]);
  });

  it('lingers for new entries after the outbox is empty, and stops claiming near the invocation end', async () => {
    accepting();
    const outbox = memoryOutbox([row()]);
    let ms = 0;
    const polls: number[] = [];
    const lingering = {
      ...relayDeps(outbox),
      clock: () => ms,
      sleep: async (wait: number) => {
        polls.push(wait);
        ms += wait;
      },
    };
    const outcome = await drainStatusEvents(lingering, { ...once, lingerMs: 3_000, pollIntervalMs: 1_000 });
    // One claim found the entry, then three empty polls a second apart until the 3 s of linger were over.
    expect([outcome.claims, polls]).toEqual([4, [1_000, 1_000, 1_000]]);
    let left = 12_000;
    const nearEnd = await drainStatusEvents(
      { ...lingering, remainingMs: () => (left -= 1_000) },
      { ...once, lingerMs: 60_000, stopMarginMs: 10_000 },
    );
    expect(nearEnd.claims).toBe(1);
  });
});

describe('redriveStatusEvents: the retry queue back onto the bus', () => {
  const eventBridge = mockClient(EventBridgeClient);
  beforeEach(() => eventBridge.reset());

  it('puts parked entries again and fails, alone, the records still refused or not an entry', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => ({
      FailedEntryCount: 1,
      Entries: input.Entries.map((e) =>
        messageIdOf(e) === 'wamid.1' ? { ErrorCode: 'InternalFailure' } : { EventId: 'x' },
      ),
    }));
    const [a, b] = entries(2);
    const response = await redriveStatusEvents(
      sqsEvent(
        sqsRecord(JSON.stringify(a), 'r0'),
        sqsRecord(JSON.stringify(b), 'r1'),
        sqsRecord('{"not":"an entry"}', 'r2'),
      ),
      {
        sink: new EventBridgeSink(new EventBridgeClient({ region: 'eu-west-1' }), 'bus', {
          attempts: 1,
        }),
        logger: silentLogger(),
        metrics: capturingMetrics().metrics,
      },
    );
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['r1', 'r2']);
  });
});

describe('NdjsonFileSink (npm start)', () => {
  it("appends each event in EventBridge's envelope, one JSON line each", async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'events-')), 'sub', 'events.ndjson');
    const sink = new NdjsonFileSink(file);
    expect(await sink.put(entries(2))).toEqual([]);
    expect(await sink.put(entries(1))).toEqual([]);
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({
      version: '0',
      source: STATUS_EVENT_SOURCE,
      'detail-type': STATUS_CHANGED_DETAIL_TYPE,
      time: '2024-01-01T10:00:09Z',
      detail: { message_id: 'wamid.0', status: 'delivered' },
    });
  });
});
