import fc from 'fast-check';
import type { StatusUpdate } from '../../lambdas/domain/status-update';
import { at } from './status-rows';

/** Status updates over a few message ids and a narrow time range, so collisions (same message, same time) abound. */
export function statusUpdateArbitrary(messageCount = 4): fc.Arbitrary<StatusUpdate> {
  return fc.record(
    {
      message_id: fc.integer({ min: 1, max: messageCount }).map((n) => `wamid.${n}`),
      status: fc.constantFrom('sent', 'delivered', 'read', 'played', 'failed') as fc.Arbitrary<StatusUpdate['status']>,
      timestamp: fc.integer({ min: 0, max: 20 }).map(at),
      phone_number: fc.option(fc.constantFrom('+911111', '+922222'), { nil: undefined }),
      recipient_user_id: fc.option(fc.constantFrom('IN.1111', 'IN.2222'), { nil: undefined }),
      recipient_parent_user_id: fc.option(fc.constantFrom('IN.ENT.1', 'IN.ENT.2'), { nil: undefined }),
      sender_phone_number_id: fc.option(fc.constantFrom('1061', '1062'), { nil: undefined }),
      sender_display_phone_number: fc.option(fc.constantFrom('+15550001', '+15550002'), { nil: undefined }),
      sender_waba_id: fc.option(fc.constantFrom('1022', '1023'), { nil: undefined }),
      sender_project_id: fc.option(fc.constantFrom('p1', 'p2'), { nil: undefined }),
      campaign: fc.option(fc.constantFrom('a', 'b'), { nil: undefined }),
      error: fc.option(fc.record({ code: fc.constantFrom(131026, 131049, 131047) }), { nil: undefined }),
      pricing: fc.option(fc.record({ category: fc.constantFrom('marketing', 'utility') }), { nil: undefined }),
    },
    { requiredKeys: ['message_id', 'status', 'timestamp'] },
  );
}

/** Deterministic shuffle (Fisher-Yates over a seeded LCG) for tests that need many orders of one set. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
