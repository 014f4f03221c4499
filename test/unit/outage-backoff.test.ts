import {
  type OutageBackoff,
  outageRetryDelaySeconds,
  outageToleranceSeconds,
  receivesToOutlast,
} from '../../lambdas/domain/outage-backoff';

const deployed: OutageBackoff = { baseSeconds: 180, maxSeconds: 3_600 };

describe('outage backoff', () => {
  it('doubles the wait from the visibility timeout after each failed receive, up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 10].map((n) => outageRetryDelaySeconds(n, deployed))).toEqual([
      180, 360, 720, 1_440, 2_880, 3_600, 3_600, 3_600,
    ]);
  });

  it('never asks SQS for more than 12 hours, whatever the cap or the count', () => {
    expect(outageRetryDelaySeconds(1_000, { baseSeconds: 180, maxSeconds: 100_000 })).toBe(43_200);
    expect(outageRetryDelaySeconds(0, deployed)).toBe(180);
  });

  it('with the defaults, 11 receives outlast 6 hours of outage and 10 do not', () => {
    expect(receivesToOutlast(6 * 3_600, deployed)).toBe(11);
    // The 11th receive, 180+360+720+1440+2880+5×3600 s after the first, must find the database back.
    expect(outageToleranceSeconds(11, deployed)).toBe(23_580);
    expect(outageToleranceSeconds(10, deployed)).toBe(19_980);
  });

  it('the old 5 receives x 180 s outlasted 12 minutes only (the 5th receive is the last one tried)', () => {
    expect(outageToleranceSeconds(5, { baseSeconds: 180, maxSeconds: 180 })).toBe(720);
  });
});
