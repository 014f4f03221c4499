import { Tracer } from '@aws-lambda-powertools/tracer';
import { SERVICE_NAME } from './powertools';

/**
 * X-Ray through Powertools Tracer, for the processor and the sweeper. The ingest function relies on Lambda's active
 * tracing without the SDK: Tracer would add to the bundle and the cold start (figures: docs/performance.md) of a
 * function whose cold start counts against AiSensy's 5 s deadline. Kept apart from powertools.ts so importing the logger does not pull it in.
 */
export const tracer = new Tracer({ serviceName: SERVICE_NAME });
