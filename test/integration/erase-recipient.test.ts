import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { StatusUpdate } from '../../lambdas/domain/status-update';
import { SqlTrackerStore } from '../../lambdas/store/sql-tracker-store';
import { availableEngines, createTestDatabase, hasRealPostgres, type TestDatabase } from '../support/databases';
import { npmRun, timeoutForRuns } from '../support/npm-run';

const at = (minute: number) => new Date(Date.UTC(2026, 2, 2, 10, minute)).toISOString();
const person = '+919876543210';
const other = '+919800000001';
const DATA: StatusUpdate[] = [
  {
    message_id: 'wamid.HBgMOTE5ODc2NTQzMjEwFQIA1',
    status: 'sent',
    timestamp: at(0),
    phone_number: person,
    campaign: 'diwali',
    conversation: { id: 'conv-1' },
    pricing: { category: 'marketing' },
  },
  { message_id: 'wamid.HBgMOTE5ODc2NTQzMjEwFQIA1', status: 'delivered', timestamp: at(1) },
  {
    message_id: 'wamid.HBgMOTE5ODc2NTQzMjEwFQIA2',
    status: 'failed',
    timestamp: at(2),
    phone_number: person,
    error: { code: 131026, title: 'Message undeliverable', details: 'the number +919876543210 is not on WhatsApp' },
  },
  { message_id: 'wamid.other', status: 'sent', timestamp: at(3), phone_number: other, campaign: 'diwali' },
];

describe.each(availableEngines())('erase_recipient on %s', (engine) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(engine);
    await new SqlTrackerStore(db.executor).applyStatusUpdates(DATA);
  });
  afterAll(() => db.drop());

  const summary = async () =>
    await new SqlTrackerStore(db.executor).deliverySummary(new Date(at(-60)), new Date(at(60)));

  it("anonymises the person's rows, keeps the figures, leaves others alone, records the erasure without the number, and is idempotent", async () => {
    const before = await summary();
    const { rows } = await db.executor.query<{ n: string | number }>(
      `select public.erase_recipient($1, 'ticket-42') as n`,
      [person],
    );
    expect(Number(rows[0]!.n)).toBe(2);

    const { rows: erased } = await db.executor.query<Record<string, unknown>>(
      `select message_id, phone_number, provider_message_id, conversation, pricing, failure, campaign, current_status from broadcasts_messages where message_id like 'erased:%' order by message_id`,
    );
    expect(erased).toHaveLength(2);
    for (const row of erased)
      expect(row).toMatchObject({ phone_number: null, provider_message_id: null, conversation: null, pricing: null });
    expect(erased.map((r) => r.current_status).sort()).toEqual(['delivered', 'failed']);
    expect(erased.find((r) => r.current_status === 'failed')!.failure).toEqual({
      code: 131026,
      title: 'Message undeliverable',
    });
    expect(JSON.stringify(erased)).not.toMatch(/9876543210|HBgMOTE5ODc2NTQzMjEw/);
    // The figures of the period are the same.
    expect(await summary()).toEqual(before);
    // The other recipient is untouched.
    const { rows: kept } = await db.executor.query(
      'select phone_number from broadcasts_messages where message_id = $1',
      ['wamid.other'],
    );
    expect(kept).toEqual([{ phone_number: other }]);
    // The log says an erasure happened, not for whom.
    const { rows: log } = await db.executor.query<Record<string, unknown>>(
      'select rows_erased::int as rows_erased, reference from erasure_log',
    );
    expect(log).toEqual([{ rows_erased: 2, reference: 'ticket-42' }]);
    // Again: nothing left to erase.
    const { rows: again } = await db.executor.query<{ n: string | number }>(`select public.erase_recipient($1) as n`, [
      person,
    ]);
    expect(Number(again[0]!.n)).toBe(0);
  });

  it('refuses a number that is not + and digits (nothing could match it)', async () => {
    await expect(db.executor.query(`select public.erase_recipient('98765 43210')`)).rejects.toThrow(
      /phone must be \+ and digits/,
    );
  });
});

describe.each(availableEngines())('erase_recipient on numbers as the table holds them, on %s', (engine) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(engine);
  });
  afterAll(() => db.drop());

  it("reaches rows adopted from the guide's table or inserted by the user's own code, however the number was written", async () => {
    // Rows a user's sending code inserts before any webhook (docs/adoption.md), and adopted guide rows, keep the number
    // as written: Meta's recipient_id and AiSensy's phone_number carry no +.
    await db.executor.exec(`
      insert into public.broadcasts_messages (message_id, phone_number) values
        ('own.plain', '919876543210'), ('own.spaced', '+91 98765-43210'), ('own.00', '0091 98765 43210'),
        ('own.domestic', '098765 43210'), ('own.longer', '9198765432100'), ('own.other', '919800000001')`);
    // The webhook of one of them: the merge keeps the lower spelling, the spaced one.
    await new SqlTrackerStore(db.executor).applyStatusUpdates([
      { message_id: 'own.spaced', status: 'delivered', timestamp: at(5), phone_number: person },
      { message_id: 'wamid.webhook', status: 'sent', timestamp: at(6), phone_number: person },
    ]);
    const erase = async (withBareDigits: boolean) =>
      Number(
        (
          await db.executor.query<{ n: string | number }>('select public.erase_recipient($1, null, $2) as n', [
            person,
            withBareDigits,
          ])
        ).rows[0]!.n,
      );
    const left = async () =>
      (
        await db.executor.query<{ message_id: string }>(
          `select message_id from broadcasts_messages where message_id not like 'erased:%' order by message_id`,
        )
      ).rows.map((r) => r.message_id);

    // Written with + or 00: the number with its country code, whatever the spaces.
    expect(await erase(false)).toBe(3);
    expect(await left()).toEqual(['own.domestic', 'own.longer', 'own.other', 'own.plain']);
    // Bare digits only when asked: they may be a number without its country code (another person's).
    expect(await erase(true)).toBe(1);
    // Never: a number without its country code, a longer number, another person's.
    expect(await left()).toEqual(['own.domestic', 'own.longer', 'own.other']);
  });

  it("does not erase another person's rows whose number, written without its country code, has the same digits", async () => {
    // +47 91234567 (Norway), and an Arkansas number written by the user's code as (479) 123-4567, whose webhook
    // rows carry +1 479 123 4567 and the same user id: erasing would follow the user id to all of them.
    await db.executor.exec(`
      insert into public.broadcasts_messages (message_id, phone_number, recipient_user_id) values
        ('fp.no', '+4791234567', null), ('fp.us1', '(479) 123-4567', 'US.111111111111'),
        ('fp.us2', '+14791234567', 'US.111111111111')`);
    const { rows } = await db.executor.query<{ n: string | number }>(
      `select public.erase_recipient('+4791234567') as n`,
    );
    expect(Number(rows[0]!.n)).toBe(1);
    const { rows: us } = await db.executor.query(
      `select message_id from broadcasts_messages where message_id like 'fp.us%' order by message_id`,
    );
    expect(us).toEqual([{ message_id: 'fp.us1' }, { message_id: 'fp.us2' }]);
  });
});

/** One person known by phone on some rows, by user id (BSUID) on others, and by both on one. */
const userId = 'IN.1648738043044942';
const PERSON_BY_BOTH: StatusUpdate[] = [
  { message_id: 'wamid.p1', status: 'sent', timestamp: at(0), phone_number: person, campaign: 'diwali' },
  { message_id: 'wamid.p2', status: 'sent', timestamp: at(1), phone_number: person, recipient_user_id: userId },
  {
    message_id: 'wamid.p3',
    status: 'read',
    timestamp: at(2),
    recipient_user_id: userId,
    recipient_parent_user_id: 'IN.ENT.118157992128',
    sender_phone_number_id: '1061',
  },
  { message_id: 'wamid.p4', status: 'sent', timestamp: at(3), recipient_parent_user_id: 'IN.ENT.118157992128' },
  { message_id: 'wamid.o1', status: 'sent', timestamp: at(4), recipient_user_id: 'IN.999', phone_number: other },
];

describe.each(availableEngines())('erasure by phone or user id on %s', (engine) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(engine);
  });
  afterAll(() => db.drop());
  beforeEach(async () => {
    // A fresh start for each case: the erased messages are remembered (0032), and each case erases the same ones.
    await db.executor.exec('truncate public.broadcasts_messages, public.broadcasts_erased_messages');
    await new SqlTrackerStore(db.executor).applyStatusUpdates(PERSON_BY_BOTH);
  });

  const remaining = async () =>
    (
      await db.executor.query<{ message_id: string }>(
        `select message_id from broadcasts_messages where message_id not like 'erased:%' order by message_id`,
      )
    ).rows.map((r) => r.message_id);

  it.each([
    ['the phone', `select public.erase_recipient('${person}') as n`],
    ['the user id', `select public.erase_recipient_user_id('${userId}') as n`],
    ['the parent user id', `select public.erase_recipient_user_id('IN.ENT.118157992128') as n`],
  ])('erasing by %s reaches every row of the person, and only theirs', async (_, sql) => {
    const { rows } = await db.executor.query<{ n: string | number }>(sql);
    expect(Number(rows[0]?.n)).toBe(4);
    expect(await remaining()).toEqual(['wamid.o1']);
    const { rows: erased } = await db.executor.query<Record<string, unknown>>(
      `select phone_number, recipient_user_id, recipient_parent_user_id, sender_phone_number_id, current_status
         from broadcasts_messages where message_id like 'erased:%' order by id`,
    );
    expect(JSON.stringify(erased)).not.toMatch(/9876543210|1648738043044942|118157992128/);
    // The figures stay: stages, the sender.
    expect(erased.map((r) => r.current_status)).toEqual(['sent', 'sent', 'read', 'sent']);
    expect(erased.map((r) => r.sender_phone_number_id)).toEqual([null, null, '1061', null]);
  });

  it('refuses what is not a user id', async () => {
    await expect(db.executor.query(`select public.erase_recipient_user_id('+919876543210')`)).rejects.toThrow(
      /user_id must be a WhatsApp user id/,
    );
  });
});

(hasRealPostgres() ? describe : describe.skip)('npm run erase (DATABASE_URL)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    await new SqlTrackerStore(db.executor).applyStatusUpdates(DATA);
  });
  afterAll(() => db.drop());

  it(
    'takes the number as a provider writes it, says what it changed and what it cannot reach',
    async () => {
      const { code, stdout } = await npmRun('erase', ['--phone', '91 98765-43210', '--reference', 'T-1'], {
        DATABASE_URL: db.url ?? '',
      });
      expect(code).toBe(0);
      expect(stdout).toMatch(/^2 message row\(s\) anonymised in DATABASE_URL/);
      expect(stdout).toMatch(/Not reached by this command:\n {2}- Supabase's backups/);
      const { rows } = await db.executor.query(
        'select count(*)::int as n from broadcasts_messages where phone_number is null',
      );
      expect(rows).toEqual([{ n: 2 }]);
    },
    timeoutForRuns(1),
  );

  it(
    'takes --user-id, and refuses both or neither with a usage error',
    async () => {
      await new SqlTrackerStore(db.executor).applyStatusUpdates([
        { message_id: 'wamid.u1', status: 'sent', timestamp: at(9), recipient_user_id: 'BR.1502576394655843' },
      ]);
      const run = (...args: string[]) => npmRun('erase', args, { DATABASE_URL: db.url ?? '' });
      const { code, stdout } = await run('--user-id', 'BR.1502576394655843');
      expect(code).toBe(0);
      expect(stdout).toMatch(/^1 message row\(s\) anonymised in DATABASE_URL/);
      // One usage error as the operator sees it; the others are checked in-process (test/unit/erase-args.test.ts).
      expect(await run('--user-id', 'BR.1', '--phone', '+919800000001')).toMatchObject({
        code: 2,
        stderr: expect.stringMatching(/either --phone or --user-id, not both: .*\nusage: npm run erase/),
      });
    },
    timeoutForRuns(2),
  );

  it(
    'says when no row held the number',
    async () => {
      const run = (...args: string[]) => npmRun('erase', args, { DATABASE_URL: db.url ?? '' });
      const nobody = await run('--phone', '+910000000000', '--reference', 'T-3');
      expect(nobody.code).toBe(0);
      expect(nobody.stdout).toMatch(
        /^0 message row\(s\) anonymised in DATABASE_URL.*\nNo row holds this number or id/s,
      );
    },
    timeoutForRuns(2),
  );

  it(
    'takes 0091 as +91, and erases bare digits only with --with-bare-digits, after saying how many rows hold them',
    async () => {
      await db.executor.exec(`insert into public.broadcasts_messages (message_id, phone_number) values
      ('bare.1', '917700000001'), ('bare.2', '917700000001'), ('plus.1', '+91 77000 00001')`);
      const run = (...args: string[]) => npmRun('erase', args, { DATABASE_URL: db.url ?? '' });
      const first = await run('--phone', '0091 77000 00001');
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/^1 message row\(s\) anonymised/);
      expect(first.stdout).toContain('2 more row(s) hold these digits with neither + nor 00 (91********01), as Meta');
      expect(first.stdout).toContain('run again with --with-bare-digits');
      const second = await run('--phone', '+917700000001', '--with-bare-digits');
      expect(second.stdout).toMatch(/^2 message row\(s\) anonymised/);
      expect(second.stdout).not.toMatch(/more row\(s\) hold these digits/);
    },
    timeoutForRuns(2),
  );

  it(
    'says DATABASE_URL is missing rather than opening an empty embedded database',
    async () => {
      const dataDir = path.join(os.tmpdir(), `no-such-tracker-db-${process.pid}`);
      const missing = await npmRun('erase', ['--phone', '+919800000001'], { DATA_DIR: dataDir });
      expect(missing).toMatchObject({
        code: 1,
        stderr: expect.stringContaining('no database: DATABASE_URL is not set'),
      });
      expect(existsSync(dataDir)).toBe(false);
    },
    timeoutForRuns(1),
  );
});
