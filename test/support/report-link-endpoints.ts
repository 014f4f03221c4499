import { createServer } from 'node:http';
import { listen, readBody } from '../../local/loopback-http';

/**
 * Loopback stand-ins for what the sweeper's daily summary calls besides the database: S3's PutObject (path-style,
 * as the SDK addresses an IP endpoint) and SNS's Publish (query or JSON protocol). They record what arrives, so a
 * bundle test can read the stored page and the published message.
 */
export async function startReportLinkEndpoints() {
  const objects = new Map<string, { contentType?: string; body: string }>();
  const published: { subject?: string; message: string }[] = [];
  const s3 = await listen(
    createServer(async (req, res) => {
      const body = await readBody(req);
      if (req.method !== 'PUT') {
        res.writeHead(405).end();
        return;
      }
      objects.set(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname), {
        contentType: req.headers['content-type'],
        body,
      });
      res.writeHead(200, { etag: '"0"' }).end();
    }),
  );
  const sns = await listen(
    createServer(async (req, res) => {
      const body = await readBody(req);
      if (String(req.headers['content-type']).includes('json')) {
        const input = JSON.parse(body) as { Subject?: string; Message: string };
        published.push({ subject: input.Subject, message: input.Message });
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{"MessageId":"m-1"}');
        return;
      }
      const form = new URLSearchParams(body);
      published.push({ subject: form.get('Subject') ?? undefined, message: form.get('Message') ?? '' });
      res
        .writeHead(200, { 'content-type': 'text/xml' })
        .end(
          '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-1</MessageId></PublishResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></PublishResponse>',
        );
    }),
  );
  return {
    s3Endpoint: s3.url,
    snsEndpoint: sns.url,
    objects,
    published,
    close: async () => {
      await s3.close();
      await sns.close();
    },
  };
}
