import { Match } from 'aws-cdk-lib/assertions';
import { loadConfig } from '../../lib/config';
import { actionsOf, statementsOf, synthStack } from '../support/cdk';

/** The bucket behind the daily report link (lib/constructs/report-bucket.ts) and what the sweeper may do with it. */
describe('report bucket', () => {
  const { template, stack } = synthStack();
  const bucketId = stack.getLogicalId(stack.reportBucket!.bucket.node.defaultChild as never);

  it('is encrypted (SSE-S3), blocks all public access and turns ACLs off', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
  });

  it('refuses requests without TLS, or with TLS older than 1.2', () => {
    // The archive's bucket has its own (test/infra/archive.test.ts).
    const policies = Object.values(template.findResources('AWS::S3::BucketPolicy')).filter(
      (p) => p.Properties.Bucket.Ref === bucketId,
    );
    expect(policies.map((p) => p.Properties.Bucket)).toEqual([{ Ref: bucketId }]);
    const statements = policies[0]!.Properties.PolicyDocument.Statement;
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        expect.objectContaining({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
      ]),
    );
  });

  it('expires reports after dailyReportRetentionDays (30 by default)', () => {
    const rule = (days: number) => ({
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            Status: 'Enabled',
            ExpirationInDays: days,
            AbortIncompleteMultipartUpload: Match.anyValue(),
          }),
        ],
      },
    });
    template.hasResourceProperties('AWS::S3::Bucket', rule(30));
    synthStack({ dailyReportRetentionDays: 7 }).template.hasResourceProperties('AWS::S3::Bucket', rule(7));
  });

  it('lets the sweeper only put and get objects under reports/, and no other function touch S3', () => {
    const sweeper = statementsOf(template, 'SweeperFunctionServiceRole');
    const s3 = sweeper.filter((s) => actionsOf([s]).some((a) => a.startsWith('s3:')));
    expect(s3).toEqual([
      {
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:GetObject'],
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/reports/*']] },
      },
    ]);
    for (const role of ['IngestFunctionServiceRole', 'ProcessorFunctionServiceRole'])
      expect(actionsOf(statementsOf(template, role)).filter((a) => a.startsWith('s3:'))).toEqual([]);
  });

  it("gives the sweeper the bucket's name, the link's lifetime and the stage", () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('daily summary'),
      Environment: {
        Variables: Match.objectLike({ REPORT_BUCKET_NAME: { Ref: bucketId }, REPORT_LINK_HOURS: '12', STAGE: 'dev' }),
      },
    });
    synthStack({ dailyReportLinkHours: 72 }).template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ REPORT_LINK_HOURS: '72' }) },
    });
  });

  it('is kept with prod, and emptied and deleted with a dev stack', () => {
    const prod = synthStack({ stage: 'prod' }).template;
    prod.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(prod.findResources('Custom::S3AutoDeleteObjects')).toEqual({});
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    expect(
      Object.keys(
        template.findResources('Custom::S3AutoDeleteObjects', { Properties: { BucketName: { Ref: bucketId } } }),
      ),
    ).toHaveLength(1);
  });

  it('is not made, and the sweeper gets no S3 access, with dailyReportLink false', () => {
    const off = synthStack({ dailyReportLink: 'false' }).template;
    // The archive's bucket stays (archiveEnabled).
    expect(Object.keys(off.findResources('AWS::S3::Bucket')).filter((id) => id.startsWith('ReportBucket'))).toEqual([]);
    expect(actionsOf(statementsOf(off, 'SweeperFunctionServiceRole')).filter((a) => a.startsWith('s3:'))).toEqual([]);
    const sweeper = Object.values(off.findResources('AWS::Lambda::Function')).find((f) =>
      String(f.Properties.Description).includes('daily summary'),
    );
    expect(sweeper?.Properties.Environment.Variables.REPORT_BUCKET_NAME).toBeUndefined();
  });
});

describe('report link config', () => {
  it('defaults to a 12-hour link and 30 days of reports', () => {
    expect(loadConfig({}, {})).toMatchObject({
      dailyReportLink: true,
      dailyReportLinkHours: 12,
      dailyReportRetentionDays: 30,
    });
  });

  it("refuses a lifetime beyond SigV4's 7 days, or under an hour", () => {
    expect(() => loadConfig({ dailyReportLinkHours: 169 }, {})).toThrow(
      /dailyReportLinkHours.*at most 7 days \(168 hours\)/,
    );
    expect(() => loadConfig({}, { DAILY_REPORT_LINK_HOURS: '0' })).toThrow(/dailyReportLinkHours.*at least 1 hour/);
    expect(loadConfig({ dailyReportLinkHours: 168 }, {}).dailyReportLinkHours).toBe(168);
  });

  it('refuses reports that would expire before their links', () => {
    expect(() => loadConfig({ dailyReportLinkHours: 48, dailyReportRetentionDays: 1 }, {})).toThrow(
      /dailyReportRetentionDays.*before their links/,
    );
  });
});
