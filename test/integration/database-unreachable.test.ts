import { createPostgresExecutor } from '../../lambdas/store/postgres-executor';
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
  it('names DATABASE_URL and where it points when nothing listens there, never the user or password', async () => {
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
  ])('says how to write a password with %s instead of quoting any part of it', async (_name, url, secret) => {
    const message = await firstQueryError(url);
    expect(message).toBe(
      'cannot connect to the database of DATABASE_URL: its URL does not read as user:password@host:port/database (a password with @, / or # must be percent-encoded: %40, %2F, %23)',
    );
    expect(message).not.toMatch(secret);
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
