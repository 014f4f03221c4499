import path from 'node:path';
import { type Duration, Stack, Validations } from 'aws-cdk-lib';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** The newest Node.js runtime aws-cdk-lib offers. The handlers are also tested on Node 20 and 22. */
export const LAMBDA_RUNTIME = Runtime.NODEJS_24_X;

/**
 * How every function is bundled (esbuild, locally). Exported so the bundle test and the benchmark build exactly
 * what a deployment ships.
 */
export const LAMBDA_BUNDLING = {
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  target: 'node22',
  format: OutputFormat.ESM,
  mainFields: ['module', 'main'],
  // Some bundled CommonJS dependencies `require` Node built-ins; ESM has no `require` of its own.
  banner:
    "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  // The AWS SDK clients the Lambda runtime ships (every Node.js runtime from 18 has the SDK v3's clients): leaving
  // them out keeps bundles small and cold starts short. Everything else is bundled at package-lock.json's versions:
  // the S3 presigner (the sweeper's daily report link) is not a client, and AWS does not say the runtime has it; it
  // must match the client-s3 it signs with, so client-s3 is bundled beside it. A new client the code imports is
  // bundled until it is listed here (test/e2e/lambda-bundles.test.ts checks a bundle leaves out clients only).
  externalModules: [
    '@aws-sdk/client-eventbridge',
    '@aws-sdk/client-firehose',
    '@aws-sdk/client-secrets-manager',
    '@aws-sdk/client-sns',
    '@aws-sdk/client-sqs',
  ],
} as const;

export interface TrackerFunctionProps {
  /** Path of the handler module, relative to the project root, e.g. `lambdas/ingest/handler.ts`. */
  readonly entry: string;
  readonly description: string;
  /** @default 256 */
  readonly memorySize?: number;
  readonly timeout: Duration;
  readonly logRetention: RetentionDays;
  /** Plain settings only: secrets are passed as Secrets Manager ids, never values. */
  readonly environment?: Record<string, string>;
  readonly tracing?: Tracing;
}

/**
 * Every Lambda of the stack, with the defaults set once: newest Node runtime, ARM64, a log group with retention,
 * source maps, and a minified ESM bundle built locally by esbuild (no Docker).
 */
export class TrackerFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: TrackerFunctionProps) {
    // Whether it outlives the stack is decided per stage, for every log group and queue at once (`retainData`,
    // status-tracking-stack.ts).
    const logGroup = new LogGroup(scope, `${id}LogGroup`, { retention: props.logRetention });
    super(scope, id, {
      entry: path.join(PROJECT_ROOT, props.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: LAMBDA_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout,
      logGroup,
      tracing: props.tracing,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        // The `service` of every log line and the dimension of every custom metric: the stack's name, so a second
        // stack in the account (a dev copy) never mixes its figures with this one's.
        POWERTOOLS_SERVICE_NAME: Stack.of(scope).stackName,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...props.environment,
      },
      bundling: {
        ...LAMBDA_BUNDLING,
        mainFields: [...LAMBDA_BUNDLING.mainFields],
        externalModules: [...LAMBDA_BUNDLING.externalModules],
      },
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'The AWS-managed basic execution role only allows writing to CloudWatch Logs.',
    });
    if (props.tracing === Tracing.ACTIVE) {
      Validations.of(this).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.',
      });
    }
  }
}
