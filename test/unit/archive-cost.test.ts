import { measureArchiveSize } from '../../bench/archive-size';
import { archiveCost, PRICES } from '../../bench/cost';

describe('the archive in the cost model', () => {
  const defaults = { bufferSeconds: 300, transitionDays: 30, expirationDays: 365 };

  it('bills every 1-status webhook as one 5 KB Firehose increment: $0.14 per million at $0.029/GB', () => {
    const measured = measureArchiveSize(200);
    expect(Math.max(...measured.recordBytes)).toBeLessThan(PRICES.firehoseRecordIncrementBytes);
    const cost = archiveCost({ ...measured, ...defaults });
    expect(cost.measured.meanBilledBytes).toBe(5_120);
    expect(cost.firehosePerMillionWebhooks).toBeCloseTo((5_120 * 1e6 * 0.029) / 1024 ** 3, 4);
  });

  it('a record just over 5 KB pays two increments; storage grows with the GZIP bytes and the days kept', () => {
    const base = { recordBytes: [5_121], gzipBytes: 200_000_000, statuses: 1_000_000, ...defaults };
    expect(archiveCost(base).measured.meanBilledBytes).toBe(10_240);
    const longer = archiveCost({ ...base, expirationDays: 730 }).storagePerMillionStatuses;
    expect(longer).toBeGreaterThan(archiveCost(base).storagePerMillionStatuses);
    // Objects per month follow the buffer interval, not the traffic.
    expect(archiveCost({ ...base, bufferSeconds: 900 }).s3RequestsPerMonth).toBeCloseTo(
      archiveCost(base).s3RequestsPerMonth / 3,
      4,
    );
  });
});
