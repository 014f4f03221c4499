import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { type IGrantable, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnDeliveryStream } from 'aws-cdk-lib/aws-kinesisfirehose';
import { LogGroup, LogStream, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, StorageClass } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  ARCHIVE_DATA_PREFIX,
  FIREHOSE_ARCHIVE_PREFIX,
  FIREHOSE_ERROR_PREFIX,
} from '../../lambdas/domain/archive-record';

/** The storage classes the config offers: those Athena and replay read without a restore. */
const STORAGE_CLASSES = {
  GLACIER_IR: StorageClass.GLACIER_INSTANT_RETRIEVAL,
  STANDARD_IA: StorageClass.INFREQUENT_ACCESS,
  INTELLIGENT_TIERING: StorageClass.INTELLIGENT_TIERING,
} as const;

export interface ArchiveStorageProps {
  readonly bufferInterval: Duration;
  /** MiB (Firehose: 1 to 128). */
  readonly bufferMb: number;
  readonly transitionAfter: Duration;
  readonly storageClass: keyof typeof STORAGE_CLASSES;
  readonly expiration: Duration;
  readonly logRetention: RetentionDays;
  /**
   * Empty the bucket when the stack is deleted (a dev stack goes whole; a non-empty bucket would stop the deletion).
   * Otherwise it is kept, like the queues, log groups and the report bucket (`retainData`, the default for prod).
   */
  readonly autoDeleteObjects: boolean;
}

/**
 * The webhook archive (docs/archive.md): a Kinesis Data Firehose stream (DirectPut, encrypted with an AWS-owned
 * key) that the ingest puts one record per webhook to, delivering GZIP objects by UTC hour
 * (`webhooks/year=/month=/day=/hour=/`, lambdas/domain/archive-record.ts) into a private, encrypted, TLS-only bucket
 * whose objects move to cheaper storage and then expire. With `retainData` (prod) the bucket outlives the stack: it is
 * the record of what providers sent. Firehose's role may write objects and nothing else: it cannot
 * read back or delete what is archived (CDK's S3 destination would grant read and delete too, hence the L1 stream).
 */
export class ArchiveStorage extends Construct {
  public readonly bucket: Bucket;
  public readonly stream: CfnDeliveryStream;
  /** `s3://<bucket>/webhooks/`: what `npm run replay -- --source` takes. */
  public readonly location: string;

  constructor(scope: Construct, id: string, props: ArchiveStorageProps) {
    super(scope, id);
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      // The stack's retainData aspect sets the same policy; autoDeleteObjects needs DESTROY set here.
      removalPolicy: props.autoDeleteObjects ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      autoDeleteObjects: props.autoDeleteObjects,
      lifecycleRules: [
        {
          id: 'archive-lifecycle',
          transitions: [{ storageClass: STORAGE_CLASSES[props.storageClass], transitionAfter: props.transitionAfter }],
          expiration: props.expiration,
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Only Firehose writes here and operators read (replay, Athena); server access logs would need a second bucket: enable CloudTrail S3 data events if your account requires an access trail.',
    });

    const logGroup = new LogGroup(this, 'DeliveryLogGroup', { retention: props.logRetention });
    const logStream = new LogStream(this, 'DeliveryLogStream', { logGroup, removalPolicy: RemovalPolicy.DESTROY });
    const role = new Role(this, 'DeliveryRole', {
      assumedBy: new ServicePrincipal('firehose.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    });
    // What Firehose needs to deliver to S3 (https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html#using-iam-s3),
    // without GetObject: it never reads objects back.
    role.addToPolicy(
      new PolicyStatement({
        actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
        resources: [this.bucket.bucketArn],
      }),
    );
    role.addToPolicy(
      new PolicyStatement({
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: [this.bucket.arnForObjects('*')],
      }),
    );
    role.addToPolicy(new PolicyStatement({ actions: ['logs:PutLogEvents'], resources: [logGroup.logGroupArn] }));
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.bucket.node.defaultChild as never)}.Arn>/*]`,
      reason:
        'Firehose names its objects by hour at delivery: it may put and abort uploads of any object in this one bucket.',
    });

    this.stream = new CfnDeliveryStream(this, 'Stream', {
      deliveryStreamType: 'DirectPut',
      deliveryStreamEncryptionConfigurationInput: { keyType: 'AWS_OWNED_CMK' },
      extendedS3DestinationConfiguration: {
        bucketArn: this.bucket.bucketArn,
        roleArn: role.roleArn,
        prefix: FIREHOSE_ARCHIVE_PREFIX,
        errorOutputPrefix: FIREHOSE_ERROR_PREFIX,
        compressionFormat: 'GZIP',
        fileExtension: '.jsonl.gz',
        bufferingHints: { intervalInSeconds: props.bufferInterval.toSeconds(), sizeInMBs: props.bufferMb },
        cloudWatchLoggingOptions: {
          enabled: true,
          logGroupName: logGroup.logGroupName,
          logStreamName: logStream.logStreamName,
        },
      },
    });
    // The role's policy must exist before Firehose first tries to deliver.
    this.stream.node.addDependency(role);
    this.location = `s3://${this.bucket.bucketName}/${ARCHIVE_DATA_PREFIX}`;
  }

  get streamName(): string {
    return this.stream.ref;
  }

  /** firehose:PutRecord and PutRecordBatch on this one stream: add to the archive, never read or change it. */
  grantPutRecords(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
        resources: [this.stream.attrArn],
      }),
    );
  }

  /** Age (s) of the oldest record Firehose has not delivered to S3 yet. */
  metricDataFreshness(period: Duration): Metric {
    return new Metric({
      namespace: 'AWS/Firehose',
      metricName: 'DeliveryToS3.DataFreshness',
      dimensionsMap: { DeliveryStreamName: this.streamName },
      statistic: 'Maximum',
      period,
    });
  }
}
