import { costByApiType, costPerMillionWebhooks, PRICES } from '../../bench/cost';

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
});
