import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface ReportBucketProps {
  /** Days a report is kept (the lifecycle expiry); its link cannot outlive it. */
  readonly expirationDays: number;
  /**
   * Empty the bucket when the stack is deleted (a dev stack goes whole; a non-empty bucket would stop the deletion).
   * Otherwise it is kept, like the queues and log groups (`retainData`, lib/status-tracking-stack.ts).
   */
  readonly autoDeleteObjects: boolean;
}

/**
 * The private bucket the sweeper writes each day's HTML report to and shares by presigned URL. Nothing in it is
 * public: all public access is blocked, only TLS requests are accepted, ACLs are off (bucket owner enforced),
 * and reports expire after `expirationDays`.
 *
 * Encryption is SSE-S3 (AES-256, keys managed by S3), not SSE-KMS: a presigned GET of an SSE-KMS object also needs
 * kms:Decrypt for the signer on every open, and a customer key adds a monthly cost and a key policy, for pages
 * whose phone numbers are masked and which expire within days. Access is decided by IAM (the sweeper's role) and
 * by the URL's signature, which SSE-KMS would not change.
 */
export class ReportBucket extends Construct {
  /** The only prefix the sweeper may write and read. */
  static readonly PREFIX = 'reports/';
  public readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: ReportBucketProps) {
    super(scope, id);
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          id: 'ExpireReports',
          expiration: Duration.days(props.expirationDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      // The stack's retainData aspect sets the same policy; autoDeleteObjects needs DESTROY set here.
      removalPolicy: props.autoDeleteObjects ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      autoDeleteObjects: props.autoDeleteObjects,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'No server access logs: the bucket holds generated reports (phone numbers masked) that expire, written and signed only by the sweeper; enable CloudTrail S3 data events for the account if object-level reads must be audited.',
    });
  }

  /**
   * PutObject and GetObject on the report prefix only. GetObject is what a presigned GET URL exercises: the URL
   * carries the signer's permissions, so without it every link would answer 403.
   */
  grantReportWriteAndShare(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['s3:PutObject', 's3:GetObject'],
        resources: [this.bucket.arnForObjects(`${ReportBucket.PREFIX}*`)],
      }),
    );
  }
}
