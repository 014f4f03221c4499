import { createServer, type Server } from 'node:http';
import { listen, readBody, replyJson } from '../local/loopback-http';

/**
 * A loopback endpoint serving Secrets Manager's GetSecretValue (AWS JSON 1.1), so the bundled Lambda handlers
 * read their secrets through the real SDK and Powertools Parameters. Point them at it with
 * AWS_ENDPOINT_URL_SECRETS_MANAGER.
 */
export async function startFakeSecretsManager(
  secrets: Record<string, unknown>,
): Promise<{ endpoint: string; reads: string[]; close(): Promise<void> }> {
  const reads: string[] = [];
  const server: Server = createServer(async (req, res) => {
    const input = JSON.parse((await readBody(req)) || '{}') as { SecretId?: string };
    const reply = (status: number, body: unknown) => replyJson(res, status, body, 'application/x-amz-json-1.1');
    if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue')
      return reply(400, { __type: 'InvalidRequestException' });
    const id = input.SecretId ?? '';
    reads.push(id);
    if (!(id in secrets))
      return reply(400, {
        __type: 'ResourceNotFoundException',
        message: "Secrets Manager can't find the specified secret.",
      });
    return reply(200, {
      ARN: id,
      Name: id,
      SecretString: JSON.stringify(secrets[id]),
      VersionId: 'v1',
      CreatedDate: 1_700_000_000,
    });
  });
  const { url, close } = await listen(server);
  return { endpoint: url, reads, close: () => close() };
}
