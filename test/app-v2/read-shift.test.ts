// Read shift (app-v2/read-shift.ts): read-new-percent picks users, not requests. A user's bucket is fixed
// (sticky), raising the percentage only ever adds users (monotonic), and the share of users reading the new
// column follows the percentage.
import { describe, expect, it } from 'vitest';
import { readShiftBucket, readsNewColumn } from '../../app-v2/read-shift.ts';

const IDS = Array.from({ length: 10_000 }, (_, i) => i + 1);

describe('read shift', () => {
  it('When the same id is bucketed again, then it gets the same bucket, from 0 to 99', () => {
    for (const id of IDS.slice(0, 1000)) {
      const bucket = readShiftBucket(id);
      expect(readShiftBucket(id)).toBe(bucket);
      expect(bucket).toBeGreaterThanOrEqual(0);
      expect(bucket).toBeLessThan(100);
    }
  });

  it('When the percentage rises, then every user already reading the new column keeps reading it', () => {
    const flips: string[] = [];
    // Every step from 0 to 100 for 2,000 users (a million hashes for all 10,000 would take seconds).
    for (const id of IDS.slice(0, 2000)) {
      for (let percent = 0; percent < 100; percent++) {
        if (readsNewColumn(id, percent) && !readsNewColumn(id, percent + 1)) flips.push(`${id}@${percent}`);
      }
    }
    expect(flips).toEqual([]);
    expect(IDS.filter((id) => readsNewColumn(id, 10)).every((id) => readsNewColumn(id, 50))).toBe(true);
  });

  it('When the percentage is 0 or 100, then no user or every user reads the new column', () => {
    expect(IDS.filter((id) => readsNewColumn(id, 0))).toEqual([]);
    expect(IDS.filter((id) => !readsNewColumn(id, 100))).toEqual([]);
  });

  for (const percent of [1, 10, 25, 37, 50, 75, 90, 99]) {
    it(`When read-new-percent is ${percent}, then ${percent}% ± 3 points of 10,000 users read the new column`, () => {
      const share = (100 * IDS.filter((id) => readsNewColumn(id, percent)).length) / IDS.length;
      expect(Math.abs(share - percent)).toBeLessThanOrEqual(3);
    });
  }
});
