import { Validations } from 'aws-cdk-lib';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export type Severity = 'critical' | 'warning' | 'info';

export interface AlertTopicsProps {
  /** Named in each topic's display name (the sender of its emails), so people subscribed to two stages tell them apart. */
  readonly stage: string;
  /** Email addresses per severity; each receives a confirmation email from SNS first. @default none */
  readonly emails?: Partial<Record<Severity, readonly string[]>>;
}

/** One SNS topic per severity, TLS-only. Subscribe email here, or chat tools (AWS Chatbot) to the topic ARNs. */
export class AlertTopics extends Construct {
  public readonly critical: Topic;
  public readonly warning: Topic;
  public readonly info: Topic;

  constructor(scope: Construct, id: string, props: AlertTopicsProps) {
    super(scope, id);
    const make = (severity: Severity, displayName: string) => {
      const topic = new Topic(this, severity[0]!.toUpperCase() + severity.slice(1), { displayName, enforceSSL: true });
      for (const email of props.emails?.[severity] ?? []) topic.addSubscription(new EmailSubscription(email));
      Validations.of(topic).acknowledge({
        id: 'AwsSolutions-SNS2',
        reason:
          'Alarm notifications carry no personal data; CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key, and a customer key costs more than the data warrants.',
      });
      return topic;
    };
    this.critical = make('critical', `WhatsApp delivery (${props.stage}): critical`);
    this.warning = make('warning', `WhatsApp delivery (${props.stage}): warning`);
    this.info = make('info', `WhatsApp delivery (${props.stage}): daily summary`);
  }
}
