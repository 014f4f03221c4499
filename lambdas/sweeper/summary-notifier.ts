import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';

/** Where the daily summary goes. */
export interface SummaryNotifier {
  publish(subject: string, message: string): Promise<void>;
}

/** The info-severity SNS topic (email subscribers, chat integrations). */
export class SnsSummaryNotifier implements SummaryNotifier {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(subject: string, message: string): Promise<void> {
    // SNS limits subjects to 100 characters.
    await this.client.send(
      new PublishCommand({ TopicArn: this.topicArn, Subject: subject.slice(0, 100), Message: message }),
    );
  }
}
