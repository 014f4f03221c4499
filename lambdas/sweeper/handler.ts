import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import { sweeperSettingsFromEnvironment } from '../domain/alert-settings';
import { readEnv, SweeperEnv } from '../shared/env';
import { logger, metrics } from '../shared/powertools';
import { tracer } from '../shared/tracer';
import { lazySupabaseStore } from '../store/handler-store';
import type { DailyReportLinks } from './report-link';
import { SnsSummaryNotifier } from './summary-notifier';
import { createSweeper } from './sweep-delivery-health';

// Module scope: config is read once per cold start; the client is created on first use and then reused.
const env = readEnv(SweeperEnv);
const settings = sweeperSettingsFromEnvironment(process.env);
const sns = tracer.captureAWSv3Client(new SNSClient({}));

const store = lazySupabaseStore({ SUPABASE_SECRET_ID: env.SUPABASE_SECRET_ID });
// The report link's code (the S3 SDK, the presigner, the renderer with ECharts) loads on the first daily summary:
// the health runs every few minutes never pay for it (bench: "sweeper bundle").
let s3ReportLinks: Promise<DailyReportLinks> | undefined;
const reportLinks: DailyReportLinks | undefined = env.REPORT_BUCKET_NAME
  ? {
      publish: async (day) => {
        s3ReportLinks ??= loadS3ReportLinks(env.REPORT_BUCKET_NAME!);
        return (await s3ReportLinks).publish(day);
      },
    }
  : undefined;

async function loadS3ReportLinks(bucket: string): Promise<DailyReportLinks> {
  const [{ S3Client }, { S3ReportLinks }, { renderDailyReport }] = await Promise.all([
    import('@aws-sdk/client-s3'),
    import('./s3-report-links'),
    import('../report/daily-report'),
  ]);
  // Not captured by the tracer: its trace header would be signed into the URL, which browsers do not send.
  const s3 = new S3Client({});
  return new S3ReportLinks({
    s3: () => s3,
    bucket,
    stage: env.STAGE,
    lifetimeSeconds: env.REPORT_LINK_HOURS * 3600,
    render: async (day) => {
      const { callReportFunction } = await store();
      return renderDailyReport(callReportFunction, day, {
        undeliveredAfterMinutes: settings.cohorts.undeliveredAfterMinutes,
      });
    },
  });
}

const sweep = createSweeper({
  store,
  metrics,
  logger,
  cohorts: settings.cohorts,
  failureSpike: settings.failureSpike,
  runbookUrl: env.RUNBOOK_URL,
  notifier: env.SUMMARY_TOPIC_ARN ? new SnsSummaryNotifier(sns, env.SUMMARY_TOPIC_ARN) : undefined,
  reportLinks,
  alertNotifier: env.WARNING_TOPIC_ARN ? new SnsSummaryNotifier(sns, env.WARNING_TOPIC_ARN) : undefined,
  senderHealth: env.SENDER_HEALTH,
  retention: env.RETENTION_DAYS === undefined ? undefined : { days: env.RETENTION_DAYS },
});

/**
 * EventBridge schedule -> sweeper. Powertools middleware: the tracer's segment, the logger's Lambda context (keys
 * reset after each run) and, inside createSweeper, logMetrics, which publishes the run's metrics once, also when it
 * throws.
 */
export const handler = middy(sweep)
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { resetKeys: true }));
