import { functionEnvironment, IngestEnv, ProcessorEnv, SweeperEnv } from '../../lambdas/domain/function-environment';
import { readEnv } from '../../lambdas/shared/env';

/** The one home of each function's environment keys: the construct writes through the schema its handler reads. */
describe('functionEnvironment', () => {
  it('writes what the handler reads back', () => {
    const ingest = functionEnvironment(IngestEnv, {
      QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/q',
      WEBHOOK_SECRET_ID: 'w',
      MAX_BODY_BYTES: '2048',
    });
    expect(readEnv(IngestEnv, ingest)).toMatchObject({
      WEBHOOK_SECRET_ID: 'w',
      MAX_BODY_BYTES: 2048,
      REQUIRE_WEBHOOK_AUTH: true,
    });
    const processor = functionEnvironment(ProcessorEnv, {
      SUPABASE_SECRET_ID: 's',
      QUEUE_URL: 'https://q.example',
      OUTAGE_BACKOFF_BASE_SECONDS: '30',
      OUTAGE_BACKOFF_MAX_SECONDS: '3600',
    });
    expect(readEnv(ProcessorEnv, processor)).toMatchObject({
      OUTAGE_BACKOFF_BASE_SECONDS: 30,
      OUTAGE_BACKOFF_MAX_SECONDS: 3600,
    });
    expect(readEnv(SweeperEnv, functionEnvironment(SweeperEnv, { SUPABASE_SECRET_ID: 's' }))).toEqual({
      SUPABASE_SECRET_ID: 's',
      RUNBOOK_URL: 'docs/runbook.md',
      REPORT_LINK_HOURS: 12,
      STAGE: 'dev',
    });
  });

  it('refuses, at compile time, a key the handler does not know or a required key left out', () => {
    const misspelt = () =>
      functionEnvironment(ProcessorEnv, {
        SUPABASE_SECRET_ID: 's',
        // @ts-expect-error QUEUE_URLS is no key of the processor's environment
        QUEUE_URLS: 'q',
        OUTAGE_BACKOFF_BASE_SECONDS: '1',
        OUTAGE_BACKOFF_MAX_SECONDS: '2',
      });
    // @ts-expect-error WEBHOOK_SECRET_ID is required
    const missing = () => functionEnvironment(IngestEnv, { QUEUE_URL: 'https://q.example' });
    expect(() => readEnv(ProcessorEnv, misspelt())).toThrow(/QUEUE_URL/);
    expect(() => readEnv(IngestEnv, missing())).toThrow(/WEBHOOK_SECRET_ID/);
  });
});
