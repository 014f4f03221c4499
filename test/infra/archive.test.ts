import { Match } from 'aws-cdk-lib/assertions';
import { loadConfig } from '../../lib/config';
import { actionsOf, statementsOf, synthStack } from '../support/cdk';

describe('webhook archive', () => {
  const { template, stack } = synthStack();
  const bucketId = stack.getLogicalId(stack.archive!.bucket.node.defaultChild as never);
  const bucket = () => [bucketId, template.findResources('AWS::S3::Bucket')[bucketId]!] as const;
  const stream = () => Object.entries(template.findResources('AWS::KinesisFirehose::DeliveryStream'))[0]!;

  it('lets the ingest put records to that one stream, and nothing else of the archive', () => {
    const statements = statementsOf(template, 'IngestFunctionServiceRole');
    const firehose = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('firehose:')));
    expect(firehose).toEqual([
      {
        Effect: 'Allow',
        Action: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
        Resource: { 'Fn::GetAtt': [stream()[0], 'Arn'] },
      },
    ]);
    expect(actionsOf(statements).filter((a) => a.startsWith('s3:'))).toEqual([]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ ARCHIVE_STREAM_NAME: { Ref: stream()[0] } }) },
    });
  });

  it('lets Firehose write objects into the bucket, never read them back or delete them', () => {
    const statements = statementsOf(template, 'ArchiveDeliveryRole');
    expect(actionsOf(statements)).toEqual([
      'logs:PutLogEvents',
      's3:AbortMultipartUpload',
      's3:GetBucketLocation',
      's3:ListBucket',
      's3:ListBucketMultipartUploads',
      's3:PutObject',
    ]);
  });

  it('encrypts the stream and the bucket, blocks public access and refuses plain HTTP', () => {
    expect(stream()[1].Properties.DeliveryStreamEncryptionConfigurationInput).toEqual({ KeyType: 'AWS_OWNED_CMK' });
    expect(bucket()[1].Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    // Kept with prod (retainData), emptied and deleted with a dev stack, like the queues and the report bucket.
    expect(bucket()[1].DeletionPolicy).toBe('Delete');
    const prod = synthStack({ stage: 'prod' });
    const prodBucketId = prod.stack.getLogicalId(prod.stack.archive!.bucket.node.defaultChild as never);
    expect(prod.template.findResources('AWS::S3::Bucket')[prodBucketId]).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('delivers GZIP objects by UTC hour under webhooks/, buffered as configured', () => {
    expect(stream()[1].Properties.ExtendedS3DestinationConfiguration).toMatchObject({
      Prefix: 'webhooks/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/',
      ErrorOutputPrefix: expect.stringMatching(/^errors\/!\{firehose:error-output-type\}\//),
      CompressionFormat: 'GZIP',
      FileExtension: '.jsonl.gz',
      BufferingHints: { IntervalInSeconds: 300, SizeInMBs: 64 },
    });
    const custom = synthStack({ archiveBufferSeconds: 900, archiveBufferMb: 128 }).template;
    custom.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      ExtendedS3DestinationConfiguration: Match.objectLike({
        BufferingHints: { IntervalInSeconds: 900, SizeInMBs: 128 },
      }),
    });
  });

  it('moves objects to cheaper storage after 30 days and deletes them after 365, as configured', () => {
    expect(bucket()[1].Properties.LifecycleConfiguration.Rules).toEqual([
      expect.objectContaining({
        Status: 'Enabled',
        Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 30 }],
        ExpirationInDays: 365,
      }),
    ]);
    const custom = synthStack({
      archiveStorageClass: 'STANDARD_IA',
      archiveTransitionDays: 60,
      archiveExpirationDays: 90,
    });
    expect(
      custom.template.findResources('AWS::S3::Bucket')[bucketId]!.Properties.LifecycleConfiguration.Rules[0],
    ).toMatchObject({ Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 60 }], ExpirationInDays: 90 });
  });

  it.each([
    [{ archiveExpirationDays: 20 }, /archiveExpirationDays \(20\) must be later than archiveTransitionDays \(30\)/],
    [{ archiveStorageClass: 'STANDARD_IA', archiveTransitionDays: 7 }, /STANDARD_IA after 30 days at the earliest/],
    [{ archiveExpirationDays: 60 }, /GLACIER_IR charges 90 days at least/],
    [{ archiveStorageClass: 'GLACIER' }, /archiveStorageClass/],
  ])('refuses a lifecycle S3 would refuse or that pays for nothing: %p', (context, message) => {
    expect(() => loadConfig(context, {})).toThrow(message);
  });

  it('can be left out: no stream, no bucket, no environment variable, no alarm', () => {
    const { template: off } = synthStack({ archiveEnabled: false });
    expect(off.findResources('AWS::KinesisFirehose::DeliveryStream')).toEqual({});
    expect(Object.keys(off.findResources('AWS::S3::Bucket')).filter((id) => id.startsWith('Archive'))).toEqual([]);
    expect(JSON.stringify(off.toJSON())).not.toContain('ARCHIVE_STREAM_NAME');
    expect(Object.keys(off.findResources('AWS::CloudWatch::Alarm')).some((id) => id.startsWith('AlarmsArchive'))).toBe(
      false,
    );
  });
});
