// The load generator: autocannon drives creates, updates and reads through the balancer while the rollout
// runs, and every request becomes an operation in the history (every answer checked, none sampled), with the
// version and instance that served it. Most users belong to one connection; a shared fraction is written by
// every connection, so that writes to one row race across versions. The hot-key workload (hotKeys) sends a share
// of every connection's operations to a handful of users, so that many writes to one row are in flight at once:
// what tears a dual-write that is not one atomic statement. Every write carries a unique value (a counter in each
// of the mapping's fields, through its sample), which is what lets the checker judge the history exactly.
// Bounded in time (duration), in count (maxRequests), and stoppable (an AbortSignal); 127.0.0.1 only.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { CONSISTENCY_TOKEN_HEADER } from '../../shared/http/headers.ts';
import { answeredValue, compareKeys, createdKey, historyValue, isReadKind, outcomeOfNoResponse, outcomeOfStatus } from './history.ts';
import { mapping } from '../../shared/schema-mapping.ts';
import type { SchemaMapping } from '../../shared/schema-mapping.ts';
import type { Completion, FinalRead, HistoryRecorder, Op, OpKind, RecordValue } from './history.ts';

export interface OperationMix {
  create: number;
  write: number;
  read: number;
  /** PATCH of one field, picked at random. Never on a hot key (see chooseNext). */
  patch: number;
  /** DELETE: the key leaves every pool, so a row is deleted once. Never a hot key. */
  delete: number;
  /**
   * A lookup (GET <route>?<param>=<value>) of a row by the lookup value of what the load last wrote to it (see
   * loadLookup). Never a hot key; a read instead when the mapping has no lookup the checker can judge, or the row
   * has no value of it written by the load yet.
   */
  lookup: number;
}

export interface LoadOptions {
  /** The balancer or one instance: http://127.0.0.1:PORT. */
  url: string;
  recorder: HistoryRecorder;
  /** Concurrent connections, one operation at a time each (a connection is a history process). Default 8. */
  connections?: number;
  /** Upper bound on the run, also when a signal is given. Default 10. */
  durationSeconds?: number;
  /** Upper bound on requests. Default 500,000. */
  maxRequests?: number;
  /** Requests per second over all connections (autocannon's overallRate). Default: as fast as the answers come. */
  rate?: number;
  /** Stops the load when aborted: no new requests, the ones in flight are answered (or time out). */
  signal?: AbortSignal;
  /** Relative weights. Default { create: 1, write: 7, read: 12 }. */
  mix?: Partial<OperationMix>;
  /** Keys of users that exist before the load (record their values with recorder.recordInitial): loaded like the rest. */
  existingUsers?: string[];
  /** Fraction of users (and of operations) that every connection shares. Default 0.2. */
  sharedUsers?: number;
  /**
   * The hot-key workload: `share` of every connection's operations (writes and reads, by the mix) go to `users`
   * users, the first existing ones (else the first created), so that every connection writes them concurrently.
   * Default none.
   */
  hotKeys?: HotKeys;
  /** Creates stop (and become writes) once this many users exist. Default 2000. */
  maxUsers?: number;
  /** A request with no answer by then is given up: a read failed, a write's outcome is unknown. Default 5. */
  timeoutSeconds?: number;
  /** Retry a GET or PUT once when its connection was reset or closed before any answer. Default true. */
  retryOnReset?: boolean;
  /** Called once a second, and once at the end. */
  onProgress?: (progress: LoadProgress) => void;
  random?: () => number;
}

export interface HotKeys {
  users: number;
  /** Fraction of operations, from 0 to 1. */
  share: number;
}

export interface LoadProgress {
  elapsedMs: number;
  requests: number;
  ok: number;
  failed: number;
  unknown: number;
  retries: number;
  perSecond: number;
  users: number;
  step: string;
}

export interface LoadSummary extends LoadProgress {
  sharedUsers: number;
  /** The hot-key workload's users (their keys). */
  hotUsers: string[];
  stoppedBy: 'duration' | 'signal' | 'maxRequests';
}

/** The header an app answers writes with when it reads from a replica (the client sends the last one back). */
const CONSISTENCY_TOKEN_HEADER_LOWER = CONSISTENCY_TOKEN_HEADER.toLowerCase();

const DEFAULT_MIX: OperationMix = { create: 1, write: 7, read: 12, patch: 0, delete: 0, lookup: 0 };

const METHODS: Record<OpKind, 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'GET'> = { create: 'POST', write: 'PUT', patch: 'PATCH', delete: 'DELETE', read: 'GET', lookup: 'GET' };

/**
 * How the load looks rows up: it asks by the mapping's lookup parameter, and records the lookup in the history by
 * the field of the history that the lookup value is computed from (the checker imports no mapping: it judges a
 * lookup by a field of its values). The users mapping's email is both; orders-address's postcode is computed from
 * the address. The two lookups find the same rows as long as each value of the field gives a lookup value no other
 * value of the history gives: the field carries each write's tag (one row holds it, so the checker can tell a row
 * missed from a row found), and where the lookup value is computed (a postcode), the load never sends a value whose
 * lookup value another already has (runLoad's nextValue takes the next tag instead).
 */
export interface LoadLookup {
  /** The query parameter: GET <route>?<param>=. */
  param: string;
  /** The field of the history the lookup value follows alone; a lookup's value in the history is { <field>: ... }. */
  field: string;
  /** The lookup value of a row whose `field` holds `fieldValue` (null: such a row is found by none). */
  valueOf(fieldValue: string): string | null;
  /** The lookup value is the field's value itself (users' email): then no two values of the field share one. */
  identity: boolean;
}

/** Null when the mapping has no lookup, or none the load can judge: its value does not follow one field, or repeats across tags. */
export function loadLookup(fields: readonly string[], of: Pick<SchemaMapping, 'lookup' | 'sampleFields'> = mapping): LoadLookup | null {
  const lookup = of.lookup;
  if (!lookup) return null;
  const tags = ['u7-w7', 'k3-w12', 'c5-w9'];
  const samples = tags.map((tag) => of.sampleFields(tag, loadDomain('0a0a0a')));
  const values = samples.map((sample) => lookup.fromFields(sample));
  if (values.some((value) => value === null) || new Set(values).size < samples.length) return null;
  // The field that carries the tag and alone decides the lookup value: a sample given only that field of another
  // sample has the other's lookup value.
  const field = fields.find((name) =>
    samples.every((sample, i) => {
      const other = samples[(i + 1) % samples.length]!;
      return sample[name]?.includes(tags[i]!) && lookup.fromFields({ ...sample, [name]: other[name]! }) === lookup.fromFields(other);
    }),
  );
  if (field === undefined) return null;
  return {
    param: lookup.param,
    field,
    valueOf: (fieldValue) => lookup.fromFields({ ...samples[0]!, [field]: fieldValue }),
    identity: samples.every((sample, i) => values[i] === sample[field]),
  };
}

/**
 * The lookup values of one history, for a computed one (not the field itself): per lookup value, the value of the
 * field that gives it, or null when more than one does (never asked then: its answer would rightly hold both rows).
 */
export function lookupValuesOf(byLookup: LoadLookup | null) {
  const owners = new Map<string, string | null>();
  return {
    /**
     * Whether a value may be sent: its lookup value is no other value's. Forced: it is there anyway (a seed, a write
     * made outside the load, a write after TAGS_PER_WRITE tags), and a lookup value it shares is never asked.
     */
    claim(value: RecordValue, { force }: { force: boolean }): boolean {
      const fieldValue = byLookup === null || byLookup.identity ? undefined : value[byLookup.field];
      const asked = fieldValue === undefined ? null : byLookup!.valueOf(fieldValue);
      if (asked === null) return true;
      const owner = owners.get(asked);
      if (owner === undefined || owner === fieldValue) {
        owners.set(asked, fieldValue!);
        return true;
      }
      if (force) owners.set(asked, null);
      return force;
    },
    /** The lookup value to ask a row by, given its field's value; null when none, or when another value shares it. */
    askable(fieldValue: string): string | null {
      const asked = byLookup?.valueOf(fieldValue) ?? null;
      return asked === null || byLookup!.identity || owners.get(asked) === fieldValue ? asked : null;
    },
  };
}

/** Tags nextValue tries for one write before it sends one whose lookup value another value has (never asked then). */
const TAGS_PER_WRITE = 20;

/** A key written into a value's tag as it is (`u42`); any other key by its alias (`k3`), so that the tag stays short. */
const SHORT_INTEGER = /^\d{1,9}$/;

/** Failures after which nothing (or nothing that matters) reached the server twice: safe to send a GET or PUT again. */
const RETRYABLE = new Set(['ECONNRESET', 'EPIPE', 'connection closed']);

interface Connection {
  process: number;
  ownUsers: string[];
  inFlight: Op | null;
  lastError: NodeJS.ErrnoException | null;
  retry: { f: 'write' | 'read' | 'patch'; key: string; of: number; field?: string } | null;
  /**
   * The last X-Consistency-Token answered to this connection, sent with each of its requests: with a read
   * replica, a session (one connection) reads its own writes whatever instance or version serves it.
   */
  token: string | null;
  /** Closes the connection for good (autocannon's Client.destroy, not in its type definitions). */
  close: () => void;
  closed: boolean;
}

function header(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? String(value[0]) : String(value);
  }
  return undefined;
}

export function loadTarget(url: string): { origin: string; basePath: string } {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' || parsed.hostname !== '127.0.0.1') throw new Error(`load target must be http://127.0.0.1:PORT, got ${url}`);
  return { origin: parsed.origin, basePath: parsed.pathname.replace(/\/+$/, '') };
}

/** `text` as a regular expression that matches exactly it. */
export const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The load's tags (`u12-w34`: a write to user 12; `k5-w34`: a write to the 5th key this run learned, when the key
 * is not a short integer (a UUID would not fit a field); `c3-w9`: a create by connection 3) and per-run domains
 * (nextValue).
 */
const LOAD_TAG = /[uck]\d+-w\d+/g;
const LOAD_DOMAIN = /r[0-9a-f]{6}\.example\.test/g;
const loadDomain = (runTag: string) => `r${runTag}.example.test`;

/** Whether a field's value is one the load could have written (loadValueShape). */
export interface FieldShape {
  test(text: string): boolean;
}

/**
 * The shape of every value the load writes, per field, derived from the mapping's own sample (nextValue writes
 * `mapping.sampleFields(tag, domain)`): a field's value is the load's when it is what the sample gives for a load
 * tag and domain it carries (for the probe's, when it carries none), so a part computed from the tag (orders'
 * postcode) is recomputed, not guessed. A read that returns a field of another shape, not the user's seeded value
 * either, saw a write made by someone else (the sandbox's writes by hand, load/workshop/external-writes.ts). A torn
 * value (one field of one write, another of the next) keeps the shape. Null when the sample does not carry the tag
 * and domain as written (say, upper-cased): nothing can tell the load's values from a hand's, and taking a load
 * value for a hand's would record a write that hides real anomalies.
 */
export function loadValueShape(of: Pick<SchemaMapping, 'oldColumnNames' | 'sampleFields'> = mapping): Record<string, FieldShape> | null {
  const probe = { tag: 'u7-w7', domain: loadDomain('0a0a0a') };
  const shape: Record<string, FieldShape> = {};
  for (const field of of.oldColumnNames) {
    shape[field] = {
      test: (text) => {
        // String.match with a global pattern starts from 0 each time: the two are shared, not rebuilt per read.
        const tags = text.match(LOAD_TAG) ?? [probe.tag];
        const domains = text.match(LOAD_DOMAIN) ?? [probe.domain];
        return tags.some((tag) => domains.some((domain) => of.sampleFields(tag, domain)[field] === text));
      },
    };
  }
  // Every tag and domain's sample must pass, or the sample does not carry them as written.
  for (const [tag, runTag] of [['u7-w7', '0a0a0a'], ['c3-w12', 'abcdef'], ['u1234-w5', '123456'], ['k5-w3', 'fedcba']] as const) {
    const sample = of.sampleFields(tag, loadDomain(runTag));
    if (!of.oldColumnNames.every((field) => shape[field]!.test(sample[field] ?? ''))) return null;
  }
  return shape;
}

export async function runLoad(options: LoadOptions): Promise<LoadSummary> {
  const { recorder, connections = 8, durationSeconds = 10, maxRequests = 500_000, signal, sharedUsers = 0.2, maxUsers = 2000, timeoutSeconds = 5, retryOnReset = true, onProgress, random = Math.random } = options;
  const { origin, basePath } = loadTarget(options.url);
  const mix = { ...DEFAULT_MIX, ...options.mix };
  const mixTotal = mix.create + mix.write + mix.read + mix.patch + mix.delete + mix.lookup;
  if (!(mixTotal > 0) || Object.values(mix).some((w) => w < 0)) throw new Error(`mix: weights must be >= 0 and not all 0, got ${JSON.stringify(mix)}`);
  if (!(sharedUsers >= 0 && sharedUsers <= 1)) throw new Error(`sharedUsers: a fraction from 0 to 1, got ${sharedUsers}`);
  const hotKeys = options.hotKeys ?? { users: 0, share: 0 };
  if (!(Number.isInteger(hotKeys.users) && hotKeys.users >= 0 && hotKeys.share >= 0 && hotKeys.share <= 1)) {
    throw new Error(`hotKeys: users a whole number >= 0 and share a fraction from 0 to 1, got ${JSON.stringify(options.hotKeys)}`);
  }

  // A tag per run keeps this run's values apart from rows an earlier run left in the same database.
  const runTag = randomBytes(3).toString('hex');
  let writeCounter = 0;
  const sharedPool: string[] = [];
  const ownPools: string[][] = Array.from({ length: connections }, () => []);
  const existingUsers = options.existingUsers ?? [];
  const hotPool = existingUsers.slice(0, hotKeys.users);
  existingUsers.slice(hotPool.length).forEach((key, i) => (random() < sharedUsers ? sharedPool : ownPools[i % connections]!).push(key));
  // A key that is not a short integer goes into a value's tag as its index in the order this run learned it.
  const aliases = new Map<string, number>();
  const learn = (key: string) => {
    if (!aliases.has(key)) aliases.set(key, aliases.size + 1);
  };
  existingUsers.forEach(learn);
  let users = existingUsers.length;
  const byLookup = loadLookup(recorder.fields);
  /** Per row, the value of the lookup's field the load last sent it (a write, patch or create, any outcome). */
  const lastAsked = new Map<string, string>();
  const lookupValues = lookupValuesOf(byLookup);
  for (const { value } of recorder.initial) lookupValues.claim(value, { force: true });
  /**
   * Writes made outside the load (the demo's cross-version check) claim theirs as they appear in the history: a load
   * value sent earlier with the same lookup value is never asked from then on. A lookup of it already in flight is
   * not recalled: that takes a shared lookup value (orders: one postcode in 1.6 billion) and a lookup at that moment.
   */
  let claimedThrough = recorder.dropped;
  const claimExternalValues = () => {
    if (byLookup === null || byLookup.identity) return;
    for (let i = Math.max(claimedThrough - recorder.dropped, 0); i < recorder.ops.length; i++) {
      const op = recorder.ops[i]!;
      if (op.external !== undefined && op.value) lookupValues.claim(op.value, { force: true });
    }
    claimedThrough = recorder.dropped + recorder.ops.length;
  };
  const counts = { requests: 0, ok: 0, failed: 0, unknown: 0, retries: 0 };
  const connectionsList: Connection[] = [];

  // The shape loadValueShape describes: keep them in step.
  const nextValue = (key: string | null, process: number): RecordValue => {
    const writer = key === null ? `c${process}` : SHORT_INTEGER.test(key) ? `u${key}` : `k${aliases.get(key)}`;
    claimExternalValues();
    for (let attempt = 1; ; attempt++) {
      const value = historyValue(recorder.fields, mapping.sampleFields(`${writer}-w${++writeCounter}`, loadDomain(runTag)));
      if (lookupValues.claim(value, { force: attempt === TAGS_PER_WRITE })) return value;
    }
  };

  const complete = (connection: Connection, completion: Completion) => {
    const op = connection.inFlight!;
    connection.inFlight = null;
    recorder.complete(op, completion);
    counts[completion.outcome === 'ok' ? 'ok' : completion.outcome === 'fail' ? 'failed' : 'unknown']++;
  };

  /** The operation before this one never got an answer: its connection failed, closed or timed out. */
  const settleUnanswered = (connection: Connection) => {
    const op = connection.inFlight;
    if (!op) return;
    // autocannon reports a socket error before it sets up the next request, but its timeout only after: a
    // request that waited (nearly) the whole timeout timed out; otherwise the server closed the connection.
    const elapsedMs = recorder.now() - op.invokeAt;
    const code = connection.lastError?.code ?? (elapsedMs >= timeoutSeconds * 900 ? 'timeout' : 'connection closed');
    connection.lastError = null;
    complete(connection, { outcome: outcomeOfNoResponse(op.f, { sent: code !== 'ECONNREFUSED' }), error: code });
    // A retry is its own operation, and the unanswered original stays as it is: a failed read (a read has no
    // effect), or a write of unknown outcome (it may still land, even after the retry). A retried PUT writes a
    // fresh value: resending the same one would give the register two writes of one value, which could reappear
    // after being overwritten, and no single operation spanning both attempts could describe that. The checker
    // is exact only when every write is unique. (A POST is never retried: a second create is a second user.)
    // A DELETE is not retried either: a row is deleted at most once (the checker's unique values).
    if (retryOnReset && op.f !== 'create' && op.f !== 'delete' && op.f !== 'lookup' && op.retryOf === undefined && op.key !== null && RETRYABLE.has(code)) {
      connection.retry = { f: op.f as 'write' | 'read' | 'patch', key: op.key, of: op.id, ...(op.f === 'patch' ? { field: Object.keys(op.value ?? {})[0] } : {}) };
    }
  };

  const kindOf = (roll: number): OpKind => {
    let edge = 0;
    for (const kind of ['create', 'write', 'patch', 'delete', 'lookup', 'read'] as const) {
      edge += mix[kind];
      if (roll < edge) return kind;
    }
    return 'read';
  };
  /** asked: the row's value of the lookup's field (in the history); query: the lookup value sent for it. */
  type Next = { f: OpKind; key: string | null; field?: string; asked?: string; query?: string };
  const chooseNext = (connection: Connection): Next => {
    const kind = kindOf(random() * mixTotal);
    const hot = hotPool.length > 0 && random() < hotKeys.share;
    const pool = hot ? hotPool : (random() < sharedUsers && sharedPool.length > 0) || connection.ownUsers.length === 0 ? sharedPool : connection.ownUsers;
    if (pool.length === 0 || (kind === 'create' && users < maxUsers)) return { f: 'create', key: null };
    const at = Math.floor(random() * pool.length);
    const key = pool[at]!;
    // Hot keys are written whole and never deleted: their history is long, and a deleted one would empty the
    // pool the hot-key workload is about (the live checker judges a patched row's whole history at each look).
    if (hot && (kind === 'patch' || kind === 'delete')) return { f: 'write', key };
    if (kind === 'delete') {
      // Out of every pool at once: no operation is chosen for it again (one already in flight may race the delete).
      pool.splice(at, 1);
      lastAsked.delete(key);
      return { f: 'delete', key };
    }
    if (kind === 'lookup') {
      // A hot key's value is rarely settled (many writes in flight): a lookup of it would judge little.
      const asked = hot ? undefined : lastAsked.get(key);
      const query = asked === undefined ? null : lookupValues.askable(asked);
      return asked === undefined || query === null ? { f: 'read', key } : { f: 'lookup', key, asked, query };
    }
    if (kind === 'patch') return { f: 'patch', key, field: recorder.fields[Math.floor(random() * recorder.fields.length)]! };
    return { f: kind === 'create' ? 'write' : kind, key };
  };

  // Stopping drains: no new operation is sent, and each connection closes once its last one is answered (or
  // times out), so that stopping the load does not itself leave requests without an answer.
  let draining = false;
  const closeConnection = (connection: Connection) => {
    if (connection.closed) return;
    connection.closed = true;
    connection.close();
  };

  const setupRequest = (connection: Connection, request: autocannon.Request): autocannon.Request => {
    settleUnanswered(connection);
    if (draining || connection.closed) {
      // autocannon writes whatever is returned here, but to the connection just destroyed: nothing is sent.
      closeConnection(connection);
      return request;
    }
    const retry = connection.retry;
    connection.retry = null;
    const next: Next = retry ?? chooseNext(connection);
    const whole = isReadKind(next.f) || next.f === 'delete' ? undefined : nextValue(next.key, connection.process);
    // A PATCH sets one field, of a fresh value like any write (a retry too: every write stays unique).
    const written = whole && next.f === 'patch' && next.field !== undefined ? { [next.field]: whole[next.field]! } : whole;
    if (written && next.key !== null && byLookup !== null && written[byLookup.field] !== undefined) lastAsked.set(next.key, written[byLookup.field]!);
    const asked = next.f === 'lookup' && byLookup !== null && next.asked !== undefined ? { [byLookup.field]: next.asked } : undefined;
    const value = written ?? asked;
    const op = recorder.invoke({ process: connection.process, f: next.f, key: next.key, ...(value ? { value } : {}), ...(retry ? { retryOf: retry.of } : {}) });
    connection.inFlight = op;
    counts.requests++;
    if (retry) counts.retries++;
    const path = asked
      ? `${basePath}${mapping.route}?${encodeURIComponent(byLookup!.param)}=${encodeURIComponent(next.query!)}`
      : next.key === null
        ? `${basePath}${mapping.route}`
        : `${basePath}${mapping.route}/${encodeURIComponent(next.key)}`;
    const method = METHODS[next.f];
    return {
      ...request,
      method,
      path,
      headers: { ...(written ? { 'content-type': 'application/json' } : {}), ...(connection.token ? { [CONSISTENCY_TOKEN_HEADER]: connection.token } : {}) },
      body: written ? JSON.stringify(written) : undefined,
    };
  };

  const onResponse = (connection: Connection, status: number, body: string, headers: Record<string, unknown> | undefined) => {
    const op = connection.inFlight;
    if (!op) return;
    connection.lastError = null;
    connection.token = header(headers, CONSISTENCY_TOKEN_HEADER_LOWER) ?? connection.token;
    let json: Record<string, unknown> | null = null;
    try {
      json = JSON.parse(body) as Record<string, unknown>;
    } catch {
      json = null;
    }
    const errorCode = (json?.error as { code?: string } | undefined)?.code;
    const completion: Completion = {
      outcome: outcomeOfStatus(op.f, status, errorCode),
      status,
      version: header(headers, 'x-app-version'),
      instance: header(headers, 'x-instance-id'),
      readSource: header(headers, 'x-read-source'),
    };
    if (status >= 400) completion.error = errorCode ?? `HTTP ${status}`;
    if (op.f === 'create' && completion.outcome === 'ok') {
      const key = createdKey(json);
      if (key !== null) {
        completion.key = key;
        users++;
        learn(key);
        if (byLookup !== null && op.value?.[byLookup.field] !== undefined) lastAsked.set(key, op.value[byLookup.field]!);
        if (hotPool.length < hotKeys.users) hotPool.push(key);
        else if (random() < sharedUsers) sharedPool.push(key);
        else connection.ownUsers.push(key);
      } else {
        // Created, but we cannot tell which row: its value may still be found in the final read.
        completion.outcome = 'info';
        completion.error = 'answer without an id';
      }
    }
    // Exactly what came back, even a broken body: judging it is the checker's job.
    if (op.f === 'read' && completion.outcome === 'ok' && status === 200) completion.value = answeredValue(recorder.fields, json);
    if (op.f === 'lookup' && completion.outcome === 'ok') {
      // Exactly what came back, row by row: a row without an id keeps an empty key (it names no row: judged on its value).
      const items = Array.isArray(json?.items) ? (json.items as Array<Record<string, unknown> | null>) : [];
      completion.found = items.map((item) => ({ key: createdKey(item) ?? '', value: answeredValue(recorder.fields, item) }));
      if (json?.truncated === true) completion.truncated = true;
    }
    complete(connection, completion);
    if (draining) closeConnection(connection);
  };

  const startedAt = performance.now();
  const progress = (): LoadProgress => {
    const elapsedMs = performance.now() - startedAt;
    return { elapsedMs, ...counts, perSecond: elapsedMs > 0 ? (counts.requests * 1000) / elapsedMs : 0, users, step: recorder.currentStep };
  };

  let instance: autocannon.Instance | undefined;
  let backstop: NodeJS.Timeout | undefined;
  const drain = () => {
    if (draining) return;
    draining = true;
    for (const connection of connectionsList) if (!connection.inFlight) closeConnection(connection);
    backstop = setTimeout(() => instance?.stop(), (timeoutSeconds + 1) * 1000);
  };
  const run = new Promise<void>((resolve, reject) => {
    instance = autocannon(
      {
        url: origin,
        connections,
        // Only a backstop: the load drains at durationSeconds (below).
        duration: durationSeconds + timeoutSeconds + 2,
        maxOverallRequests: Math.max(maxRequests, connections),
        ...(options.rate === undefined ? {} : { overallRate: options.rate }),
        timeout: timeoutSeconds,
        pipelining: 1,
        sampleInt: 250,
        // Replaced per connection in setupClient; never sent. A key the run knows, if any: not every key looks like 1.
        requests: [{ method: 'GET', path: `${basePath}${mapping.route}/${encodeURIComponent(existingUsers[0] ?? '1')}` }],
        // autocannon resets `context` after each pass through `requests`, so with one request per pass it keeps
        // nothing between requests: each connection's state lives in the closures given to it here instead.
        setupClient: (client) => {
          const connection: Connection = {
            process: connectionsList.length,
            ownUsers: ownPools[connectionsList.length] ?? [],
            inFlight: null,
            lastError: null,
            retry: null,
            token: null,
            close: () => (client as unknown as { destroy(): void }).destroy(),
            closed: false,
          };
          connectionsList.push(connection);
          (client as unknown as NodeJS.EventEmitter).on('connError', (err: NodeJS.ErrnoException) => {
            connection.lastError = err;
          });
          client.setRequests([
            {
              setupRequest: (request) => setupRequest(connection, request),
              onResponse: (status, body, _context, headers) => onResponse(connection, status, body, headers as Record<string, unknown> | undefined),
            },
          ]);
        },
      },
      (err) => (err ? reject(err) : resolve()),
    );
  });
  if (signal?.aborted) drain();
  signal?.addEventListener('abort', drain, { once: true });
  const deadline = setTimeout(drain, durationSeconds * 1000);
  const ticker = onProgress ? setInterval(() => onProgress(progress()), 1000) : undefined;
  try {
    await run;
  } finally {
    signal?.removeEventListener('abort', drain);
    clearTimeout(deadline);
    clearTimeout(backstop);
    if (ticker) clearInterval(ticker);
  }
  const stoppedBy = signal?.aborted ? 'signal' : counts.requests >= maxRequests ? 'maxRequests' : 'duration';
  // Requests still in flight when the backstop stopped autocannon were dropped with their connections.
  for (const connection of connectionsList) {
    if (connection.inFlight) {
      connection.lastError = null;
      complete(connection, { outcome: outcomeOfNoResponse(connection.inFlight.f, { sent: true }), error: 'abandoned when the load stopped' });
    }
  }
  const summary: LoadSummary = { ...progress(), sharedUsers: sharedPool.length, hotUsers: [...hotPool], stoppedBy };
  onProgress?.(summary);
  return summary;
}

/** One status line, gh-ost style: progress, rate, and where the rollout is. */
export function formatProgress(p: LoadProgress, durationSeconds?: number): string {
  const eta = durationSeconds ? `, ${Math.max(0, durationSeconds - p.elapsedMs / 1000).toFixed(0)} s left at most` : '';
  return `load [${p.step}] ${(p.elapsedMs / 1000).toFixed(1)} s: ${p.requests} requests (${p.perSecond.toFixed(0)}/s), ${p.ok} ok, ${p.failed} failed, ${p.unknown} unknown, ${p.retries} retries, ${p.users} users${eta}`;
}

interface HttpAnswer {
  status: number;
  json: Record<string, unknown> | null;
  headers: http.IncomingHttpHeaders;
}

function get(agent: http.Agent, url: string, timeoutMs: number): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent, timeout: timeoutMs }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('error', reject);
      response.on('end', () => {
        let json: Record<string, unknown> | null = null;
        try {
          json = JSON.parse(body) as Record<string, unknown>;
        } catch {
          json = null;
        }
        resolve({ status: response.statusCode ?? 0, json, headers: response.headers });
      });
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

/**
 * The final read: every user's value through the HTTP contract, after the load stopped. A 404 is "no such user";
 * any other failure is retried, then thrown (a final read must be complete to judge lost writes). Its connections
 * are closed at the end: an idle keep-alive connection left open would hold up an instance's drain.
 */
export async function readFinalValues(url: string, keys: string[], { clock = () => performance.now(), concurrency = 8, attempts = 3, timeoutMs = 5000, fields = mapping.oldColumnNames } = {}): Promise<FinalRead[]> {
  const { origin, basePath } = loadTarget(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const reads: FinalRead[] = [];
  let next = 0;
  const readOne = async (key: string): Promise<FinalRead> => {
    let lastError = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const { status, json, headers } = await get(agent, `${origin}${basePath}${mapping.route}/${encodeURIComponent(key)}`, timeoutMs);
        const served = {
          ...(headers['x-app-version'] ? { version: String(headers['x-app-version']) } : {}),
          ...(headers['x-instance-id'] ? { instance: String(headers['x-instance-id']) } : {}),
          ...(headers['x-read-source'] ? { readSource: String(headers['x-read-source']) } : {}),
        };
        if (status === 200) return { key, value: answeredValue(fields, json), at: clock(), ...served };
        if (status === 404 && (json?.error as { code?: string } | undefined)?.code === 'not_found') return { key, value: null, at: clock(), ...served };
        lastError = `HTTP ${status}`;
      } catch (err) {
        lastError = (err as Error).message;
      }
    }
    throw new Error(`final read of ${mapping.entity} ${key} failed ${attempts} times: ${lastError}`);
  };
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++]!;
      reads.push(await readOne(key));
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, keys.length) }, worker));
  } finally {
    agent.destroy();
  }
  return reads.sort((a, b) => compareKeys(a.key, b.key));
}
