// Fault: a v1 paused by the scheduler (SIGSTOP: a frozen container, a paused VM) in read-shift, while the
// operator takes the rollout to live without it (the registry stopped counting it, so the live gate passes),
// then resumed (SIGCONT) with the load still on. Before the fences this v1 answered the requests that waited for
// it, acknowledged writes v2 no longer read, and no alarm fired (issue #15, finding 2).
// Promises (docs/fences.md):
// - On resume it serves nothing: its lease ran out while it was frozen, so the requests that waited for it are
//   refused before they reach the database (a GET or PUT closed unanswered, which nginx re-sends to a v2; a
//   POST answered 503 lease_lost), and its port closes.
// - Its next heartbeat raises the alarm (`rollout status`: a v1 seen after live), and the stage guard stops it:
//   exit 3 with the guard line.
// - The alarm's recovery (rollback to read-shift, backfill, verify, advance) ends in a clean live: no alarm.
// - The budget: the requests in flight at the freeze and those the balancer handed the frozen v1 until it
//   resumed may fail (nginx cannot tell a frozen process from a slow one: each such request waits, at most one
//   per load connection at a time); none invoked after the SIGCONT. 0 anomalies, 0 lost acknowledged writes.
// - A write already on the wire when v1 froze (its statement passed every check in v1 and left it, but reaches
//   the database only after the live gate passed without that v1: a frozen process, a stalled link) lands in
//   profile_data too, where live reads: `rollout advance` to live installs the up trigger first, the database
//   fence (docs/fences.md). The frozen v1 reaches MariaDB through a pausable proxy; just before the freeze one PUT
//   of a row of the scenario's own is sent to it and the proxy holds that PUT's UPDATE (its connection only) until
//   after the gate; then the scenario lets it through, reads the row from the database and back through a v2.
// Under SYNC=trigger the promise is different, and so is what this scenario checks: v1 may serve live there (the
// stage guard's trigger row; the up trigger copies its writes, a write held across the gate included, into the
// profile_data that live reads), so the resumed v1 is not stopped and raises no alarm. What still holds is the
// lease: the requests that waited for it while it was frozen are refused (none answered), and it serves again only
// after a heartbeat renewed its lease, with the current (live) flags. The budget adds the clean lease refusals it
// answers after the SIGCONT until then (503 lease_lost, its own); any other failure after the SIGCONT fails the
// run. No recovery step: there is no alarm to recover from; the rollout must stay in a clean live.
import { columns, mapping } from '../../shared/schema-mapping.ts';
import { migrateUp } from '../../shared/migrations/runner.ts';
import { ALIVE_HEARTBEATS } from '../../shared/registry/instances.ts';
import { STAGE_GUARD_EXIT_CODE } from '../../shared/rollout/stage-guard.ts';
import { rolloutStatus } from '../../shared/rollout/status.ts';
import { transition } from '../../shared/rollout/transitions.ts';
import { waitFor } from '../infra/instance-process.ts';
import { proxyInFrontOf } from '../infra/pausable-proxy.ts';
import type { PausableProxy, Trap } from '../infra/pausable-proxy.ts';
import { createdKey } from '../proof/history.ts';
import type { RecordValue } from '../proof/history.ts';
import { externalRequest } from '../run/operator.ts';
import { ChaosRun, guarded } from './harness.ts';
import type { Budget, ChaosOptions, Scenario } from './harness.ts';

const FROZEN_SLOT = 'v1-a';
const HEARTBEAT_MS = 1000;
const LEASE_MS = ALIVE_HEARTBEATS * HEARTBEAT_MS;
const ACTOR = 'chaos frozen-v1';

const repair = (run: ChaosRun) => run.backfillThenVerify(ACTOR);

export const frozenV1: Scenario = {
  name: 'frozen-v1',
  proves: 'a v1 frozen (SIGSTOP) across the live gate and resumed serves nothing, raises the alarm and exits 3; the alarm\'s recovery ends clean; no request invoked after the resume fails, 0 anomalies',
  provesUnder: {
    trigger: 'under SYNC=trigger a v1 frozen (SIGSTOP) across the live gate and resumed answers none of the requests that waited for it, then serves live again once its lease is renewed (the triggers carry its writes): no alarm, no exit, 0 anomalies',
  },
  async run(options: ChaosOptions) {
    const run = await ChaosRun.setup('frozen-v1', options, {
      layout: [
        { name: FROZEN_SLOT, version: 'v1' },
        { name: 'v2-a', version: 'v2' },
        { name: 'v2-b', version: 'v2' },
      ],
      env: { HEARTBEAT_MS: String(HEARTBEAT_MS), FLAG_POLL_MS: '100' },
    });
    const dwellMs = options.short ? 1500 : 6000;
    let proxy: PausableProxy | undefined;
    try {
      return await guarded(
      run,
      { failedRequests: 0, rule: 'requests in flight at the freeze or handed to the frozen v1' },
      async () => {
        const through = await proxyInFrontOf(run.database.url);
        proxy = through.proxy;
        await migrateUp(run.db);
        await run.openUnderLoad({ step: 'dual-write', slots: [[FROZEN_SLOT, { DATABASE_URL: through.url }], 'v2-a', 'v2-b'], servedBy: FROZEN_SLOT, dwellMs });
        const frozen = run.fleet.slot(FROZEN_SLOT).instance!;

        run.step = 'read-shift';
        await repair(run);
        const shift = await transition(run.db, 'advance', { actor: ACTOR, waitTimeoutMs: 30_000, percent: 100 });
        run.expect(shift.outcome === 'completed' && shift.to.label === 'read-shift 100%', `advance to read-shift 100%: ${JSON.stringify(shift)}`);
        await run.servedBy(FROZEN_SLOT);
        await run.dwell(dwellMs);
        await run.snapshot('read-shift', true);

        run.step = 'frozen';
        const held = await holdAWrite(run, proxy, frozen.url);
        const pendingAtFreeze = run.recorder.pending().length;
        const freezeAt = run.recorder.now();
        process.kill(frozen.pid, 'SIGSTOP');
        const goneAt = await waitFor(async () => ((await run.registry.list({ recent: 0 })).alive.some((row) => row.instanceId === FROZEN_SLOT) ? undefined : true), {
          timeoutMs: LEASE_MS + 10_000,
          intervalMs: 50,
          what: `the registry to drop the frozen ${FROZEN_SLOT}`,
        }).then(() => run.recorder.now());
        // The live gate wants a clean verify that started after the last v1 was seen: the frozen one's last writes included.
        const verify = await repair(run);
        const live = await transition(run.db, 'advance', { actor: ACTOR, waitTimeoutMs: 30_000 });
        run.log(`${FROZEN_SLOT} frozen; the registry dropped it after ${Math.round(goneAt - freezeAt)} ms; verify ${verify.drift} drift; advance: ${live.outcome}${live.outcome === 'completed' ? ` to ${live.to.label}` : ''}`);
        run.expect(live.outcome === 'completed' && live.to.label === 'live', `advance to live while ${FROZEN_SLOT} is frozen: ${JSON.stringify(live)}`);

        run.step = 'resumed';
        const landed = await held.letThrough();
        const contAt = run.recorder.now();
        const handedWhileFrozen = pendingAtFreeze + run.recorder.ops.filter((op) => op.invokeAt >= freezeAt && op.invokeAt < contAt).length;
        process.kill(frozen.pid, 'SIGCONT');
        run.facts.heldWrite = { ...landed, ...(await held.answered()) };
        if (run.sync === 'trigger') return resumedUnderTriggers(run, { freezeAt, contAt, goneAt, handedWhileFrozen, dwellMs });
        const exit = await Promise.race([frozen.exited, waitFor(() => undefined, { timeoutMs: 20_000, what: 'never' }).catch(() => null)]);
        const exitAt = run.recorder.now();
        const lines = frozen.output().split('\n').filter((line) => line.startsWith('v1 cannot serve stage'));
        run.log(`${FROZEN_SLOT} resumed after ${Math.round(contAt - freezeAt)} ms frozen: ${exit ? `exit ${exit.code}` : 'still running 20 s later'}${lines[0] ? `: ${lines[0]}` : ''}`);
        run.expect(exit?.code === STAGE_GUARD_EXIT_CODE, `the resumed ${FROZEN_SLOT} did not exit ${STAGE_GUARD_EXIT_CODE} (${JSON.stringify(exit)})`);
        run.expect(lines.some((line) => line.startsWith('v1 cannot serve stage live ') && line.includes('npm run rollout -- rollback')), `the resumed ${FROZEN_SLOT} did not print the guard line`);
        const servedAfterResume = run.recorder.ops.filter((op) => op.instance === FROZEN_SLOT && op.outcome === 'ok' && op.invokeAt >= freezeAt);
        run.expect(servedAfterResume.length === 0, `${FROZEN_SLOT} answered ${servedAfterResume.length} requests invoked after it froze (e.g. ${JSON.stringify(servedAfterResume.slice(0, 3).map((op) => ({ f: op.f, step: op.step })))})`);

        const alarmed = await rolloutStatus(run.db);
        run.log(`rollout status after the resume: ${alarmed.stage.label}; ${alarmed.alarms.length} alarm(s)${alarmed.alarms[0] ? `: ${alarmed.alarms[0].slice(0, 120)}...` : ''}`);
        run.expect(alarmed.alarms.some((line) => line.includes(`v1 instance ${FROZEN_SLOT} `)), `no alarm names ${FROZEN_SLOT} after it heartbeated in live`);
        await run.dwell(dwellMs);
        await run.snapshot('resumed', false);

        run.step = 'recovery';
        // The alarm's recovery: roll back to read-shift, backfill, verify, advance again.
        const back = await transition(run.db, 'rollback', { actor: ACTOR, waitTimeoutMs: 30_000 });
        run.expect(back.outcome === 'completed' && back.to.label === 'read-shift 100%', `rollback to read-shift: ${JSON.stringify(back)}`);
        const recoveryVerify = await repair(run);
        const again = await transition(run.db, 'advance', { actor: ACTOR, waitTimeoutMs: 30_000 });
        run.expect(again.outcome === 'completed' && again.to.label === 'live', `advance to live again: ${JSON.stringify(again)}`);
        await run.dwell(dwellMs);
        const status = await rolloutStatus(run.db);
        run.log(`recovery: rollback ${back.outcome}, verify ${recoveryVerify.drift} drift, advance ${again.outcome}; rollout ${status.stage.label}, ${status.alarms.length} alarm(s)`);
        run.expect(status.stage.name === 'live' && status.alarms.length === 0, `the rollout is not clean: ${status.stage.label}, ${status.alarms.join(' ')}`);

        const failed = run.recorder.ops.filter((op) => op.outcome !== 'ok' && !run.recorder.pending().includes(op));
        const failedAfter = failed.filter((op) => op.invokeAt >= contAt);
        run.log(`${failed.length} failed requests, ${failedAfter.length} of them invoked after the SIGCONT`);
        run.expect(failedAfter.length === 0, `${failedAfter.length} requests invoked after the SIGCONT failed (e.g. ${JSON.stringify(failedAfter.slice(0, 3).map((op) => ({ f: op.f, status: op.status, error: op.error, instance: op.instance, msAfterCont: Math.round(op.invokeAt - contAt) })))})`);
        await run.snapshot('recovered', false);
        run.facts.frozenMs = Math.round(contAt - freezeAt);
        run.facts.registryGoneAfterMs = Math.round(goneAt - freezeAt);
        run.facts.exit = exit;
        run.facts.exitAfterResumeMs = Math.round(exitAt - contAt);
        run.facts.alarms = alarmed.alarms.length;
        run.facts.servedAfterFreeze = servedAfterResume.length;
        run.facts.handedWhileFrozen = handedWhileFrozen;
        run.facts.failedAfterResume = failedAfter.length;
        run.facts.failed = failed.map((op) => ({ f: op.f, status: op.status ?? null, error: op.error ?? null, instance: op.instance ?? null, msAfterFreeze: Math.round(op.invokeAt - freezeAt) }));
        run.facts.finalStage = status.stage.label;
        run.facts.finalAlarms = status.alarms.length;
        return { failedRequests: handedWhileFrozen, rule: `the ${handedWhileFrozen} requests in flight at the freeze or invoked while ${FROZEN_SLOT} was frozen (any instance; only those handed to it can fail); none after the SIGCONT` };
      },
      { v1MayBeAlive: true },
    );
    } finally {
      // Aborted while frozen: a stopped process would not act on the teardown's SIGTERM.
      const child = run.fleet.slot(FROZEN_SLOT).instance?.child;
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGCONT');
      await proxy?.close();
    }
  },
};

/** SYNC=trigger: the resumed v1 refuses what waited for it, renews its lease and serves live again; no alarm, no exit. */
async function resumedUnderTriggers(
  run: ChaosRun,
  { freezeAt, contAt, goneAt, handedWhileFrozen, dwellMs }: { freezeAt: number; contAt: number; goneAt: number; handedWhileFrozen: number; dwellMs: number },
): Promise<Budget> {
  const frozen = run.fleet.slot(FROZEN_SLOT).instance!;
  await run.servedBy(FROZEN_SLOT, LEASE_MS + 20_000);
  const servingAgainAfterMs = Math.round(run.recorder.now() - contAt);
  await run.dwell(dwellMs);
  const running = frozen.child.exitCode === null && frozen.child.signalCode === null;
  const guardLines = frozen.output().split('\n').filter((line) => line.startsWith('v1 cannot serve stage'));
  run.log(`${FROZEN_SLOT} resumed after ${Math.round(contAt - freezeAt)} ms frozen; under SYNC=trigger it serves live again ${servingAgainAfterMs} ms after the SIGCONT; still running: ${running}`);
  run.expect(running && guardLines.length === 0, `under SYNC=trigger the resumed ${FROZEN_SLOT} stopped (${JSON.stringify(frozen.child.exitCode ?? frozen.child.signalCode)}): ${guardLines[0] ?? ''}`);
  const servedWhileFrozen = run.recorder.ops.filter((op) => op.instance === FROZEN_SLOT && op.outcome === 'ok' && op.invokeAt >= freezeAt && op.invokeAt < contAt);
  run.expect(servedWhileFrozen.length === 0, `${FROZEN_SLOT} answered ${servedWhileFrozen.length} requests invoked while it was frozen (its lease had run out)`);
  const status = await rolloutStatus(run.db);
  run.log(`rollout status after the resume: ${status.stage.label}; ${status.alarms.length} alarm(s)`);
  run.expect(status.stage.name === 'live' && status.alarms.length === 0, `under SYNC=trigger the rollout is not a clean live after the resume: ${status.stage.label}, ${status.alarms.join(' ')}`);
  await run.snapshot('resumed', true);

  const failed = run.recorder.ops.filter((op) => op.outcome !== 'ok' && !run.recorder.pending().includes(op));
  const failedAfter = failed.filter((op) => op.invokeAt >= contAt);
  const leaseRefusals = failedAfter.filter((op) => op.instance === FROZEN_SLOT && op.status === 503 && op.error === 'lease_lost');
  const other = failedAfter.filter((op) => !leaseRefusals.includes(op));
  run.log(`${failed.length} failed requests; invoked after the SIGCONT: ${leaseRefusals.length} clean lease refusals by ${FROZEN_SLOT}, ${other.length} other`);
  run.expect(other.length === 0, `${other.length} requests invoked after the SIGCONT failed other than by ${FROZEN_SLOT}'s clean lease refusal (e.g. ${JSON.stringify(other.slice(0, 3).map((op) => ({ f: op.f, status: op.status, error: op.error, instance: op.instance, msAfterCont: Math.round(op.invokeAt - contAt) })))})`);
  run.facts.frozenMs = Math.round(contAt - freezeAt);
  run.facts.registryGoneAfterMs = Math.round(goneAt - freezeAt);
  run.facts.servingAgainAfterMs = servingAgainAfterMs;
  run.facts.servedWhileFrozen = servedWhileFrozen.length;
  run.facts.handedWhileFrozen = handedWhileFrozen;
  run.facts.leaseRefusalsAfterResume = leaseRefusals.length;
  run.facts.failedAfterResume = other.length;
  run.facts.finalStage = status.stage.label;
  run.facts.finalAlarms = status.alarms.length;
  return {
    failedRequests: handedWhileFrozen + leaseRefusals.length,
    rule: `the ${handedWhileFrozen} requests in flight at the freeze or invoked while ${FROZEN_SLOT} was frozen, and its ${leaseRefusals.length} clean lease refusals after the SIGCONT until a heartbeat renewed its lease (SYNC=trigger: it serves live again)`,
  };
}

/**
 * A PUT of a row of the scenario's own, sent to the soon-frozen v1 just before the freeze, whose UPDATE passed
 * every check in v1 and waits on the wire (the proxy holds it) until letThrough(): after the live gate, while v1
 * is still frozen. Then the row must hold the write in the old columns and in profile_data (the up trigger), and
 * once v1 answers, a read through a v2 (live: profile_data) must return it. Recorded as external requests: the
 * checker judges them with the load.
 */
async function holdAWrite(run: ChaosRun, proxy: PausableProxy, v1Url: string) {
  const request = (f: 'create' | 'write' | 'read', url: string, key: string | null, value?: RecordValue) => externalRequest(run.recorder, 'held-write', { f, url, key, ...(value ? { value } : {}) });
  const created = await request('create', v1Url, null, mapping.sampleFields('held-create', 'example.test'));
  const key = createdKey(created.json);
  if (key === null) throw new Error(`${FROZEN_SLOT} answered the held write's create with ${created.status} and no id`);
  // The proxy traps the one connection whose bytes carry this PUT's values: its UPDATE (a PREPARE before it, if
  // that pooled connection had none, goes through) waits on the wire, while the rest of v1's traffic, heartbeats
  // included, flows until the freeze. A PUT answered before anything was caught was refused before its UPDATE
  // left v1 (a lease that lapsed on a starved machine): logged, and tried again.
  let held: { value: RecordValue; answer: Promise<number | string>; trap: Trap } | undefined;
  for (let attempt = 1; attempt <= 3 && !held; attempt++) {
    const tried = mapping.sampleFields(`held-write-${attempt}`, 'example.test');
    const marker = Object.values(tried).find((field) => field.includes('held-write')) ?? '';
    const trap = proxy.trap(marker);
    const answer = request('write', v1Url, key, tried).then(
      ({ status }) => status,
      (err: Error) => err.message,
    );
    const answeredFirst = await Promise.race([
      waitFor(() => (trap.caught ? true : undefined), { timeoutMs: 15_000, intervalMs: 5, what: 'the held UPDATE' }).then(
        () => null,
        () => 'no answer and nothing on the wire in 15 s',
      ),
      answer.then((status) => `answered ${status}`),
    ]);
    if (trap.caught) held = { value: tried, answer, trap };
    else {
      trap.release();
      run.log(`attempt ${attempt}: ${FROZEN_SLOT} ${answeredFirst} before the PUT's UPDATE reached the wire; trying again`);
      await answer;
    }
  }
  if (!held) throw new Error(`no PUT's UPDATE left ${FROZEN_SLOT} for the wire in 3 attempts (see the log for its answers)`);
  const { value, answer, trap } = held;
  run.log(`a PUT of row ${key} sent to ${FROZEN_SLOT}: its UPDATE is on the wire, held until after the live gate`);
  const stored = async () => {
    const [row] = await run.db.select<Record<string, unknown>>(`SELECT * FROM ${mapping.table} WHERE ${mapping.keyColumn} = $1`, [key]);
    return { old: row ? mapping.fieldsOf(row) : null, new: row ? mapping.readNew(row[mapping.newColumn]) : null };
  };
  return {
    /** Lets the held UPDATE through; resolves once it has landed, with what the row holds. */
    async letThrough() {
      trap.release();
      const row = await waitFor(async () => {
        const now = await stored();
        return JSON.stringify(now.old) === JSON.stringify(value) ? now : undefined;
      }, { timeoutMs: 10_000, intervalMs: 20, what: `the held UPDATE of row ${key} to land` });
      const inProfile = JSON.stringify(row.new) === JSON.stringify(value);
      const stage = (await rolloutStatus(run.db)).stage.label;
      run.log(`the held UPDATE of row ${key} landed in ${stage}: ${columns.old} ${JSON.stringify(row.old)}, ${columns.new} ${JSON.stringify(row.new)}`);
      run.expect(inProfile, `the held UPDATE of row ${key} landed in ${stage} but ${columns.new} (what live reads) does not hold it: ${JSON.stringify(row.new)}`);
      return { key, landedIn: stage, inProfileData: inProfile };
    },
    /** v1's answer to the held PUT (after the SIGCONT), then a read of the row through a v2. */
    async answered() {
      const status = await answer;
      const read = await request('read', run.fleet.slot('v2-a').instance!.url, key);
      const readBack = mapping.fieldsOf(read.json as Record<string, unknown>);
      run.log(`${FROZEN_SLOT} answered the held PUT ${status}; v2-a reads row ${key} as ${JSON.stringify(readBack)}`);
      if (status === 200) run.expect(JSON.stringify(readBack) === JSON.stringify(value), `${FROZEN_SLOT} acknowledged the held PUT of row ${key}, but v2-a reads ${JSON.stringify(readBack)}`);
      return { answer: status, readBackByV2: JSON.stringify(readBack) === JSON.stringify(value) };
    },
  };
}
