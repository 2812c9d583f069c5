// The Jepsen-style history of a load run: every request is an operation that is invoked, then completes
// ok, fail (it definitely had no effect) or info (its outcome is unknown: it may take effect at any time after
// its invocation, or never). The load generator records it, the checker (load/proof/checker/) judges it.
// One clock for the whole process (performance.now(), ms as a float): the orchestrator stamps database
// snapshots with the same recorder so that the checker can compare them with the operations.
// The history names its own fields (the first event of the file): a value is one string per field, and the
// runners pass the mapping's old columns, so the checker judges any mapping without importing it.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

/**
 * create (POST), write (PUT: every field), patch (PATCH: the fields its value names), delete (DELETE: a write of
 * "absent"), read (GET by key), lookup (GET <route>?<param>=<value>: a read of the set of rows holding a value, made
 * to find the row `key` by the value last written to it).
 */
export const OP_KINDS = ['create', 'write', 'patch', 'delete', 'read', 'lookup'] as const;
export type OpKind = (typeof OP_KINDS)[number];
export type Outcome = 'ok' | 'fail' | 'info';

/**
 * A value as the history records it: one string per field of the history, keyed by field name. A read records
 * exactly what came back, so a broken answer may lack a field or hold something else: judging it is the checker's job.
 */
export type RecordValue = Record<string, string>;

/** The history process of requests made outside the load client (not one of its connections). */
export const EXTERNAL_PROCESS = -1;

/** A written value (a row, a seed, a generated write) with exactly the history's fields; throws when one is not a string. */
export function historyValue(fields: readonly string[], record: Readonly<Record<string, unknown>>): RecordValue {
  const value: RecordValue = {};
  for (const field of fields) {
    const text = record[field];
    if (typeof text !== 'string') throw new Error(`the history records every field (${fields.join(', ')}) as a string, got ${JSON.stringify(record)}`);
    value[field] = text;
  }
  return value;
}

/**
 * An answer's body as a read records it: the history's fields exactly as they came back, even a missing one or
 * one that is not a string (the checker reports it as garbage; the recorder must not repair it).
 */
export function answeredValue(fields: readonly string[], body: Readonly<Record<string, unknown>> | null | undefined): RecordValue {
  return Object.fromEntries(fields.map((field) => [field, body?.[field]])) as RecordValue;
}

/** A row a lookup answered: its key and its value as it came back (exactly, as a read records it). */
export interface FoundRow {
  key: string;
  value: RecordValue;
}

/** A read of something (by key or by lookup): no effect, so a missing answer is a failure, never an unknown outcome. */
export const isReadKind = (f: OpKind) => f === 'read' || f === 'lookup';

export interface Op {
  id: number;
  /** The load connection (a session): one operation at a time. */
  process: number;
  f: OpKind;
  /**
   * The row's key as the route names it, an opaque string (`"42"`, a UUID): known once a create is answered; null
   * for a create whose answer never came.
   */
  key: string | null;
  /**
   * The written value (create, write: every field; patch: the fields it sets, and only those; delete: none), or
   * the returned value of an ok read (absent: 404, no such user); for a lookup, what it asked for as one field of
   * the history (`{ email: "..." }`; `{ address: "..." }` for a lookup by the postcode computed from that address:
   * load/proof/generator.ts, loadLookup).
   */
  value?: RecordValue;
  /** An answered lookup's rows (key and value of each), in the order answered. */
  found?: FoundRow[];
  /** An answered lookup said there were more rows than it returned. */
  truncated?: boolean;
  invokeAt: number;
  /** null while pending and for info operations: they have no end. */
  completeAt: number | null;
  outcome: Outcome;
  status?: number;
  error?: string;
  version?: string;
  instance?: string;
  readSource?: string;
  /** The rollout step the operation was invoked in. */
  step: string;
  /** 1 on a client retry of an earlier operation (retryOf) that got no response. */
  retries?: number;
  retryOf?: number;
  /**
   * Set on a write made outside the load client (the demo's cross-version check, a sandbox user's curl): who
   * made it. It explains the rows it touched; the checker judges reads against it like any other write, but
   * does not count it as a load session.
   */
  external?: string;
}

/** A user that existed before the load, with its value (a write that completed before every operation). */
export interface InitialValue {
  key: string;
  value: RecordValue;
}

/** The value of one user after the load: a read that begins after every operation ended. null = no such user. */
export interface FinalRead {
  key: string;
  value: RecordValue | null;
  at: number;
  version?: string;
  instance?: string;
  readSource?: string;
}

export interface RecordedHistory {
  /** The fields of every value, in order (the mapping's old columns when a runner recorded it). */
  fields: readonly string[];
  ops: Op[];
  initial: InitialValue[];
  /** Empty when no final read was taken. */
  final: FinalRead[];
  /** Rollout steps in the order they began, with the time each began. */
  steps: Array<{ step: string; at: number }>;
}

export interface Completion {
  outcome: Outcome;
  status?: number;
  key?: string;
  value?: RecordValue;
  found?: FoundRow[];
  truncated?: boolean;
  error?: string;
  version?: string;
  instance?: string;
  readSource?: string;
}

/**
 * A PUT or PATCH answered 404: the row was gone (a DELETE won the race). An observation, judged as a read of
 * "absent", never a failed request: the checker, the step table and the per-second figures all count it so.
 */
export function observedAbsence(op: Op): boolean {
  return op.outcome === 'fail' && (op.f === 'write' || op.f === 'patch') && op.status === 404 && op.completeAt !== null;
}

/** Answered as the load expects (ok, or an observed absence): not an error in any figure. */
export function answered(op: Op): boolean {
  return op.completeAt !== null && (op.outcome === 'ok' || observedAbsence(op));
}

/**
 * What an HTTP answer says about the effect of an operation. 2xx: ok. A 404 for a read is an ok observation
 * ("no such user"). A 404 for a DELETE is ok too: the row is absent when it answers, and a load deletes each row
 * once, so it is this delete that took effect (an attempt the balancer re-sent after the first one had landed).
 * Any other 4xx: refused, no effect (a PUT or PATCH answered 404 observed that the row did not exist). 5xx: a read
 * had no effect anyway (fail); a write may have been applied before the error (info).
 */
export function outcomeOfStatus(f: OpKind, status: number, errorCode?: string): Outcome {
  if (status >= 200 && status < 300) return 'ok';
  if ((f === 'read' || f === 'delete') && status === 404 && (errorCode === undefined || errorCode === 'not_found')) return 'ok';
  if (status >= 500) return isReadKind(f) ? 'fail' : 'info';
  return 'fail';
}

/** The key a create's answer names: its `id`, a number or a non-empty string, as an opaque string; null when none. */
export function createdKey(json: Readonly<Record<string, unknown>> | null | undefined): string | null {
  const id = json?.id;
  if (typeof id === 'number' && Number.isFinite(id)) return String(id);
  if (typeof id === 'string' && id !== '') return id;
  return null;
}

/**
 * What a missing answer says. A connection refused before anything was sent: no effect (fail). A reset, a close
 * or a timeout after the request was sent: a read had no effect (fail), a write may have (info).
 */
export function outcomeOfNoResponse(f: OpKind, { sent }: { sent: boolean }): Outcome {
  return isReadKind(f) || !sent ? 'fail' : 'info';
}

/**
 * The order keys are listed in (final reads, examples, reports): shorter first, then by code unit. Integer keys
 * (no leading zeros) come out in numeric order, as they did when keys were numbers; keys of one length (UUIDs) in
 * string order.
 */
export function compareKeys(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

export function defaultHistoryFile(): string {
  return path.join(path.resolve(process.env.RESULTS_DIR || 'results'), 'history.jsonl');
}

export interface HistoryRecorderOptions {
  /** The fields of every value (runners pass the mapping's old columns): the file's first event names them. */
  fields: readonly string[];
  /** JSONL file the events are appended to as they happen; null keeps the history in memory only. */
  file?: string | null;
  step?: string;
  clock?: () => number;
  /**
   * Keep only about this many of the most recent operations in `ops` (a ring; the file has every one): the
   * sandbox runs for a whole workshop. Default: every operation (a demo's report counts them all at the end).
   */
  keepOps?: number;
  /** Called as each operation completes, before anything can judge it (the sandbox spots writes made by hand). */
  onComplete?: (op: Op) => void;
}

/**
 * Records operations as they happen, in memory and as JSONL events (fields first, then invoke, complete, initial,
 * final, step):
 * a run that dies half-way still leaves a history whose pending writes read back as info.
 */
export class HistoryRecorder {
  /** The operations in invocation order; with keepOps, only the most recent (`dropped` came before them). */
  readonly ops: Op[] = [];
  /** How many operations left the front of `ops` (keepOps): ops[i] is the (dropped + i)-th operation recorded. */
  dropped = 0;
  readonly initial: InitialValue[] = [];
  readonly final: FinalRead[] = [];
  readonly steps: Array<{ step: string; at: number }> = [];
  readonly file: string | null;
  readonly fields: readonly string[];
  private step: string;
  private nextId = 1;
  private readonly pendingOps = new Map<number, Op>();
  private readonly stream: fs.WriteStream | null;
  private readonly clock: () => number;
  private readonly keepOps: number;
  private readonly onComplete: ((op: Op) => void) | undefined;

  constructor({ fields, file = defaultHistoryFile(), step = 'load', clock = () => performance.now(), keepOps = Infinity, onComplete }: HistoryRecorderOptions) {
    this.fields = checkedFields(fields, (what) => new Error(`history fields: ${what}`));
    this.file = file;
    this.clock = clock;
    this.keepOps = keepOps;
    this.onComplete = onComplete;
    if (file) fs.mkdirSync(path.dirname(file), { recursive: true });
    this.stream = file ? fs.createWriteStream(file, { flags: 'w' }) : null;
    this.write({ type: 'fields', fields: this.fields });
    this.step = step;
    this.markStep(step);
  }

  now(): number {
    return this.clock();
  }

  /** The rollout step every later invocation belongs to. */
  get currentStep(): string {
    return this.step;
  }

  set currentStep(step: string) {
    if (step === this.step) return;
    this.step = step;
    this.markStep(step);
  }

  invoke(request: { process: number; f: OpKind; key: string | null; value?: RecordValue; retryOf?: number; external?: string }): Op {
    const op: Op = {
      id: this.nextId++,
      process: request.process,
      f: request.f,
      key: request.key,
      ...(request.value ? { value: request.value } : {}),
      invokeAt: this.clock(),
      completeAt: null,
      outcome: 'info',
      step: this.step,
      ...(request.retryOf !== undefined ? { retries: 1, retryOf: request.retryOf } : {}),
      ...(request.external !== undefined ? { external: request.external } : {}),
    };
    this.push(op);
    this.pendingOps.set(op.id, op);
    this.write({ type: 'invoke', id: op.id, process: op.process, f: op.f, key: op.key, value: op.value, at: op.invokeAt, step: op.step, retryOf: op.retryOf, external: op.external });
    return op;
  }

  /** Every operation recorded so far, including those no longer in `ops`. */
  get recorded(): number {
    return this.dropped + this.ops.length;
  }

  /**
   * A write made outside the load that nobody recorded as it happened (a curl or an SQL statement by hand in the
   * sandbox), known from a read that returned its value: it took effect after `since` and before `by` (that read's
   * completion). Recorded as an acknowledged write over that interval, marked external: the checker may place it
   * anywhere in it, so the reads of its value are explained, and no other read is.
   */
  recordInferredWrite({ key, value, external, since, by }: { key: string; value: RecordValue; external: string; since: number; by: number }): Op {
    const op: Op = { id: this.nextId++, process: EXTERNAL_PROCESS, f: 'write', key, value, invokeAt: since, completeAt: by, outcome: 'ok', step: this.step, external };
    this.push(op);
    this.write({ type: 'invoke', id: op.id, process: op.process, f: op.f, key, value, at: since, step: op.step, external });
    this.write({ type: 'complete', id: op.id, outcome: 'ok', at: by, key });
    return op;
  }

  private push(op: Op): void {
    this.ops.push(op);
    // Trimmed in chunks (a quarter of the ring at a time), so that keeping the ring costs O(1) per operation.
    if (this.ops.length > this.keepOps * 1.25) {
      const drop = this.ops.length - this.keepOps;
      this.ops.splice(0, drop);
      this.dropped += drop;
    }
  }

  complete(op: Op, completion: Completion): Op {
    if (!this.pendingOps.delete(op.id)) throw new Error(`operation ${op.id} is not pending`);
    op.outcome = completion.outcome;
    op.completeAt = completion.outcome === 'info' ? null : this.clock();
    if (completion.key !== undefined) op.key = completion.key;
    if (op.f === 'read') {
      if (completion.value) op.value = completion.value;
      else delete op.value;
    }
    if (op.f === 'lookup' && completion.found) {
      op.found = completion.found;
      if (completion.truncated) op.truncated = true;
    }
    for (const field of ['status', 'error', 'version', 'instance', 'readSource'] as const) {
      if (completion[field] !== undefined) (op as unknown as Record<string, unknown>)[field] = completion[field];
    }
    this.write({
      type: 'complete',
      id: op.id,
      outcome: op.outcome,
      at: op.completeAt,
      key: op.key,
      value: op.f === 'read' ? op.value : undefined,
      found: op.found,
      truncated: op.truncated,
      status: op.status,
      error: op.error,
      version: op.version,
      instance: op.instance,
      readSource: op.readSource,
    });
    this.onComplete?.(op);
    return op;
  }

  pending(): Op[] {
    return [...this.pendingOps.values()];
  }

  recordInitial(users: InitialValue[]): void {
    for (const user of users) {
      this.initial.push(user);
      this.write({ type: 'initial', key: user.key, value: user.value });
    }
  }

  recordFinal(reads: FinalRead[]): void {
    for (const read of reads) {
      this.final.push(read);
      this.write({ type: 'final', ...read });
    }
  }

  /** Every key the history knows: seeded, created (and answered), or named by an operation (in `ops`); in compareKeys order. */
  keys(): string[] {
    const keys = new Set<string>(this.initial.map((u) => u.key));
    for (const op of this.ops) if (op.key !== null) keys.add(op.key);
    return [...keys].sort(compareKeys);
  }

  history(): RecordedHistory {
    return { fields: this.fields, ops: this.ops, initial: this.initial, final: this.final, steps: this.steps };
  }

  /** Operations still pending are abandoned: a read had no effect (fail), a write may have (info). */
  async close(): Promise<void> {
    for (const op of this.pending()) {
      this.complete(op, { outcome: outcomeOfNoResponse(op.f, { sent: true }), error: 'abandoned when the load stopped' });
    }
    if (!this.stream) return;
    await new Promise<void>((resolve, reject) => {
      this.stream!.once('error', reject);
      this.stream!.end(resolve);
    });
  }

  private markStep(step: string): void {
    const at = this.clock();
    this.steps.push({ step, at });
    this.write({ type: 'step', step, at });
  }

  private write(event: Record<string, unknown>): void {
    this.stream?.write(`${JSON.stringify(event)}\n`);
  }
}

export class HistoryFormatError extends Error {
  override name = 'HistoryFormatError';
}

/** A field list: at least one field, each a distinct non-empty string. */
function checkedFields(fields: unknown, fail: (what: string) => Error): string[] {
  if (!Array.isArray(fields) || fields.length === 0 || fields.some((field) => typeof field !== 'string' || field === '')) throw fail(`must be a non-empty list of field names, got ${JSON.stringify(fields)}`);
  if (new Set(fields).size !== fields.length) throw fail(`names a field twice: ${JSON.stringify(fields)}`);
  return [...(fields as string[])];
}

/**
 * An event's key: `key`, a string; or, in a history recorded before keys were strings, `userId`, a number. null
 * when it has neither (a create whose answer never came).
 */
function keyOf(event: Record<string, unknown>): string | null {
  if (typeof event.key === 'string') return event.key;
  if (typeof event.userId === 'number') return String(event.userId);
  return null;
}

/**
 * Reads a JSONL history back. An invocation without a completion is a write of unknown outcome, or a failed read.
 * The fields event must come before any event that carries a value: without it the values cannot be judged.
 */
export function parseHistory(text: string): RecordedHistory {
  const history: RecordedHistory = { fields: [], ops: [], initial: [], final: [], steps: [] };
  let fields: string[] | null = null;
  const byId = new Map<number, Op>();
  const completed = new Set<number>();
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.trim();
    if (!line) continue;
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new HistoryFormatError(`line ${index + 1}: not JSON`);
    }
    const fail = (what: string): never => {
      throw new HistoryFormatError(`line ${index + 1}: ${what}`);
    };
    if (event.value !== undefined && event.value !== null && !fields) fail('a value before the fields event (the history names its fields first)');
    switch (event.type) {
      case 'fields':
        if (fields) fail('a second fields event');
        fields = checkedFields(event.fields, (what) => new HistoryFormatError(`line ${index + 1}: fields ${what}`));
        history.fields = fields;
        break;
      case 'invoke': {
        const op: Op = {
          id: event.id as number,
          process: event.process as number,
          f: event.f as OpKind,
          key: keyOf(event),
          ...(event.value ? { value: event.value as RecordValue } : {}),
          invokeAt: event.at as number,
          completeAt: null,
          outcome: 'info',
          step: (event.step as string) ?? 'load',
          ...(typeof event.retryOf === 'number' ? { retries: 1, retryOf: event.retryOf } : {}),
          ...(typeof event.external === 'string' ? { external: event.external } : {}),
        };
        if (typeof op.id !== 'number' || typeof op.invokeAt !== 'number' || !(OP_KINDS as readonly string[]).includes(op.f)) fail('invalid invoke event');
        if (byId.has(op.id)) fail(`operation ${op.id} invoked twice`);
        byId.set(op.id, op);
        history.ops.push(op);
        break;
      }
      case 'complete': {
        const op = byId.get(event.id as number) ?? fail(`completion of unknown operation ${String(event.id)}`);
        if (!['ok', 'fail', 'info'].includes(event.outcome as string)) fail('invalid outcome');
        completed.add(op.id);
        op.outcome = event.outcome as Outcome;
        op.completeAt = op.outcome === 'info' ? null : (event.at as number);
        if (op.outcome !== 'info' && typeof op.completeAt !== 'number') fail('completion without a time');
        const key = keyOf(event);
        if (key !== null) op.key = key;
        if (op.f === 'read' && event.value) op.value = event.value as RecordValue;
        if (op.f === 'lookup' && Array.isArray(event.found)) {
          op.found = (event.found as Array<Record<string, unknown>>).map((row) => ({ key: keyOf(row) ?? fail('a lookup row without a key'), value: row.value as RecordValue }));
          if (event.truncated === true) op.truncated = true;
        }
        for (const field of ['status', 'error', 'version', 'instance', 'readSource'] as const) {
          if (event[field] !== undefined) (op as unknown as Record<string, unknown>)[field] = event[field];
        }
        break;
      }
      case 'initial':
        history.initial.push({ key: keyOf(event) ?? fail('an initial value without a key'), value: event.value as RecordValue });
        break;
      case 'final':
        history.final.push({
          key: keyOf(event) ?? fail('a final read without a key'),
          value: (event.value as RecordValue | null) ?? null,
          at: event.at as number,
          ...(event.version ? { version: event.version as string } : {}),
          ...(event.instance ? { instance: event.instance as string } : {}),
          ...(event.readSource ? { readSource: event.readSource as string } : {}),
        });
        break;
      case 'step':
        history.steps.push({ step: event.step as string, at: event.at as number });
        break;
      default:
        fail(`unknown event type ${JSON.stringify(event.type)}`);
    }
  }
  if (!fields) throw new HistoryFormatError('no fields event: the history does not name the fields of its values');
  for (const op of history.ops) {
    if (!completed.has(op.id)) op.outcome = outcomeOfNoResponse(op.f, { sent: true });
  }
  return history;
}

export function readHistory(file: string): RecordedHistory {
  return parseHistory(fs.readFileSync(file, 'utf8'));
}
