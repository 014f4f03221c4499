/**
 * `npm run seed:demo -- [--messages 2000] [--url http://127.0.0.1:3000]`: a realistic synthetic campaign sent
 * through the real pipeline (HTTP webhooks to the running `npm start`): delivery and read delays drawn from
 * log-normal distributions, some failures with real WhatsApp error codes, the three payload formats mixed,
 * stages out of order and duplicated as providers do. Then `npm run report`.
 */
import { parseCli, UsageError } from '../lambdas/shared/cli';
import { buildDemoWebhooks } from './demo-campaign';
import { localServerUrl } from './open-report-source';

const { url, messages } = parseCli(
  {
    name: 'seed:demo',
    usage: 'npm run seed:demo -- [--messages 2000] [--url http://127.0.0.1:3000]',
    options: { messages: { type: 'string', default: '2000' }, url: { type: 'string' } },
  },
  process.argv.slice(2),
  ({ values }) => {
    const count = Number(values.messages);
    if (!Number.isInteger(count) || count < 1 || count > 1_000_000)
      throw new UsageError('--messages must be a whole number from 1 to 1,000,000');
    return { url: values.url ?? localServerUrl(), messages: count };
  },
);

/** npm start answered, with something other than 200. */
class WebhookAnswer extends Error {}

async function main(): Promise<number> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (process.env.WEBHOOK_SHARED_TOKEN) headers['x-webhook-token'] = process.env.WEBHOOK_SHARED_TOKEN;

  const webhooks = buildDemoWebhooks(messages, new Date());
  let accepted = 0;
  let sent = 0;
  const started = Date.now();
  const inFlight = 16;
  for (let i = 0; i < webhooks.length; i += inFlight) {
    const answers = await Promise.all(
      webhooks.slice(i, i + inFlight).map(async (body) => {
        const response = await fetch(`${url}/webhook`, { method: 'POST', headers, body: JSON.stringify(body) });
        if (response.status !== 200)
          throw new WebhookAnswer(
            `${url}/webhook answered ${response.status}: ${await response.text()}${
              response.status === 401 ? ' (npm start checks a token: run this with its WEBHOOK_SHARED_TOKEN)' : ''
            }`,
          );
        return (await response.json()) as { accepted: number };
      }),
    );
    for (const a of answers) accepted += a.accepted;
    sent += answers.length;
    // Progress on one line in a terminal; a pipe or a log file gets the summary below alone.
    if (process.stdout.isTTY)
      process.stdout.write(`\r${sent}/${webhooks.length} webhooks sent, ${accepted} statuses accepted`);
  }
  process.stdout.write(
    `${process.stdout.isTTY ? '\n' : ''}Seeded ${messages} messages (${webhooks.length} webhooks) in ${((Date.now() - started) / 1000).toFixed(1)} s. Now: npm run report -- --by campaign\n`,
  );
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    // An answer says what went wrong itself; no answer at all is most often npm start not running.
    const hint = error instanceof WebhookAnswer ? '' : ' (is npm start running?)';
    process.stderr.write(`seed:demo failed: ${(error as Error).message}${hint}\n`);
    process.exitCode = 1;
  },
);
