import { Client } from 'pg';
import { toolFailureMessage } from '../../tools/tool-database';
import { hasRealPostgres } from '../support/databases';

/** The error pg gives when connecting to `url`, as the tools meet it. */
async function connectError(url: string): Promise<unknown> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (error) {
    return error;
  } finally {
    await client.end().catch(() => undefined);
  }
  throw new Error(`connected to ${url}`);
}

describe('a tool that cannot reach the database of DATABASE_URL says so', () => {
  it('names DATABASE_URL and its address when nothing listens there, never the password', async () => {
    const url = 'postgres://ops:s3cret-pass@127.0.0.1:1/tracker';
    const message = toolFailureMessage(await connectError(url), { DATABASE_URL: url });
    expect(message).toBe(
      'cannot connect to the database of DATABASE_URL (127.0.0.1:1/tracker): connect ECONNREFUSED 127.0.0.1:1',
    );
    expect(message).not.toContain('s3cret');
  });

  it('leaves other failures as they are, and says nothing of DATABASE_URL when it is not set', () => {
    const queryError = Object.assign(new Error('function public.erase_recipient does not exist'), { code: '42883' });
    expect(toolFailureMessage(queryError, { DATABASE_URL: 'postgres://127.0.0.1/x' })).toBe(
      'function public.erase_recipient does not exist',
    );
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(toolFailureMessage(refused, {})).toBe('connect ECONNREFUSED 127.0.0.1:1');
    expect(toolFailureMessage(refused, { DATABASE_URL: 'not a url' })).toBe(
      'cannot connect to the database of DATABASE_URL (which is not a URL): connect ECONNREFUSED 127.0.0.1:1',
    );
  });

  (hasRealPostgres() ? it : it.skip)(
    'names it for a database or a role the server does not have (PostgreSQL)',
    async () => {
      const server = new URL(process.env.TEST_DATABASE_URL!);
      const noDatabase = new URL(server);
      noDatabase.pathname = '/no_such_database';
      const noRole = new URL(server);
      noRole.username = 'no_such_role';
      noRole.password = 'hunter2-secret';
      for (const [url, reason] of [
        [noDatabase.href, 'database "no_such_database" does not exist'],
        [noRole.href, 'role "no_such_role" does not exist'],
      ] as const) {
        const message = toolFailureMessage(await connectError(url), { DATABASE_URL: url });
        expect(message).toBe(
          `cannot connect to the database of DATABASE_URL (${server.host}${new URL(url).pathname}): ${reason}`,
        );
        expect(message).not.toContain('hunter2');
      }
    },
  );
});
