import { rm } from 'node:fs/promises';

export default async function globalTeardown(): Promise<void> {
  await globalThis.__DROP_PG_TEMPLATE__?.();
  await globalThis.__THROWAWAY_PG__?.stop();
  if (globalThis.__PGLITE_TEMPLATE_DIR__)
    await rm(globalThis.__PGLITE_TEMPLATE_DIR__, { recursive: true, force: true });
}
