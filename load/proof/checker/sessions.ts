// Session mode (reads from a replica with consistency tokens): the exact check of one user's register against the
// session guarantees, and the kind of each anomaly. Used by `check({ consistency: 'session' })`.
//
// The definition. Every write goes to the primary, which applies a user's writes one after another: there is one
// total order of the user's effective writes (the value before the load first; acknowledged writes; a write of
// unknown outcome only if some read returned its value). Each write takes effect at a point of its interval:
// not before it was invoked, not after it completed, and not after any read that returned its value completed
// (a replica serves only committed data). The order of the writes is the order of those points. A session is one
// load connection (operations one at a time; a write marked `external` belongs to no session). The history meets
// the session guarantees if and only if one such order exists in which:
//   read-your-writes  every read (or PUT answered 404) of a session returns a write no older than each of the
//                     session's own acknowledged writes invoked before it;
//   monotonic reads   every read of a session returns a write no older than what each earlier read of the same
//                     session returned;
//   final read        the final read (after the load stopped and the replica caught up, or from the primary)
//                     returns the last write of the order: it is linearizable against every write.
// "Older" is always in that one order, so two sessions that saw two overlapping writes in opposite orders, or a
// session that saw X, then Y, then X, break it; real time between sessions constrains only through the writes'
// points. Nothing else is judged: a read that returns a value older than another session's completed write
// meets the definition (reported by index.ts as crossSession information).
//
// The algorithm. Each constraint is an edge "a comes before b" between writes: real time (a took effect by the
// time b was invoked, represented with one chain of time nodes, so O(n) edges), and one edge per read for each
// guarantee (from the session's last own write, from its last read; the rest follows by transitivity, since a
// session's operations are sequential). An order exists if and only if the graph has no cycle. Edges are added in
// layers, read-your-writes, then monotonic reads, then the final read, each layer's reads in the order they
// completed; a read whose edge would close a cycle is flagged and its edge left out. So a read is flagged only
// when the history with it cannot meet the definition (every flag is real), and a history that meets the
// definition has no flag (no anomaly missed); which read of a contradiction is blamed is a choice. The lowest
// layer with a flag is exact (brute-force.ts and test/load/checker-vs-brute-force-kinds.test.ts hold it to account).
// Garbage values are judged as in linearizable mode (register.ts).
import { clusterReads, describeMember } from './register.ts';
import type { Cluster, Member, RegisterFinding, RegisterRead, UserRegister, Witness } from './register.ts';
import { ABSENT } from './values.ts';
import type { Values, WriteIndex } from './values.ts';

/** Why an edge "from comes before to" holds: real time (null), or a session's read of `to` after `after`. */
interface EdgeReason {
  read: RegisterRead;
  after: Member;
}

/** "from came before to", and why. */
interface Link {
  from: Cluster;
  to: Cluster;
  reason: EdgeReason | null;
}

interface Edge {
  to: number;
  reason: EdgeReason | null;
}

const ms = (t: number) => (Number.isFinite(t) ? t.toFixed(1) : '?');

/** The session a member belongs to: its load connection, or null (the final read, an external operation). */
function sessionOf(member: Member): number | null {
  const op = member.op;
  return op && !op.external ? op.process : null;
}

class OrderGraph {
  /** Node i < clusters.length: a cluster; node clusters.length + j: the time of the j-th invocation. */
  private readonly out: Edge[][];
  private readonly time: number[];
  private readonly bound: number[];
  readonly boundBy: Member[];
  private readonly node = new Map<Cluster, number>();
  private readonly visited: Int32Array;
  private readonly parent: Array<{ from: number; reason: EdgeReason | null }>;
  private stamp = 0;

  constructor(readonly clusters: Cluster[]) {
    const n = clusters.length;
    this.out = Array.from({ length: 2 * n }, () => []);
    this.time = new Array<number>(2 * n);
    this.bound = new Array<number>(n);
    this.boundBy = new Array<Member>(n);
    this.visited = new Int32Array(2 * n);
    this.parent = new Array(2 * n);
    clusters.forEach((cluster, i) => {
      this.node.set(cluster, i);
      let bound = cluster.write.completeAt;
      let by: Member = cluster.write;
      for (const read of cluster.reads) {
        if (read.completeAt < bound) {
          bound = read.completeAt;
          by = read;
        }
      }
      this.bound[i] = bound;
      this.boundBy[i] = by;
      this.time[i] = cluster.write.invokeAt;
    });
    const byInvoke = clusters.map((_, i) => i).sort((a, b) => this.time[a]! - this.time[b]!);
    byInvoke.forEach((i, j) => {
      this.time[n + j] = this.time[i]!;
      this.out[n + j]!.push({ to: i, reason: null });
      if (j + 1 < n) this.out[n + j]!.push({ to: n + j + 1, reason: null });
    });
    // a comes before every write invoked after a took effect (strictly: at the same instant either order is legal).
    for (let i = 0; i < n; i++) {
      let low = 0;
      let high = n;
      while (low < high) {
        const mid = (low + high) >>> 1;
        if (this.time[n + mid]! <= this.bound[i]!) low = mid + 1;
        else high = mid;
      }
      if (low < n) this.out[i]!.push({ to: n + low, reason: null });
    }
  }

  index(cluster: Cluster): number {
    return this.node.get(cluster)!;
  }

  boundOf(cluster: Cluster): number {
    return this.bound[this.index(cluster)]!;
  }

  /** True when real time alone orders a before b. */
  realTime(a: Cluster, b: Cluster): boolean {
    return this.boundOf(a) < b.write.invokeAt;
  }

  /**
   * The path of clusters from `from` to the first node `isTarget` accepts, as links with their reasons, or null.
   * Only nodes invoked no later than `horizon` are searched: the graph always has an order whose points lie in
   * the writes' intervals, so a node invoked later cannot come before anything that took effect by `horizon`.
   */
  path(from: Cluster, isTarget: (i: number) => boolean, horizon: number, realTimeOnly = false): Link[] | null {
    const n = this.clusters.length;
    const stamp = ++this.stamp;
    const start = this.index(from);
    const stack = [start];
    this.visited[start] = stamp;
    while (stack.length > 0) {
      const at = stack.pop()!;
      for (const edge of this.out[at]!) {
        if (this.visited[edge.to] === stamp || this.time[edge.to]! > horizon || (realTimeOnly && edge.reason)) continue;
        this.visited[edge.to] = stamp;
        this.parent[edge.to] = { from: at, reason: edge.reason };
        if (edge.to < n && isTarget(edge.to)) return this.links(start, edge.to);
        stack.push(edge.to);
      }
    }
    return null;
  }

  /** The cluster-to-cluster links of the search tree's path from start to end (time nodes folded into real time). */
  private links(start: number, end: number): Link[] {
    const n = this.clusters.length;
    const links: Link[] = [];
    let to = end;
    let at = end;
    let reason: EdgeReason | null = null;
    while (at !== start) {
      const step = this.parent[at]!;
      if (at === to) reason = step.reason;
      at = step.from;
      if (at < n) {
        links.push({ from: this.clusters[at]!, to: this.clusters[to]!, reason });
        to = at;
      }
    }
    return links.reverse();
  }

  add(from: Cluster, to: Cluster, reason: EdgeReason): void {
    this.out[this.index(from)]!.push({ to: this.index(to), reason });
  }
}

type Layer = 'readYourWrites' | 'monotonicReads';

/** Judges one user's register against the session guarantees; returns one finding per anomalous read. */
export function checkSessions(user: UserRegister, index: WriteIndex): RegisterFinding[] {
  const { clusters, initialCluster, clusterOf, garbage } = clusterReads(user, index);
  const findings = [...garbage];
  // A write of unknown outcome that no read returned may never have taken effect: leaving it out only removes
  // constraints.
  const effective = [...clusters.values()].filter((c) => c === initialCluster || Number.isFinite(c.write.completeAt) || c.reads.length > 0);
  const graph = new OrderGraph(effective);
  const absentIsInitial = user.initial.key === ABSENT;

  // Each session's reads in order, with the session's last acknowledged write invoked before each.
  const members: Member[] = [...user.writes, ...clusterOf.keys()].filter((m) => sessionOf(m) !== null);
  members.sort((a, b) => a.invokeAt - b.invokeAt || (a.op!.id - b.op!.id));
  const ownWriteBefore = new Map<RegisterRead, Cluster>();
  const lastWrite = new Map<number, Cluster>();
  for (const member of members) {
    const session = sessionOf(member)!;
    if (member.type === 'write') {
      if (Number.isFinite(member.completeAt)) lastWrite.set(session, clusters.get(member.key)!);
    } else {
      const own = lastWrite.get(session);
      if (own) ownWriteBefore.set(member, own);
    }
  }
  const sessionReads = [...clusterOf.keys()].filter((r) => sessionOf(r) !== null).sort((a, b) => a.completeAt - b.completeAt || a.invokeAt - b.invokeAt);
  const flagged = new Set<RegisterRead>();

  /** Adds "before comes before the read's cluster", or flags the read when that closes a cycle. */
  const require = (read: RegisterRead, before: Cluster, after: Member, layer: Layer) => {
    const own = clusterOf.get(read)!;
    if (before === own || graph.realTime(before, own)) return;
    const target = graph.index(before);
    const cycle = graph.path(own, (i) => i === target, graph.boundOf(before));
    if (!cycle) {
      graph.add(before, own, { read, after });
      return;
    }
    flagged.add(read);
    findings.push(sessionFinding(user, graph, read, after, cycle, layer, absentIsInitial, index.values));
  };

  for (const read of sessionReads) {
    const own = ownWriteBefore.get(read);
    if (own) require(read, own, own.write, 'readYourWrites');
  }
  const lastRead = new Map<number, RegisterRead>();
  for (const read of sessionReads) {
    if (flagged.has(read)) continue;
    const session = sessionOf(read)!;
    const previous = lastRead.get(session);
    if (previous) require(read, clusterOf.get(previous)!, previous, 'monotonicReads');
    if (!flagged.has(read)) lastRead.set(session, read);
  }

  const finalRead = [...clusterOf.keys()].find((r) => r.final);
  if (finalRead) {
    // The final read's value must come after every other effective write: flagged if it reaches one.
    const own = clusterOf.get(finalRead)!;
    const ownIndex = graph.index(own);
    const other = (i: number) => i !== ownIndex;
    const realTime = graph.path(own, other, Infinity, true);
    const cycle = realTime ?? graph.path(own, other, Infinity);
    if (cycle) findings.push(finalFinding(user, graph, finalRead, own, cycle, realTime !== null, index.values));
  }
  return findings;
}

/** "X came before Y" links as words and witnesses. */
function explain(graph: OrderGraph, links: Link[], values: Values): { words: string; witnesses: Witness[] } {
  const describe = (member: Member) => describeMember(member, values);
  const witnesses: Witness[] = [];
  const words = links.map(({ from, to, reason }) => {
    if (!reason && !from.write.op) {
      witnesses.push({ role: 'value before the load', member: from.write });
      return `${describe(from.write)} came before every write`;
    }
    if (!reason) {
      const by = graph.boundBy[graph.index(from)]!;
      witnesses.push({ role: 'in effect by then', member: by }, { role: 'began after that', member: to.write });
      return `${values.describe(from.write.value)} was in effect by ${ms(graph.boundOf(from))} ms (${describe(by)}), before ${describe(to.write)} began`;
    }
    witnesses.push({ role: 'seen first by its session', member: reason.after }, { role: 'then read by the same session', member: reason.read });
    return `session ${sessionOf(reason.read)}: ${describe(reason.after)}, then ${describe(reason.read)}`;
  });
  return { words: words.join('; '), witnesses };
}

function sessionFinding(user: UserRegister, graph: OrderGraph, read: RegisterRead, after: Member, cycle: Link[], layer: Layer, absentIsInitial: boolean, values: Values): RegisterFinding {
  const { words, witnesses } = explain(graph, cycle, values);
  const describe = (member: Member) => describeMember(member, values);
  const session = sessionOf(read);
  const was = values.describe(read.value);
  const then = values.describe(after.value);
  let kind: RegisterFinding['kind'];
  let reason: string;
  if (layer === 'readYourWrites') {
    kind = read.key === ABSENT && absentIsInitial ? 'garbage' : 'stale';
    reason = kind === 'garbage' ? "missing data: not found after the session's own write" : "read-your-writes: older than the session's own acknowledged write";
  } else {
    kind = 'nonMonotonic';
    reason = read.key === ABSENT ? 'monotonic reads: the session saw the user, then not found' : 'monotonic reads: older than a value the session had already read';
  }
  const what = layer === 'readYourWrites' ? `its session ${session} had written ${then} (${describe(after)})` : `its session ${session} had read ${then} (${describe(after)})`;
  return {
    kind,
    fromOrder: true,
    reason,
    message: `user ${user.rowKey}: ${describe(read)}, but ${what}, and ${was} came before ${then}: ${words}`,
    read,
    witnesses: [{ role: layer === 'readYourWrites' ? "the session's own write" : "the session's earlier read", member: after }, ...witnesses],
  };
}

function finalFinding(user: UserRegister, graph: OrderGraph, read: RegisterRead, own: Cluster, cycle: Link[], realTime: boolean, values: Values): RegisterFinding {
  const { words, witnesses } = explain(graph, cycle, values);
  const describe = (member: Member) => describeMember(member, values);
  const newer = cycle.at(-1)!.to;
  return {
    kind: realTime ? 'lost' : 'nonMonotonic',
    fromOrder: true,
    reason: realTime
      ? 'a write that began after the final value was in effect is not visible at the end'
      : 'the final read returned a value that what a session observed orders before another write',
    message: `user ${user.rowKey}: ${describe(read)}, but ${values.describe(own.write.value)} came before ${describe(newer.write)}: ${words}`,
    read,
    witnesses,
  };
}
