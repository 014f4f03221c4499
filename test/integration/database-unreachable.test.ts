import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import { createPostgresExecutor, DatabaseUnreachableError } from '../../lambdas/store/postgres-executor';
import { hasRealPostgres } from '../support/databases';

/** What a tool prints when its first statement meets `url`: the error's message, as the tools' handlers print it. */
async function firstQueryError(url: string): Promise<string> {
  const executor = createPostgresExecutor(url, {
    max: 1,
    connectionTimeoutMillis: 5_000,
    unreachableSetting: 'DATABASE_URL',
  });
  try {
    await executor.query('select 1');
  } catch (error) {
    return (error as Error).message;
  } finally {
    await executor.close();
  }
  throw new Error(`connected to ${url}`);
}

describe('a tool that cannot reach the database of DATABASE_URL says so', () => {
  it('names DATABASE_URL and where it points when nothing listens there, never the password', async () => {
    const message = await firstQueryError('postgres://ops:s3cret-pass@127.0.0.1:1/tracker');
    expect(message).toBe(
      'cannot connect to the database of DATABASE_URL (127.0.0.1:1/tracker): connect ECONNREFUSED 127.0.0.1:1',
    );
    expect(message).not.toMatch(/s3cret|ops/);
  });

  it.each([
    ['an unencoded /', 'postgres://ops:Kq9@Zt7/w0rdX@127.0.0.1:1/tracker', /Kq9|Zt7|w0rdX/],
    ['a / after digits', 'postgres://ops:1234/Summer@127.0.0.1:1/tracker', /1234|Summer/],
    ['a #', 'postgres://ops:Kq9#Zt7@127.0.0.1:1/tracker', /Kq9|Zt7/],
    // Digits before the # read as a port: host ops, port 2024, and pg fails to find the host "ops".
    ['a # after digits', 'postgres://ops:2024#Zt7@127.0.0.1:1/tracker', /2024|Zt7|ops/],
    ['a ?', 'postgres://ops:Kq9?Zt7@127.0.0.1:1/tracker', /Kq9|Zt7/],
  ])('says how to write a password with %s instead of quoting any part of it', async (_name, url, secret) => {
    const message = await firstQueryError(url);
    expect(message).toBe(
      'cannot connect to the database of DATABASE_URL: its URL does not read as user:password@host:port/database (in a password, write / as %2F, # as %23, ? as %3F and @ as %40)',
    );
    expect(message).not.toMatch(secret);
  });

  (hasRealPostgres() ? it : it.skip)(
    'a connection that dies in the middle of a statement fails that statement, and nothing else (PostgreSQL)',
    async () => {
      // A TCP relay to the server whose sockets are torn down mid-statement, with no FATAL message from the server:
      // a failover or a reset, not a pg_terminate_backend.
      const server = new URL(process.env.TEST_DATABASE_URL!);
      const sockets: Socket[] = [];
      const relay = createServer((client) => {
        const upstream = tcpConnect(Number(server.port), server.hostname);
        sockets.push(client, upstream);
        for (const socket of [client, upstream]) socket.on('error', () => undefined);
        client.pipe(upstream).pipe(client);
      });
      await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
      const relayed = new URL(server);
      relayed.port = String((relay.address() as { port: number }).port);
      const executor = createPostgresExecutor(relayed.href, { max: 1, unreachableSetting: 'DATABASE_URL' });
      try {
        expect((await executor.query<{ one: number }>('select 1 as one')).rows).toEqual([{ one: 1 }]);
        const sleeping = executor.query('select pg_sleep(5)');
        await new Promise((resolve) => setTimeout(resolve, 300));
        for (const socket of sockets) socket.resetAndDestroy();
        // Without a listener for the client's 'error' event while it runs, Node throws it as unhandled: the test
        // process (npm start, a tool) would exit here instead of failing this one statement.
        await expect(sleeping).rejects.toThrow(/Connection terminated unexpectedly|read ECONNRESET/);
        expect((await executor.query<{ one: number }>('select 1 as one')).rows).toEqual([{ one: 1 }]);
      } finally {
        await executor.close();
        await new Promise((resolve) => relay.close(resolve));
      }
    },
  );

  it('says why when every address of a name failed (Node 20: an AggregateError with an empty message)', () => {
    // What node-postgres gives on Node 20 for localhost when ::1 and 127.0.0.1 both refuse (node-postgres#3312).
    const cause = Object.assign(
      new AggregateError(
        [new Error('connect ECONNREFUSED ::1:5432'), new Error('connect ECONNREFUSED 127.0.0.1:5432')],
        '',
      ),
      { code: 'ECONNREFUSED' },
    );
    const error = new DatabaseUnreachableError('DATABASE_URL', 'postgres://ops:pw@localhost:5432/app', cause);
    expect(error.message).toBe(
      'cannot connect to the database of DATABASE_URL (localhost:5432/app): connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432',
    );
    expect(error.code).toBe('ECONNREFUSED');
    const bare = new DatabaseUnreachableError('DATABASE_URL', 'postgres://h/app', Object.create(null));
    expect(bare.message).toBe('cannot connect to the database of DATABASE_URL (h/app): no reason given');
  });

  it('keeps the cause and its code, for logs that group failures by it', async () => {
    const executor = createPostgresExecutor('postgres://ops@127.0.0.1:1/tracker', {
      max: 1,
      unreachableSetting: 'DATABASE_URL',
    });
    try {
      const error = await executor.query('select 1').catch((e: unknown) => e as Error & { code?: string });
      expect(error).toMatchObject({ name: 'DatabaseUnreachableError', code: 'ECONNREFUSED' });
      expect((error as Error).cause).toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      await executor.close();
    }
  });

  (hasRealPostgres() ? it : it.skip)(
    'names it for a database or a role the server does not have, and leaves a failing statement as it is (PostgreSQL)',
    async () => {
      const server = new URL(process.env.TEST_DATABASE_URL!);
      const noDatabase = new URL(server);
      noDatabase.pathname = '/no_such_database';
      const noRole = new URL(server);
      noRole.username = 'no_such_role';
      noRole.password = 'hunter2-secret';
      expect(await firstQueryError(noDatabase.href)).toBe(
        `cannot connect to the database of DATABASE_URL (${server.host}/no_such_database): database "no_such_database" does not exist`,
      );
      const role = await firstQueryError(noRole.href);
      expect(role).toMatch(new RegExp(`^cannot connect to the database of DATABASE_URL \\(${server.host}/`));
      expect(role).not.toContain('hunter2');

      const executor = createPostgresExecutor(server.href, { max: 1, unreachableSetting: 'DATABASE_URL' });
      try {
        await expect(executor.query('select no_such_column from pg_class')).rejects.toThrow(
          /^column "no_such_column" does not exist$/,
        );
        // The connection that failed a statement is not reused, and the next statement runs.
        expect((await executor.query<{ one: number }>('select 1 as one')).rows).toEqual([{ one: 1 }]);
      } finally {
        await executor.close();
      }
    },
  );
});
