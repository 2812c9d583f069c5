// Fault: a v2 running the common recipe's two-statement dual-write (`sequential-seed`: old columns, then profile_data, no
// transaction) is killed between its two statements (FAULT_INJECT=crash-between-writes: it SIGKILLs itself
// there), again and again, while v1 and a healthy v2 serve the load beside it (it sits in a balancer slot too).
// Promise: users still see correct data, because the old columns were written first and are the truth while
// v1 may write (the common recipe's argument); verify reports the drift the crashes left; the backfill repairs it to 0.
// Under SYNC=trigger the promise is stronger, and the scenario checks that one instead: the crash's first statement
// writes the old columns alone, so the database's up trigger sets profile_data in that same statement; the crash
// leaves no drift at all (both sides hold the crashed write), and verify before the backfill finds no row whose
// sides differ, only rows still missing profile_data because they were written before the install (the seed).
import http from 'node:http';
import { runTool } from '../run/operator.ts';
import { answeredValue, observedAbsence } from '../proof/history.ts';
import type { Op, RecordValue } from '../proof/history.ts';
import { ChaosRun, guarded } from './harness.ts';
import type { ChaosOptions, Scenario } from './harness.ts';
import { columns, mapping } from '../../shared/schema-mapping.ts';
import type { Fields } from '../../shared/mapping-contract.ts';

interface Answer {
  status?: number;
  body?: Record<string, unknown>;
  headers?: http.IncomingHttpHeaders;
  error?: string;
}

/**
 * One request on a fresh connection; a crash shows as a reset (or "socket hang up"), never as a status.
 * `holdBodyMs`: send the headers and the body's first byte, and the rest only after this long (the handler has not
 * run meanwhile: it waits for the whole JSON body).
 */
function send(method: string, url: string, body?: object, { holdBodyMs = 0 } = {}): Promise<Answer> {
  return new Promise((resolve) => {
    const payload = body ? JSON.stringify(body) : undefined;
    const req = http.request(url, { method, agent: false, timeout: 5000, headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => {
        let parsed: Record<string, unknown> | undefined;
        try {
          parsed = JSON.parse(text) as Record<string, unknown>;
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode, body: parsed, headers: res.headers });
      });
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    if (payload && holdBodyMs > 0) {
      req.write(payload.slice(0, 1));
      setTimeout(() => req.end(payload.slice(1)), holdBodyMs);
    } else {
      req.end(payload);
    }
  });
}

/** Whether a copy of a row (old columns, the new column, an answer) holds exactly `value`'s fields; null never does. */
const holds = (copy: Fields | null, value: RecordValue) => copy !== null && mapping.differingFields(copy, { ...value }).length === 0;

/** Direct requests are history operations of their own "processes" from here on, apart from the load's connections. */
const FIRST_DIRECT_PROCESS = 10_000;

/** One v2-crash process's life on the history's clock: from just before its start until its exit was seen. */
export interface CrashWindow {
  from: number;
  to: number;
}

/**
 * The failed requests this scenario's crashes explain, read from the history: every PUT sent straight to v2-crash
 * that failed (no answer: its outcome is unknown by design), and the load's POSTs and PATCHes that failed while a
 * v2-crash was alive. nginx re-sends a GET, PUT or DELETE whose upstream connection broke to the next slot, but
 * never a POST or PATCH it already sent (load/infra/balancer/nginx.conf.template), so one in flight at v2-crash when it
 * died fails for good. Only a request invoked while that v2-crash was alive can have reached it (before, its port was
 * closed: nginx moved on), and a failed one has no end to judge by (`info`). Any other failure is over the budget.
 */
export function crashBudget(ops: readonly Op[], windows: readonly CrashWindow[], { crashPuts, isDirect }: { crashPuts: ReadonlySet<number>; isDirect: (op: Op) => boolean }): { direct: number; loadInFlight: number } {
  const retriedOk = new Set(ops.filter((op) => op.retryOf !== undefined && op.outcome === 'ok').map((op) => op.retryOf));
  const failed = ops.filter((op) => op.outcome !== 'ok' && !observedAbsence(op) && !retriedOk.has(op.id));
  const direct = failed.filter((op) => crashPuts.has(op.id)).length;
  const loadInFlight = failed.filter(
    (op) => !isDirect(op) && (op.f === 'create' || op.f === 'patch') && windows.some((w) => op.invokeAt >= w.from && op.invokeAt <= w.to),
  ).length;
  return { direct, loadInFlight };
}

export const crashBetweenWrites: Scenario = {
  name: 'crash-between-writes',
  proves: 'a v2 killed between the two statements of the common recipe\'s sequential dual-write leaves users seeing correct data (old columns first); verify reports the drift and the backfill repairs it to zero',
  async run(options: ChaosOptions) {
    const run = await ChaosRun.setup('crash-between-writes', options, {
      layout: [
        { name: 'v1-a', version: 'v1' },
        { name: 'v2-a', version: 'v2' },
        { name: 'v2-crash', version: 'v2' },
      ],
    });
    const crashes = options.short ? 2 : 8;
    const dwellMs = options.short ? 1500 : 6000;
    const env = { DATABASE_URL: run.database.url };
    let directProcess = FIRST_DIRECT_PROCESS;
    let directWrites = 0;
    const direct = async (f: 'write' | 'read', url: string, key: string, value?: RecordValue, { holdBodyMs = 0 } = {}): Promise<{ op: Op; answer: Answer }> => {
      const op = run.recorder.invoke({ process: directProcess++, f, key, ...(value ? { value } : {}) });
      const answer = await send(f === 'write' ? 'PUT' : 'GET', `${url}${mapping.route}/${encodeURIComponent(key)}`, value, { holdBodyMs });
      const served = { version: answer.headers?.['x-app-version'] as string | undefined, instance: answer.headers?.['x-instance-id'] as string | undefined };
      if (answer.status === undefined) {
        run.recorder.complete(op, { outcome: f === 'read' || answer.error === 'ECONNREFUSED' ? 'fail' : 'info', error: answer.error });
      } else {
        const ok = answer.status === 200;
        run.recorder.complete(op, {
          outcome: ok ? 'ok' : f === 'read' || answer.status < 500 ? 'fail' : 'info',
          status: answer.status,
          ...served,
          ...(f === 'read' && ok ? { value: answeredValue(run.recorder.fields, answer.body) } : {}),
        });
      }
      if (f === 'write') directWrites++;
      return { op, answer };
    };

    return guarded(run, { failedRequests: 0, rule: 'the PUTs sent straight to the crashing instance' }, async () => {
      await run.openUnderLoad({ step: 'mixed-fleet', slots: ['v1-a', 'v2-a'], servedBy: 'v2-a', dwellMs });

      run.step = 'crashes';
      const label = 'crash-between-writes-direct';
      const crashUsers = await run.seed(crashes, label);
      const v1 = run.fleet.slot('v1-a').instance!.url;
      const v2 = run.fleet.slot('v2-a').instance!.url;
      const crashed: { key: string; previous: RecordValue; next: RecordValue }[] = [];
      const windows: CrashWindow[] = [];
      const crashPuts = new Set<number>();
      let loadCrashes = 0;
      let holdBodyMs = options.holdFirstDirectPutMs ?? 0;
      for (const [i, key] of crashUsers.entries()) {
        // A healthy v2 writes both columns first, so that the crash visibly leaves profile_data behind.
        const previous = { ...mapping.sampleFields(`${label}-${i}-previous`, 'example.test') };
        const written = await direct('write', v2, key, previous);
        if (!run.expect(written.answer.status === 200, `the healthy v2 could not write ${mapping.entity} ${key}: ${written.answer.status ?? written.answer.error}`)) continue;
        for (let attempt = 1; attempt <= 5; attempt++) {
          // A fresh value per attempt: the checker needs every write's value unique, and a retried one is another write.
          const next = { ...mapping.sampleFields(`${label}-${i}-crashed-${attempt}`, 'example.test') };
          const window = { from: run.recorder.now(), to: Number.POSITIVE_INFINITY };
          windows.push(window);
          const crashing = await run.start('v2-crash', { DUAL_WRITE_STRATEGY: 'sequential-seed', FAULT_INJECT: 'crash-between-writes' });
          const { op, answer } = await direct('write', crashing.url, key, next, { holdBodyMs });
          holdBodyMs = 0;
          crashPuts.add(op.id);
          const exit = await crashing.exited;
          window.to = run.recorder.now();
          if (answer.error === 'ECONNREFUSED') {
            // A load write through the balancer reached it first and crashed it: that is a crash too; start again.
            loadCrashes++;
            continue;
          }
          if (!run.expect(exit.signal === 'SIGKILL' && answer.status === undefined, `v2-crash did not crash between its writes (answer ${answer.status ?? answer.error}, exit ${JSON.stringify(exit)})`)) break;
          // A load write through the balancer may also crash it while this PUT is already connected and waiting for
          // its first statement (CI of 044a925: ECONNRESET and SIGKILL, but neither write in the row). Only a crash
          // after this PUT's first statement is the case under test (the old columns hold `next`); otherwise it was
          // a load crash too: start again.
          const [row] = await run.db.select<Record<string, unknown>>(`SELECT ${mapping.oldColumnNames.join(', ')} FROM ${mapping.table} WHERE ${mapping.keyColumn} = ${Number(key)}`);
          if (!holds(row ? mapping.fieldsOf(row) : null, next)) {
            loadCrashes++;
            continue;
          }
          crashed.push({ key, previous, next });
          break;
        }
      }
      run.log(`${crashed.length} PUTs crashed v2-crash between its statements (${loadCrashes} more crashes by load PUTs through the balancer)`);
      run.expect(crashed.length === crashes, `only ${crashed.length} of ${crashes} planned crashes happened`);

      // Users see the crashed write through both versions: the old columns hold it, and v2 trusts them. profile_data
      // still holds the previous value under SYNC=app; under trigger the up trigger copied the crashed write into it.
      const triggers = run.sync === 'trigger';
      const wrongReads: string[] = [];
      const rows = new Map((await run.db.select<Record<string, unknown>>(`SELECT ${mapping.keyColumn}, ${mapping.oldColumnNames.join(', ')}, ${mapping.newColumn} FROM ${mapping.table} WHERE ${mapping.keyColumn} IN (${crashUsers.map(Number).join(',')})`)).map((r) => [String(r[mapping.keyColumn]), { old: mapping.fieldsOf(r), fromNew: mapping.readNew(r[mapping.newColumn]) }]));
      for (const { key, previous, next } of crashed) {
        const row = rows.get(key)!;
        if (!holds(row.old, next) || !holds(row.fromNew, triggers ? next : previous)) wrongReads.push(`row ${key}: old columns ${JSON.stringify(row.old)}, ${mapping.newColumn} ${JSON.stringify(row.fromNew)}`);
        for (const url of [v1, v2]) {
          const { answer } = await direct('read', url, key);
          const seen = answer.body ? mapping.fieldsOf(answer.body) : null;
          if (!holds(seen, next)) wrongReads.push(`${answer.headers?.['x-app-version']} read ${mapping.entity} ${key} as ${JSON.stringify(seen ?? answer.body)}`);
        }
      }
      run.expect(wrongReads.length === 0, `after the crashes: ${wrongReads.slice(0, 3).join('; ')}`);
      await run.snapshot('crashes', true);

      run.step = 'retire-v1';
      const stopped = await run.fleet.stop('v1-a', 'SIGTERM');
      run.expect(stopped.code === 0, `v1-a exited ${stopped.code ?? stopped.signal} after SIGTERM`);
      await run.dwell(Math.min(1000, dwellMs));

      run.step = 'verify-backfill-verify';
      const driftOf = (output: string, what = 'drift: ') => Number(new RegExp(`${what}([\\d,]+)`).exec(output)?.[1]?.replaceAll(',', '') ?? Number.NaN);
      const before = await runTool('verify', [], env, { quiet: true });
      const backfill = await runTool('backfill', [], env, { quiet: true });
      const after = await runTool('verify', [], env, { quiet: true });
      run.log(`verify before the backfill: exit ${before.code}, drift ${driftOf(before.output)} rows (${triggers ? `rows written before the install, no ${columns.new} yet` : `the ${crashed.length} crashed rows among them, and v1's writes`})`);
      run.log(`backfill: exit ${backfill.code} in ${backfill.ms} ms; verify after: exit ${after.code}, drift ${driftOf(after.output)} rows`);
      if (triggers) {
        const differing = driftOf(before.output, 'different ') + driftOf(before.output, 'invalid ');
        run.log(`under SYNC=trigger: rows whose sides differ (or ${columns.new} unreadable) before the backfill: ${differing}; the rest only miss ${columns.new} (written before the install)`);
        run.expect((before.code === 0 || before.code === 1) && differing === 0, `under SYNC=trigger verify found rows whose sides differ before the backfill: exit ${before.code}, ${before.output.trim().split('\n').slice(-3).join(' | ')}`);
        run.facts.differingBeforeBackfill = differing;
      } else {
        run.expect(before.code === 1 && driftOf(before.output) >= crashed.length, `verify did not report the drift: exit ${before.code}, ${before.output.trim().split('\n').slice(-3).join(' | ')}`);
      }
      run.expect(backfill.code === 0, `backfill exited ${backfill.code}: ${backfill.output.trim().split('\n').slice(-3).join(' | ')}`);
      run.expect(after.code === 0 && driftOf(after.output) === 0, `verify after the backfill: exit ${after.code}, ${after.output.trim().split('\n').slice(-3).join(' | ')}`);
      await run.dwell(Math.min(1000, dwellMs));
      await run.snapshot('after-backfill', false);
      run.facts.crashes = crashed.length;
      run.facts.crashesByLoadPuts = loadCrashes;
      run.facts.driftBeforeBackfill = driftOf(before.output);
      run.facts.driftAfterBackfill = driftOf(after.output);
      run.facts.directWrites = directWrites;
      // Judged once the load has stopped, on the whole history.
      return () => {
        const { direct: directFailed, loadInFlight } = crashBudget(run.recorder.ops, windows, { crashPuts, isDirect: (op) => op.process >= FIRST_DIRECT_PROCESS });
        run.facts.loadWritesFailedAtCrashes = loadInFlight;
        return {
          failedRequests: directFailed + loadInFlight,
          rule: `the ${directFailed} PUTs sent straight to the crashing instance (unknown outcome by design; ${crashed.length + loadCrashes} crashes), and the ${loadInFlight} POSTs and PATCHes through the balancer that failed while a v2-crash was alive (nginx re-sends no non-idempotent request it sent); nothing else`,
        };
      };
    });
  },
};
