// The exact linearizability check of one user's register, in O(n log n), and the kind of each anomaly.
//
// Every write of a user writes a unique value, so each value has a cluster: its write and the reads that returned
// it. In any legal order a cluster is a contiguous segment (the write, then its reads, then the next write), so
// when some operation of cluster X finishes before some operation of cluster Y starts, X must come before Y
// ("X precedes Y"). The history is linearizable if and only if (1) every read returns a value of an effective
// write (ok, or info: an unknown outcome that may take effect at any time after its invocation), (2) no read
// finishes before the write of its value starts, and (3) no two clusters precede each other. This is Gibbons &
// Korach's zone test for read-mapped histories restated: two forward zones overlapping, or a backward zone inside
// a forward zone, is exactly such a pair of clusters (two backward zones can never form one).
//
// Condition (3) is checked from the reads' side, which also names the anomaly: a read r of X is flagged when a
// cluster Y other than X (never the initial value: nothing can come before it) was in effect before r began and
// some operation of X other than r finished before some operation of Y started:
//   stale          Y's acknowledged write completed before r began and started after X was in effect;
//   non-monotonic  a read of Y completed before r began, and X was in effect before some operation of Y started;
//   stale (looser) Y's write completed before r began and X was in effect before some read of Y started: two
//                  overlapping writes, and reads that disagree on which came last. Judged in a second pass that
//                  ignores the reads flagged by the first, so that a correct read is not blamed for a bad one.
// Every flagged read is a real pair of clusters preceding each other, and every such pair leaves at least one
// read flagged (the brute-force search in brute-force.ts and the property test in test/load/ hold this to
// account), so "flagged" is exact. Which read of a contradictory pair is blamed is a choice, not a fact.
import { isReadKind } from '../history.ts';
import type { FinalRead, Op } from '../history.ts';
import { FINAL_STEP } from './types.ts';
import type { AnomalyKind, OpRef } from './types.ts';
import { ABSENT, DELETED } from './values.ts';
import type { Observed, Values, WriteIndex } from './values.ts';

export interface RegisterWrite {
  type: 'write';
  /** null: the value before the load (absent, or seeded). */
  op: Op | null;
  key: string;
  value: Observed;
  invokeAt: number;
  /** Infinity: unknown outcome (info). -Infinity: the initial value. */
  completeAt: number;
}

export interface RegisterRead {
  type: 'read';
  /** The read, or the PUT answered 404 (an observation that the user did not exist); null for the final read. */
  op: Op | null;
  final: FinalRead | null;
  key: string;
  value: Observed;
  invokeAt: number;
  completeAt: number;
}

export interface UserRegister {
  /** The row's key (Op.key); not to be confused with a member's `key`, which keys its value. */
  rowKey: string;
  initial: RegisterWrite;
  /** Acknowledged (ok) and unknown-outcome (info) writes: a failed write never took effect. */
  writes: RegisterWrite[];
  reads: RegisterRead[];
}

export interface Witness {
  role: string;
  member: RegisterWrite | RegisterRead;
}

export interface RegisterFinding {
  kind: Exclude<AnomalyKind, 'newAheadOfOld' | 'phantom'>;
  /** Found from the order of operations (stale, non-monotonic, missing after written, lost), not from the value alone. */
  fromOrder: boolean;
  reason: string;
  message: string;
  read: RegisterRead;
  witnesses: Witness[];
}

export type Member = RegisterWrite | RegisterRead;

export interface Cluster {
  key: string;
  write: RegisterWrite;
  reads: RegisterRead[];
  minFinish: number;
  minFinishBy: Member;
  secondMinFinish: number;
  secondMinFinishBy: Member | null;
  maxStart: number;
  maxStartBy: Member;
}

interface Candidate {
  value: number;
  cluster: Cluster;
  /** The operation of the candidate cluster that completed before the judged read began. */
  before: Member;
}

/** For each prefix of entries sorted by finish time, the best candidate and the best from another cluster. */
class PrefixBest {
  private readonly finishes: number[] = [];
  private readonly best: Array<Candidate | null> = [];
  private readonly secondBest: Array<Candidate | null> = [];

  constructor(entries: Array<{ finish: number } & Candidate>) {
    entries.sort((a, b) => a.finish - b.finish);
    let best: Candidate | null = null;
    let second: Candidate | null = null;
    for (const entry of entries) {
      if (best && entry.cluster === best.cluster) {
        if (entry.value > best.value) best = entry;
      } else if (!best || entry.value > best.value) {
        second = best;
        best = entry;
      } else if (!second || entry.value > second.value) {
        second = entry;
      }
      this.finishes.push(entry.finish);
      this.best.push(best);
      this.secondBest.push(second);
    }
  }

  /** The largest value among entries that finished strictly before `time`, from a cluster other than `exclude`. */
  query(time: number, exclude: Cluster): Candidate | null {
    let low = 0;
    let high = this.finishes.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.finishes[mid]! < time) low = mid + 1;
      else high = mid;
    }
    if (low === 0) return null;
    const best = this.best[low - 1]!;
    return best && best.cluster !== exclude ? best : this.secondBest[low - 1]!;
  }
}

function clusterStats(cluster: Cluster, ignored: Set<RegisterRead>): void {
  cluster.minFinish = cluster.write.completeAt;
  cluster.minFinishBy = cluster.write;
  cluster.secondMinFinish = Infinity;
  cluster.secondMinFinishBy = null;
  cluster.maxStart = cluster.write.invokeAt;
  cluster.maxStartBy = cluster.write;
  for (const read of cluster.reads) {
    if (ignored.has(read)) continue;
    if (read.completeAt < cluster.minFinish) {
      cluster.secondMinFinish = cluster.minFinish;
      cluster.secondMinFinishBy = cluster.minFinishBy;
      cluster.minFinish = read.completeAt;
      cluster.minFinishBy = read;
    } else if (read.completeAt < cluster.secondMinFinish) {
      cluster.secondMinFinish = read.completeAt;
      cluster.secondMinFinishBy = read;
    }
    if (read.invokeAt > cluster.maxStart) {
      cluster.maxStart = read.invokeAt;
      cluster.maxStartBy = read;
    }
  }
}

/** The operation of the read's own cluster, other than the read, that finished first (the value was in effect by then). */
function inEffectBy(cluster: Cluster, read: RegisterRead): { at: number; by: Member | null } {
  return cluster.minFinishBy === read ? { at: cluster.secondMinFinish, by: cluster.secondMinFinishBy } : { at: cluster.minFinish, by: cluster.minFinishBy };
}

const ms = (t: number) => (Number.isFinite(t) ? t.toFixed(1) : '?');

function servedBy(op: Op): string {
  return [op.version && `${op.version}${op.instance ? ` ${op.instance}` : ''}`, op.readSource && `read source ${op.readSource}`, op.outcome === 'info' && 'unknown outcome']
    .filter(Boolean)
    .map((part) => `, ${part}`)
    .join('');
}

/**
 * A request that failed, in one line: `patch #812 of user 17 in 5-retire-v1 [4521.3–4523.9 ms, v1 v1-a, unknown
 * outcome]: HTTP 503 lease_lost` (no answer: the client's error, `timeout`, `ECONNRESET`; no end: `–?`).
 */
export function describeFailed(op: Op): string {
  const answer = op.status !== undefined ? `HTTP ${op.status}${op.error && op.error !== `HTTP ${op.status}` ? ` ${op.error}` : ''}` : `no answer (${op.error ?? 'unknown error'})`;
  const took = op.completeAt === null ? '' : `, ${(op.completeAt - op.invokeAt).toFixed(0)} ms`;
  return `${op.f} #${op.id}${op.key !== null ? ` of user ${op.key}` : ''} in ${op.step} [${ms(op.invokeAt)}–${op.completeAt === null ? '?' : ms(op.completeAt)} ms${took}${servedBy(op)}]: ${answer}`;
}

/** An operation as the verdict shows it, with the value it wrote or saw (`f`: how it is named, default its kind). */
export function opRef(op: Op, role: string, value: Observed, values: Values, f: string = op.f): OpRef {
  return {
    role,
    opId: op.id,
    f,
    value: values.shown(value),
    invokeAt: op.invokeAt,
    completeAt: op.completeAt,
    outcome: op.outcome,
    step: op.step,
    ...(op.version ? { version: op.version } : {}),
    ...(op.instance ? { instance: op.instance } : {}),
    ...(op.readSource ? { readSource: op.readSource } : {}),
  };
}

/** A witness as the verdict shows it: the operation (or the final read, or the value before the load) with its timing. */
export function memberRef({ role, member }: Witness, values: Values): OpRef {
  const op: Op | null = member.op;
  if (op) return opRef(op, role, member.value, values, member.type === 'read' && !isReadKind(op.f) ? `${op.f} answered 404` : op.f);
  if (member.type === 'read' && member.final) {
    const final: FinalRead = member.final;
    return {
      role,
      opId: null,
      f: 'final read',
      value: values.shown(member.value),
      invokeAt: member.invokeAt,
      completeAt: member.completeAt,
      step: FINAL_STEP,
      ...(final.version ? { version: final.version } : {}),
      ...(final.instance ? { instance: final.instance } : {}),
      ...(final.readSource ? { readSource: final.readSource } : {}),
    };
  }
  return { role, opId: null, f: 'initial', value: values.shown(member.value), invokeAt: null, completeAt: null };
}

export function describeMember(member: Member, values: Values): string {
  if (member.type === 'write') {
    if (!member.op) return `the value before the load, ${values.describe(member.value)}`;
    if (member.op.f === 'delete') return `delete #${member.op.id} [${ms(member.invokeAt)}–${ms(member.completeAt)} ms${servedBy(member.op)}]`;
    return `${member.op.f} #${member.op.id} of ${values.describe(member.value)} [${ms(member.invokeAt)}–${ms(member.completeAt)} ms${servedBy(member.op)}]`;
  }
  if (member.final) return `the final read returned ${values.describe(member.value)}`;
  const op = member.op!;
  const what = op.f === 'read' ? 'read' : op.f === 'lookup' ? `lookup for ${JSON.stringify(Object.values(op.value ?? {})[0] ?? null)}` : `${op.f} answered 404`;
  return `${what} #${op.id} returned ${values.describe(member.value)} [${ms(member.invokeAt)}–${ms(member.completeAt)} ms${servedBy(op)}]`;
}

/** A user's clusters (one per written value), each with the reads that returned its value. */
export interface Clustered {
  clusters: Map<string, Cluster>;
  initialCluster: Cluster;
  /** Every read whose value some effective write produced, invoked no later than the read completed. */
  clusterOf: Map<RegisterRead, Cluster>;
  /** Reads judged on their value alone: no effective write of the user produced it (garbage, or lost for a final read). */
  garbage: RegisterFinding[];
}

/** Groups a user's reads by the write whose value they returned; a read no write can explain is garbage. */
export function clusterReads(user: UserRegister, index: WriteIndex): Clustered {
  const { values } = index;
  const garbage: RegisterFinding[] = [];
  const clusters = new Map<string, Cluster>();
  for (const write of [user.initial, ...user.writes]) {
    const existing = clusters.get(write.key);
    if (existing) {
      throw new Error(`user ${user.rowKey}: two writes of one value ${values.describe(write.value)} (${describeMember(existing.write, values)}, ${describeMember(write, values)}); the checker needs unique values`);
    }
    clusters.set(write.key, { key: write.key, write, reads: [], minFinish: 0, minFinishBy: write, secondMinFinish: 0, secondMinFinishBy: null, maxStart: 0, maxStartBy: write });
  }
  const clusterOf = new Map<RegisterRead, Cluster>();
  for (const read of user.reads) {
    const cluster = clusters.get(read.key);
    if (!cluster) {
      garbage.push(garbageFinding(user, read, index));
    } else if (read.completeAt < cluster.write.invokeAt) {
      garbage.push({
        kind: 'garbage',
        fromOrder: false,
        reason: 'value of a write invoked after the read completed',
        message: `user ${user.rowKey}: ${describeMember(read, values)}, the value of ${describeMember(cluster.write, values)}, invoked after the read completed`,
        read,
        witnesses: [{ role: 'future write', member: cluster.write }],
      });
    } else {
      cluster.reads.push(read);
      clusterOf.set(read, cluster);
    }
  }
  return { clusters, initialCluster: clusters.get(user.initial.key)!, clusterOf, garbage };
}

/** Judges one user's register for linearizability; returns one finding per anomalous read (garbage, stale, non-monotonic, lost). */
export function checkRegister(user: UserRegister, index: WriteIndex): RegisterFinding[] {
  const { values } = index;
  const { clusters, initialCluster, clusterOf, garbage } = clusterReads(user, index);
  const findings = [...garbage];
  const absentIsInitial = user.initial.key === ABSENT;

  const all = [...clusters.values()];
  const judged = [...clusterOf.keys()];
  const flagged = new Set<RegisterRead>();

  const judge = (ignored: Set<RegisterRead>, pass: 'first' | 'second') => {
    for (const cluster of all) clusterStats(cluster, ignored);
    const others = all.filter((c) => c !== initialCluster);
    // Only an acknowledged write can have completed before a read began; a write of unknown outcome precedes
    // nothing, so it constrains only through the reads that returned its value.
    const acknowledged = others.filter((c) => Number.isFinite(c.write.completeAt));
    const writeStarts = new PrefixBest(acknowledged.map((c) => ({ finish: c.write.completeAt, value: c.write.invokeAt, cluster: c, before: c.write })));
    const clusterStarts = new PrefixBest(acknowledged.map((c) => ({ finish: c.write.completeAt, value: c.maxStart, cluster: c, before: c.write })));
    const readClusterStarts = new PrefixBest(
      others.flatMap((c) => c.reads.filter((r) => !ignored.has(r)).map((r) => ({ finish: r.completeAt, value: c.maxStart, cluster: c, before: r as Member }))),
    );
    for (const read of judged) {
      if (flagged.has(read)) continue;
      const own = clusterOf.get(read)!;
      const { at: since, by } = inEffectBy(own, read);
      const evidence = (): Witness => ({ role: 'shows the returned value was in effect earlier', member: by ?? own.write });
      if (pass === 'first') {
        const newerWrite = writeStarts.query(read.invokeAt, own);
        if (newerWrite && newerWrite.value > since) {
          flagged.add(read);
          findings.push(supersededFinding(user, read, 'write', newerWrite, [evidence(), { role: 'newer write, completed before the read began', member: newerWrite.cluster.write }], absentIsInitial, values));
          continue;
        }
        const newerRead = readClusterStarts.query(read.invokeAt, own);
        if (newerRead && newerRead.value > since) {
          flagged.add(read);
          findings.push(
            supersededFinding(user, read, 'read', newerRead, [
              evidence(),
              { role: 'started after that', member: newerRead.cluster.maxStartBy },
              { role: 'earlier read of the newer value', member: newerRead.before },
            ], absentIsInitial, values),
          );
        }
      } else {
        const newerCluster = clusterStarts.query(read.invokeAt, own);
        if (newerCluster && newerCluster.value > since) {
          flagged.add(read);
          findings.push(
            supersededFinding(user, read, 'overlap', newerCluster, [
              evidence(),
              { role: 'other write, completed before the read began', member: newerCluster.cluster.write },
              { role: 'observed after the first was in effect', member: newerCluster.cluster.maxStartBy },
            ], absentIsInitial, values),
          );
        }
      }
    }
  };
  judge(new Set(), 'first');
  judge(new Set(flagged), 'second');
  return findings;
}

function garbageFinding(user: UserRegister, read: RegisterRead, index: WriteIndex): RegisterFinding {
  const { values } = index;
  if (read.key === ABSENT) {
    return {
      kind: read.final ? 'lost' : 'garbage',
      fromOrder: false,
      reason: 'missing data: no such user, though it existed before the load',
      message: `user ${user.rowKey}: ${describeMember(read, values)}, but the user existed before the load`,
      read,
      witnesses: [{ role: 'value before the load', member: user.initial }],
    };
  }
  const { reason, witnesses } = index.explain(read.value, user.rowKey);
  const shown = witnesses.map((op) => `${op.f} #${op.id} of ${values.describe(op.value)} (user ${op.key ?? 'unknown'}, ${op.outcome})`).join(' and ');
  return {
    kind: 'garbage',
    fromOrder: false,
    reason,
    message: `user ${user.rowKey}: ${describeMember(read, values)}: ${reason}${shown ? `: ${shown}` : ''}`,
    read,
    witnesses: witnesses.map((op) => ({
      role: 'write of the parts seen',
      member: { type: 'write', op, key: '', value: op.value, invokeAt: op.invokeAt, completeAt: op.completeAt ?? Infinity } satisfies RegisterWrite,
    })),
  };
}

function supersededFinding(
  user: UserRegister,
  read: RegisterRead,
  evidence: 'write' | 'read' | 'overlap',
  newer: Candidate,
  witnesses: Witness[],
  absentIsInitial: boolean,
  values: Values,
): RegisterFinding {
  const describe = (member: Member) => describeMember(member, values);
  const was = values.describe(read.value);
  const newerValue = values.describe(newer.cluster.write.value);
  const because =
    evidence === 'write'
      ? `${describe(newer.cluster.write)} started after ${was} was in effect and completed before the read began`
      : evidence === 'read'
        ? `${describe(newer.before)} completed before it began, and ${newerValue} came after ${was}`
        : `${describe(newer.cluster.write)} completed before it began, and ${describe(newer.cluster.maxStartBy)} shows ${newerValue} came after ${was}`;
  let kind: RegisterFinding['kind'];
  let reason: string;
  if (read.final && evidence !== 'read') {
    kind = 'lost';
    reason =
      newer.cluster.key === DELETED
        ? 'the row was deleted, but the final read found it again (resurrected)'
        : `acknowledged write of ${newerValue} not visible at the end, and nothing superseded it`;
  } else if (evidence === 'read') {
    kind = 'nonMonotonic';
    reason = read.key === ABSENT ? 'the user was seen, then not found' : 'returned a value an earlier completed read had already superseded';
  } else if (read.key === ABSENT && absentIsInitial) {
    kind = 'garbage';
    reason = 'missing data: not found after the user was written';
  } else if (newer.cluster.key === DELETED) {
    kind = 'stale';
    reason = 'returned a value after its row had been deleted (resurrected)';
  } else {
    kind = 'stale';
    reason = evidence === 'write' ? 'a newer write had completed before the read began' : 'overlapping writes both completed before the read began, and reads disagree on which came last';
  }
  return { kind, fromOrder: true, reason, message: `user ${user.rowKey}: ${describe(read)}, but ${because}`, read, witnesses };
}
