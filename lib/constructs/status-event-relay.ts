import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Tracing } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { functionEnvironment, RelayEnv } from '../../lambdas/domain/function-environment';
import type { RecipientPolicy } from '../../lambdas/domain/status-change-event';
import type { StatusEventBus } from './status-event-bus';
import { TrackerFunction } from './tracker-function';

export interface StatusEventRelayProps {
  readonly bus: StatusEventBus;
  /** Holds {"SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY"}. */
  readonly supabaseSecret: ISecret;
  readonly recipient: RecipientPolicy;
  readonly logRetention: RetentionDays;
}

/**
 * The status-change events' relay (docs/events.md#the-outbox): a function invoked every minute that drains the
 * outbox the processor writes onto the bus, and lingers while events keep coming (lambdas/processor/status-event-
 * relay.ts: RELAY_SETTINGS, whose 10 s stop margin and 20 s linger fit this 60 s timeout). It may only read the
 * Supabase secret and put events on this bus. Two invocations may overlap by a few seconds: claims skip each
 * other's entries. A failed invocation is not retried: the next minute's drains what it left.
 */
export class StatusEventRelay extends Construct {
  public readonly function: TrackerFunction;
  public readonly schedule: Rule;

  constructor(scope: Construct, id: string, props: StatusEventRelayProps) {
    super(scope, id);
    this.function = new TrackerFunction(this, 'Function', {
      entry: 'lambdas/processor/relay-handler.ts',
      description: 'Puts the status-change outbox on the event bus',
      memorySize: 256,
      timeout: Duration.seconds(60),
      logRetention: props.logRetention,
      tracing: Tracing.ACTIVE,
      environment: functionEnvironment(RelayEnv, {
        SUPABASE_SECRET_ID: props.supabaseSecret.secretArn,
        STATUS_EVENT_BUS_NAME: props.bus.bus.eventBusName,
        STATUS_EVENT_RECIPIENT: props.recipient,
      }),
    });
    props.supabaseSecret.grantRead(this.function);
    props.bus.bus.grantPutEventsTo(this.function);
    this.schedule = new Rule(this, 'Schedule', {
      description: 'Drains the status-change outbox every minute (docs/events.md)',
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [new LambdaFunction(this.function, { retryAttempts: 0 })],
    });
  }
}
