import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import { sweeperSettingsFromEnvironment } from '../domain/alert-settings';
import { readEnv, SweeperEnv } from '../shared/env';
import { logger, metrics } from '../shared/powertools';
import { tracer } from '../shared/tracer';
import { lazySupabaseStore } from '../store/handler-store';
import { S3ReportLinks } from './daily-report-link';
import { SnsSummaryNotifier } from './summary-notifier';
import { createSweeper } from './sweep-delivery-health';

// Module scope: config is read once per cold start; the client is created on first use and then reused.
const env = readEnv(SweeperEnv);
const settings = sweeperSettingsFromEnvironment(process.env);
const sns = tracer.captureAWSv3Client(new SNSClient({}));

const store = lazySupabaseStore({ SUPABASE_SECRET_ID: env.SUPABASE_SECRET_ID });
const reportLinks = env.REPORT_BUCKET_NAME
  ? new S3ReportLinks({
      // Not captured by the tracer: its trace header would be signed into the URL, which browsers do not send.
      s3: new S3Client({}),
      bucket: env.REPORT_BUCKET_NAME,
      stage: env.STAGE,
      lifetimeSeconds: env.REPORT_LINK_HOURS * 3600,
      render: async (day) => {
        // Loaded on the first summary only: the health runs every few minutes never load ECharts.
        const { renderDailyReport } = await import('../report/daily-report');
        const { callReportFunction } = await store();
        return renderDailyReport(callReportFunction, day, {
          undeliveredAfterMinutes: settings.cohorts.undeliveredAfterMinutes,
        });
      },
    })
  : undefined;

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
});

/**
 * EventBridge schedule -> sweeper. Powertools middleware: the tracer's segment, the logger's Lambda context (keys
 * reset after each run) and, inside createSweeper, logMetrics, which publishes the run's metrics once, also when it
 * throws.
 */
export const handler = middy(sweep)
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { resetKeys: true }));
