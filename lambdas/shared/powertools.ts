import { Logger } from '@aws-lambda-powertools/logger';

/** The service name every log line and metric carries. */
export const SERVICE_NAME = 'whatsapp-delivery-tracker';

/**
 * One Logger per process, shared by every module (Powertools' recommended shape). LOG_LEVEL and
 * POWERTOOLS_LOG_LEVEL set the level; nothing logged anywhere holds a secret or a whole phone number.
 */
export const logger = new Logger({ serviceName: SERVICE_NAME });
