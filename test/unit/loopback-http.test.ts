import { createServer } from 'node:http';
import { listen } from '../../local/loopback-http';

describe('listen', () => {
  it('says a port is in use in a sentence naming PORT, rather than an unhandled error event', async () => {
    const first = await listen(createServer());
    const port = Number(new URL(first.url).port);
    try {
      await expect(listen(createServer(), port)).rejects.toThrow(
        `port ${port} on 127.0.0.1 is already in use (another npm start?): stop it, or set PORT`,
      );
    } finally {
      await first.close();
    }
  });
});
