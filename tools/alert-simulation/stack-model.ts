import { App, type CfnResource } from 'aws-cdk-lib';
import {
  type CohortSettings,
  type FailureSpikeSettings,
  sweeperSettingsFromEnvironment,
} from '../../lambdas/domain/alert-settings';
import type { OutageBackoff } from '../../lambdas/domain/outage-backoff';
import { loadConfig, type TrackerConfig } from '../../lib/config';
import { StatusTrackingStack } from '../../lib/status-tracking-stack';
import { type AlarmDefinition, readAlarms } from './cloudwatch';

type Json = Record<string, unknown>;

/**
 * What the simulator needs to know about a deployment, read from the stack's synthesized template (not from the
 * config): its alarms, the resources whose AWS metrics they watch, each function's environment, the queue's retry
 * settings and the processor's batching.
 */
export interface StackModel {
  template: Json;
  alarms: AlarmDefinition[];
  /** Dimension values as the template's alarms name them (`ref:<logicalId>` or a literal name). */
  dimensions: {
    apiName: string;
    ingest: string;
    processor: string;
    sweeper: string;
    queue: string;
    deadLetterQueue: string;
  };
  /** POWERTOOLS_SERVICE_NAME of each function: the `service` dimension of what it publishes. */
  serviceNames: { ingest: string; processor: string; sweeper: string };
  sweeper: {
    cohorts: CohortSettings;
    failureSpike: FailureSpikeSettings;
    intervalMinutes: number;
    dailySummaryHourUtc: number;
  };
  queue: { visibilityTimeoutSeconds: number; maxReceiveCount: number };
  processor: { batchSize: number; maxConcurrency: number; outageBackoff: OutageBackoff };
}

/** Synthesizes the real stack with the given context keys (bundling skipped: the code is not deployed here). */
export function synthesizeStackModel(context: Record<string, unknown> = {}, stackName = 'Tracker'): StackModel {
  return modelOf(loadConfig({ ...context, stackName }, {}));
}

/** The same, from a loaded configuration (the deployed one, for `alerts:simulate`). */
export function modelOf(config: TrackerConfig): StackModel {
  // CDK's built-in template validation (a WebAssembly rules engine, several CPU seconds per synthesis) is off: its
  // findings are warnings that `cdk synth` and test/ report; the simulator only reads the template, which is the same.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const stack = new StatusTrackingStack(app, config.stackName, {
    config,
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  const template = app.synth().getStackByName(stack.stackName).template as Json;
  const resources = template.Resources as Record<string, Json>;
  const id = (construct: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(construct.node.defaultChild as CfnResource);
  const props = (logicalId: string) => resources[logicalId]!.Properties as Json;
  const env = (logicalId: string) => (props(logicalId).Environment as Json).Variables as Record<string, string>;

  const ingest = id(stack.ingest.function);
  const processor = id(stack.processor.function);
  const sweeper = id(stack.sweeper.function);
  const queue = id(stack.statusQueue.queue);
  const deadLetterQueue = id(stack.statusQueue.deadLetterQueue);
  const api = id(stack.webhookApi.api);

  const rate = /^rate\((\d+) minutes?\)$/.exec(String(props(id(stack.sweeper.healthRule)).ScheduleExpression));
  const cron = /^cron\(0 (\d+) /.exec(String(props(id(stack.sweeper.summaryRule)).ScheduleExpression));
  if (!rate || !cron) throw new Error('the sweeper schedules are not the shapes the simulator models');
  // The status queue's mapping: the processor also reads the status-change events' retry queue (batches of its own).
  const mapping = Object.values(resources).find(
    (r) =>
      r.Type === 'AWS::Lambda::EventSourceMapping' &&
      JSON.stringify((r.Properties as Json).EventSourceArn) === JSON.stringify({ 'Fn::GetAtt': [queue, 'Arn'] }),
  )?.Properties as Json | undefined;
  if (!mapping) throw new Error("the status queue's event source mapping is not in the template");
  const queueProps = props(queue);

  return {
    template,
    alarms: readAlarms(template),
    dimensions: {
      apiName: String(props(api).Name),
      ingest: `ref:${ingest}`,
      processor: `ref:${processor}`,
      sweeper: `ref:${sweeper}`,
      queue: `ref:${queue}`,
      deadLetterQueue: `ref:${deadLetterQueue}`,
    },
    serviceNames: {
      ingest: env(ingest).POWERTOOLS_SERVICE_NAME!,
      processor: env(processor).POWERTOOLS_SERVICE_NAME!,
      sweeper: env(sweeper).POWERTOOLS_SERVICE_NAME!,
    },
    sweeper: {
      ...sweeperSettingsFromEnvironment(env(sweeper)),
      intervalMinutes: Number(rate[1]),
      dailySummaryHourUtc: Number(cron[1]),
    },
    queue: {
      visibilityTimeoutSeconds: Number(queueProps.VisibilityTimeout),
      maxReceiveCount: Number((queueProps.RedrivePolicy as Json).maxReceiveCount),
    },
    processor: {
      batchSize: Number(mapping.BatchSize),
      maxConcurrency: Number((mapping.ScalingConfig as Json | undefined)?.MaximumConcurrency ?? 1_000),
      outageBackoff: {
        baseSeconds: Number(env(processor).OUTAGE_BACKOFF_BASE_SECONDS),
        maxSeconds: Number(env(processor).OUTAGE_BACKOFF_MAX_SECONDS),
      },
    },
  };
}
