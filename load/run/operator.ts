// Running the project's own commands from the demo, exactly as a person would type them (npm run ...), and
// small HTTP helpers for the live checks (recorded in the history as external writes, so that the checker judges
// them and knows whose rows they are). Output is indented under the step that ran it.
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { answeredValue, createdKey, EXTERNAL_PROCESS, outcomeOfNoResponse, outcomeOfStatus } from '../proof/history.ts';
import type { Completion, HistoryRecorder, OpKind, RecordValue } from '../proof/history.ts';
import { spawnNode } from '../infra/cleanup.ts';
import { mapping } from '../../shared/schema-mapping.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface ToolResult {
  code: number | null;
  output: string;
  ms: number;
}

/**
 * `node --import tsx cli/<script>.ts args` with exactly `env`, owned by the run (load/infra/cleanup.ts): stopped
 * on an interrupt, and it exits by itself if the run dies.
 */
export function spawnTool(script: string, args: string[], env: NodeJS.ProcessEnv, stdio: ['ignore', 'pipe' | 'ignore', 'pipe' | 'ignore'] = ['ignore', 'pipe', 'pipe']): ChildProcess {
  return spawnNode('process', script, [path.join(ROOT, 'cli', `${script}.ts`), ...args], { cwd: ROOT, env, stdio });
}

/** Runs `cli/<script>.ts args` with the demo's DATABASE_URL; prints its output indented; never throws on exit code. */
export function runTool(script: string, args: string[], env: Record<string, string>, { quiet = false } = {}): Promise<ToolResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawnTool(script, args, { ...process.env, ...env });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk;
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    child.on('close', (code) => {
      if (!quiet) for (const line of output.trimEnd().split('\n')) if (line) console.log(`     | ${line}`);
      resolve({ code, output, ms: Math.round(performance.now() - started) });
    });
  });
}

export async function httpJson(method: string, url: string, body?: object): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(url, {
    method,
    headers: body ? { 'content-type': 'application/json', connection: 'close' } : { connection: 'close' },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(5000),
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { raw: text };
  }
  return { status: response.status, json, headers: response.headers };
}

/** By key: a lookup (a query, not a key) is not made by hand here. */
const METHOD_OF: Record<Exclude<OpKind, 'lookup'>, string> = { create: 'POST', write: 'PUT', patch: 'PATCH', delete: 'DELETE', read: 'GET' };

/**
 * One request made outside the load client (the demo's cross-version check), recorded in the history as
 * external: its write explains the row it creates or changes, and the checker judges its reads like any other.
 * `url` is the instance's origin; `key` null for a create.
 */
export async function externalRequest(
  recorder: HistoryRecorder,
  external: string,
  { f, url, key, value }: { f: Exclude<OpKind, 'lookup'>; url: string; key: string | null; value?: RecordValue },
): ReturnType<typeof httpJson> {
  const op = recorder.invoke({ process: EXTERNAL_PROCESS, f, key, ...(value ? { value } : {}), external });
  let answer: Awaited<ReturnType<typeof httpJson>>;
  try {
    answer = await httpJson(METHOD_OF[f], key === null ? `${url}${mapping.route}` : `${url}${mapping.route}/${encodeURIComponent(key)}`, value);
  } catch (err) {
    recorder.complete(op, { outcome: outcomeOfNoResponse(f, { sent: true }), error: (err as Error).message });
    throw err;
  }
  const { status, json, headers } = answer;
  const errorCode = (json.error as { code?: string } | undefined)?.code;
  const completion: Completion = {
    outcome: outcomeOfStatus(f, status, errorCode),
    status,
    ...(status >= 400 ? { error: errorCode ?? `HTTP ${status}` } : {}),
    ...(headers.get('x-app-version') ? { version: headers.get('x-app-version')! } : {}),
    ...(headers.get('x-instance-id') ? { instance: headers.get('x-instance-id')! } : {}),
    ...(headers.get('x-read-source') ? { readSource: headers.get('x-read-source')! } : {}),
  };
  if (f === 'create' && completion.outcome === 'ok') {
    const created = createdKey(json);
    if (created !== null) completion.key = created;
    else Object.assign(completion, { outcome: 'info', error: 'answer without an id' });
  }
  if (f === 'read' && completion.outcome === 'ok' && status === 200) completion.value = answeredValue(recorder.fields, json);
  recorder.complete(op, completion);
  return answer;
}
