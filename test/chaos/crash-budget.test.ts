// crash-between-writes' failed-request budget (load/chaos/crash-between-writes.ts, crashBudget), on hand-built
// histories: which failures its crashes explain. CI of f07a878 failed with "4 failed requests, over the budget of 2":
// the old budget counted the direct PUTs only, while a POST or PATCH through the balancer that is at v2-crash when
// it dies fails for good (nginx re-sends no non-idempotent request it sent).
import { describe, expect, it } from 'vitest';
import { crashBudget } from '../../load/chaos/crash-between-writes.ts';
import type { Op } from '../../load/proof/history.ts';

let nextId = 1;
function op(fields: Partial<Op> & Pick<Op, 'f' | 'invokeAt' | 'outcome'>): Op {
  return { id: nextId++, process: 1, key: `crash-budget-${nextId}`, completeAt: fields.outcome === 'info' ? null : fields.invokeAt + 5, step: 'crashes', ...fields };
}
const isDirect = (o: Op) => o.process >= 10_000;
const windows = [
  { from: 1000, to: 1400 },
  { from: 3000, to: 3300 },
];

describe('crash-between-writes budget', () => {
  it('When load POSTs and PATCHes fail while a v2-crash is alive, then they are within the budget beside the direct PUTs', () => {
    const directPuts = [op({ process: 10_001, f: 'write', invokeAt: 1200, outcome: 'info', error: 'ECONNRESET' }), op({ process: 10_002, f: 'write', invokeAt: 3100, outcome: 'fail', error: 'ECONNREFUSED' })];
    const ops = [
      ...directPuts,
      op({ f: 'patch', invokeAt: 1190, outcome: 'info', status: 502 }),
      op({ f: 'create', invokeAt: 3050, outcome: 'info', status: 502 }),
      op({ f: 'write', invokeAt: 1195, outcome: 'ok', status: 200 }),
    ];

    expect(crashBudget(ops, windows, { crashPuts: new Set(directPuts.map((o) => o.id)), isDirect })).toEqual({ direct: 2, loadInFlight: 2 });
  });

  it('When a load request fails that no crash explains (a GET, a PUT, a PATCH outside every window), then it is not in the budget', () => {
    const directPut = op({ process: 10_003, f: 'write', invokeAt: 1100, outcome: 'info', error: 'ECONNRESET' });
    const ops = [
      directPut,
      op({ f: 'read', invokeAt: 1200, outcome: 'fail', status: 502 }),
      op({ f: 'write', invokeAt: 1250, outcome: 'info', status: 502 }),
      op({ f: 'patch', invokeAt: 2000, outcome: 'info', status: 502 }),
      op({ f: 'create', invokeAt: 3400, outcome: 'info', status: 502 }),
      // A direct write to the healthy v2 is not a PUT to the crashing instance.
      op({ process: 10_004, f: 'write', invokeAt: 1300, outcome: 'fail', status: 500 }),
    ];

    expect(crashBudget(ops, windows, { crashPuts: new Set([directPut.id]), isDirect })).toEqual({ direct: 1, loadInFlight: 0 });
  });

  it('When a PATCH observed the row gone (404) or a failed request was retried successfully, then it is not counted as failed', () => {
    const failedFirst = op({ f: 'create', invokeAt: 1010, outcome: 'info', status: 502 });
    const ops = [failedFirst, op({ f: 'create', invokeAt: 1020, outcome: 'ok', status: 201, retryOf: failedFirst.id, retries: 1 }), op({ f: 'patch', invokeAt: 1030, outcome: 'fail', status: 404 })];

    expect(crashBudget(ops, windows, { crashPuts: new Set(), isDirect })).toEqual({ direct: 0, loadInFlight: 0 });
  });
});
