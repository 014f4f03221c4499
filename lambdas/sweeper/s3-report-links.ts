import type { S3Client } from '@aws-sdk/client-s3';
import { type DailyReportLinks, type ReportDay, type ReportLink, reportKey } from './report-link';

export interface S3ReportLinksOptions {
  /**
   * The client, made on first use (the health runs never load the S3 SDK). Not wrapped by the tracer: a presigned
   * URL must sign no header a browser will not send (X-Amzn-Trace-Id).
   */
  s3: () => S3Client | Promise<S3Client>;
  bucket: string;
  stage: string;
  /** X-Amz-Expires: SigV4 allows at most 7 days (604,800 s). */
  lifetimeSeconds: number;
  /** The page for the day and the sections it is without (renderDailyReport, loaded on first use). */
  render: (day: ReportDay) => Promise<{ html: string; unavailableSections: string[] }>;
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
    const { bucket, stage, lifetimeSeconds } = this.options;
    const { html, unavailableSections } = await this.options.render(day);
    // Imported here, not at the top: an ESM bundle loads its static imports at every cold start, and the S3 SDK
    // alone costs about as much as the rest of the sweeper (bench: "sweeper bundle").
    const [{ GetObjectCommand, PutObjectCommand }, { getSignedUrl }] = await Promise.all([
      import('@aws-sdk/client-s3'),
      import('@aws-sdk/s3-request-presigner'),
    ]);
    const s3 = await this.options.s3();
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
      unavailableSections,
    };
  }
}
