import { costByApiType, costPerMillionWebhooks, PRICES, RELAY_LINGER_MAX_USD_PER_MONTH } from '../../bench/cost';

/** Issue 17, item 2: the bench's cost model prices both API types (docs/performance.md quotes its figures). */
describe('cost per million webhooks', () => {
  const inputs = { ingestHandlerMs: 2, processorBatchMs: 20, ingestMemoryMb: 256, processorMemoryMb: 512 };

  it('charges the REST API by default and the HTTP API at its own price, the rest unchanged', () => {
    expect(costPerMillionWebhooks(inputs).parts.apiGateway).toBe(PRICES.apiGatewayRestPerMillion);
    const http = costPerMillionWebhooks({ ...inputs, apiType: 'http' });
    expect(http.parts.apiGateway).toBe(PRICES.apiGatewayHttpPerMillion);
    const { apiGateway: _rest, ...others } = costPerMillionWebhooks(inputs).parts;
    const { apiGateway: _http, ...httpOthers } = http.parts;
    expect(httpOthers).toEqual(others);
  });

  it('gives both totals, $2.50 apart at list prices', () => {
    const totals = costByApiType(inputs);
    expect(totals.rest).toBe(costPerMillionWebhooks(inputs).usd);
    expect(totals.rest - totals.http).toBeCloseTo(2.5, 2);
  });

  it("prices status-change events: EventBridge per event and the relay's busy time at its throughput", () => {
    const events = (relayEventsPerSecond?: number) =>
      costPerMillionWebhooks({
        ...inputs,
        statusEvents: {
          eventsPerWebhook: 1,
          extraMsPerBatch: 0,
          ...(relayEventsPerSecond ? { relayEventsPerSecond } : {}),
        },
      });
    expect(events(1000).parts.statusEvents).toBe(PRICES.eventBridgeCustomEventsPerMillion);
    // 1,000,000 events at 1,000/s: 1,000 s at 256 MB = 250 GB-s.
    expect(events(1000).parts.statusEventRelay).toBeCloseTo(250 * PRICES.lambdaArmPerGbSecond, 3);
    expect(events(500).parts.statusEventRelay).toBeCloseTo(2 * 250 * PRICES.lambdaArmPerGbSecond, 3);
    expect(events().assumed).toMatchObject({
      relayEventsPerSecond: 700,
      relayLingerMaxUsdPerMonth: RELAY_LINGER_MAX_USD_PER_MONTH,
    });
    expect(RELAY_LINGER_MAX_USD_PER_MONTH).toBeCloseTo(7.2, 1);
  });
});
