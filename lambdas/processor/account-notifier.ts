import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { AccountNotification } from '../domain/account-events';

/** Where the processor sends account and template notifications (account-events.ts accountNotification). */
export interface AccountNotifier {
  notify(notification: AccountNotification): Promise<void>;
}

/** The stack's alert topics: critical notifications to the critical topic, warnings to the warning topic. */
export class SnsAccountNotifier implements AccountNotifier {
  constructor(
    private readonly client: SNSClient,
    private readonly topics: { critical: string; warning: string },
  ) {}

  async notify(notification: AccountNotification): Promise<void> {
    await this.client.send(
      new PublishCommand({
        TopicArn: this.topics[notification.severity],
        Subject: notification.subject,
        Message: notification.message,
      }),
    );
  }
}
