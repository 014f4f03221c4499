import { Client } from 'pg';
import { availableEngines, createTestDatabase, type TestDatabase } from '../support/databases';

/**
 * The report functions speak UTC whatever the session's TimeZone: a database or a connection set to another zone
 * (an operator's psql, `alter database ... set timezone`) must not move messages between hours.
 */
describe.each(availableEngines())('report hours in a non-UTC session (%s)', (engine) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(engine);
    await db.executor.query(`select * from public.apply_status_updates($1::jsonb)`, [
      JSON.stringify([
        { message_id: 'wamid.tz1', status: 'sent', timestamp: '2024-01-01T10:00:00.000Z' },
        { message_id: 'wamid.tz2', status: 'sent', timestamp: '2024-01-01T10:59:00.000Z' },
        { message_id: 'wamid.tz3', status: 'sent', timestamp: '2024-01-01T11:10:00.000Z' },
      ]),
    ]);
  });
  afterAll(() => db.drop());

  /** Runs `sql` in a session whose TimeZone is Asia/Kolkata (+05:30). */
  async function inKolkata<Row>(sql: string): Promise<Row[]> {
    if (engine === 'postgres') {
      const client = new Client({ connectionString: db.url, options: '-c TimeZone=Asia/Kolkata' });
      await client.connect();
      try {
        return (await client.query(sql)).rows as Row[];
      } finally {
        await client.end();
      }
    }
    await db.executor.exec(`set timezone = 'Asia/Kolkata'`);
    try {
      return (await db.executor.query<Row>(sql)).rows;
    } finally {
      await db.executor.exec('reset timezone');
    }
  }

  it('buckets hourly_volume by UTC hour', async () => {
    const rows = await inKolkata<{ hour: Date; sent: string }>(
      `select * from public.hourly_volume('2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z')`,
    );
    expect(rows.map((r) => [new Date(r.hour).toISOString(), Number(r.sent)])).toEqual([
      ['2024-01-01T10:00:00.000Z', 2],
      ['2024-01-01T11:00:00.000Z', 1],
    ]);
  });

  it('groups best_send_hours by UTC hour of the day', async () => {
    const rows = await inKolkata<{ hour_of_day: number }>(
      `select * from public.best_send_hours('2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z', 0)`,
    );
    expect(rows.map((r) => r.hour_of_day).sort()).toEqual([10, 11]);
  });
});
