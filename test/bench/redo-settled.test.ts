// The bench's quiet wait before each backfill measurement (load/bench/backfill.ts quietServer): the redo log's
// checkpoint age counts as settled under 10% of InnoDB's maximum, or once it stopped falling (an idle MariaDB 10.5+
// can sit at 80-85% for minutes: waiting for 10% burnt the whole deadline before every measurement).
import { describe, expect, it } from 'vitest';
import { redoSettled } from '../../load/bench/backfill.ts';

const probes = (...fills: number[]) => fills;

describe('the bench quiet wait: redo settled', () => {
  it('When the checkpoint age is under 10% of the maximum, then it is settled at once', () => {
    expect(redoSettled(probes(9.9))).toBe(true);
  });

  it('When nothing was probed yet, then it is not settled', () => {
    expect(redoSettled([])).toBe(false);
  });

  it('When the age is high and has not been watched for 2 s yet, then it is not settled', () => {
    expect(redoSettled(probes(84, 84, 84, 84, 84, 84, 84, 84))).toBe(false);
  });

  it('When the age has stayed high for 2 s (an idle MariaDB flushing in proportion to the redo written), then it is settled', () => {
    expect(redoSettled(probes(84, 84.2, 84.1, 84, 84.3, 84, 84.1, 84, 84.2))).toBe(true);
  });

  it('When the age is still falling (the page cleaner catching up), then it is not settled', () => {
    expect(redoSettled(probes(90, 88, 86, 84, 82, 80, 78, 76, 74))).toBe(false);
  });

  it('When the age fell earlier but has been flat for the last 2 s, then it is settled', () => {
    expect(redoSettled(probes(95, 90, 85, 80, 60, 60, 60, 60, 60, 60, 60, 60, 60))).toBe(true);
  });
});
