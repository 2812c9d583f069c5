// A PUT or PATCH answered 404 because a DELETE won the race is an observation (the row was gone), not a failed
// request: the checker counts it so, and the demo's step table and the report's per-second errors must too (a fresh
// make demo showed "errors 1" in red for step 9 beside "0 failed requests").
import { describe, expect, it } from 'vitest';
import { check } from '../../load/proof/checker/index.ts';
import { RequestSeries } from '../../load/observe/request-series.ts';
import { stepStats } from '../../load/run/step-stats.ts';
import { FIELDS, HistoryBuilder } from '../load/histories.ts';

function raceLostToDelete() {
  const history = new HistoryBuilder();
  history.create(1, 'u1', 0, 10, 'ok', { version: 'v2' });
  history.delete(1, 20, 30, 'ok', { version: 'v2' });
  history.write(1, 'u1-late', 25, 40, 'fail', { status: 404, version: 'v2' });
  history.patch(1, { name: 'late' }, 26, 41, 'fail', { status: 404, version: 'v2' });
  return history.ops;
}

describe('a PUT or PATCH that found its row deleted', () => {
  it('When a PUT and a PATCH are answered 404 after a DELETE, then the checker, the step table and the per-second figures all count them as answered, not as errors', () => {
    const ops = raceLostToDelete();

    const verdict = check({ fields: FIELDS, ops });
    expect(verdict).toMatchObject({ anomalies: 0, failedRequests: 0 });
    const stats = stepStats('load', ops, 0, 1000);
    expect(stats.errors).toBe(0);
    expect(stats.requests).toBe(4);
    const series = new RequestSeries(0);
    for (const op of ops) series.add(op);
    expect(series.figures(0)).toMatchObject({ errors: 0, requests: { v2: 4 } });
  });

  it('When a PUT is answered 500, then all three count it as an error', () => {
    const history = new HistoryBuilder();
    history.create(1, 'u1', 0, 10, 'ok', { version: 'v2' });
    history.write(1, 'u1-b', 20, 30, 'fail', { status: 500, version: 'v2' });

    expect(check({ fields: FIELDS, ops: history.ops }).failedRequests).toBe(1);
    expect(stepStats('load', history.ops, 0, 1000).errors).toBe(1);
    const series = new RequestSeries(0);
    for (const op of history.ops) series.add(op);
    expect(series.figures(0).errors).toBe(1);
  });
});
