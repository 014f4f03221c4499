import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

/** The day a summary is about (previousUtcDay, lambdas/report/daily-summary.ts). */
export interface ReportDay {
  from: Date;
  to: Date;
  /** `2026-03-01` */
  label: string;
}

/** Where the day's HTML report can be read, and until when. */
export interface ReportLink {
  url: string;
  bucket: string;
  key: string;
  /** The earlier of the URL's own expiry and that of the credentials that signed it. */
  expiresAt: Date;
  /** Whether expiresAt is the signing credentials' expiry (sooner than the configured lifetime). */
  cutShortByCredentials: boolean;
}

/** Renders, stores and shares the day's report; the sweeper puts the link in the summary. */
export interface DailyReportLinks {
  publish(day: ReportDay): Promise<ReportLink>;
}

/** `reports/<stage>/<day>.html`: one object per stage and day, under the prefix the sweeper may write. */
export const reportKey = (stage: string, label: string) => `reports/${stage}/${label}.html`;

export interface S3ReportLinksOptions {
  /** Not wrapped by the tracer: a presigned URL must sign no header a browser will not send (X-Amzn-Trace-Id). */
  s3: S3Client;
  bucket: string;
  stage: string;
  /** X-Amz-Expires: SigV4 allows at most 7 days (604,800 s). */
  lifetimeSeconds: number;
  /** The page for the day (renderDailyReport, loaded on first use). */
  render: (day: ReportDay) => Promise<string>;
  now?: () => Date;
}

/**
 * The report in the private report bucket (lib/constructs/report-bucket.ts), shared as a presigned GET URL. The URL
 * carries the sweeper role's permission: it works while that role may read the object and while the temporary
 * credentials that signed it are valid, whichever ends first (docs/daily-report.md#how-long-the-link-works).
 */
export class S3ReportLinks implements DailyReportLinks {
  private readonly now: () => Date;

  constructor(private readonly options: S3ReportLinksOptions) {
    this.now = options.now ?? (() => new Date());
  }

  async publish(day: ReportDay): Promise<ReportLink> {
    const { s3, bucket, stage, lifetimeSeconds } = this.options;
    const html = await this.options.render(day);
    const key = reportKey(stage, day.label);
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: html,
        ContentType: 'text/html; charset=utf-8',
        ContentDisposition: `inline; filename="whatsapp-delivery-${day.label}.html"`,
        CacheControl: 'private, no-store',
      }),
    );
    const signedAt = this.now();
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), {
      expiresIn: lifetimeSeconds,
      signingDate: signedAt,
    });
    const ownExpiry = new Date(signedAt.getTime() + lifetimeSeconds * 1000);
    const credentialsExpiry = (await s3.config.credentials()).expiration;
    const cutShortByCredentials = credentialsExpiry !== undefined && credentialsExpiry < ownExpiry;
    return {
      url,
      bucket,
      key,
      expiresAt: cutShortByCredentials ? credentialsExpiry : ownExpiry,
      cutShortByCredentials,
    };
  }
}

const utc = (date: Date) => `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** The lines the summary ends with: the link and until when it works, or that there is none today and why. */
export function reportLinkLines(link: ReportLink | { failed: true }, day: ReportDay): string[] {
  if ('failed' in link) {
    return [
      'The full report (charts, failures, follow-ups) could not be made today: the sweeper logged why.',
      `Make it yourself: npm run report -- --from ${day.from.toISOString()} --to ${day.to.toISOString()} --html report.html`,
    ];
  }
  return [
    'Full report (charts, failures, follow-ups; phone numbers masked):',
    link.url,
    `The link works until ${utc(link.expiresAt)}${
      link.cutShortByCredentials ? " (when the sweeper's AWS credentials that signed it expire)" : ''
    }. Later: aws s3 presign s3://${link.bucket}/${link.key}`,
  ];
}
