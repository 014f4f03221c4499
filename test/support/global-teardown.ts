export default async function globalTeardown(): Promise<void> {
  await globalThis.__THROWAWAY_PG__?.stop();
}
