// Running the project's own commands from the demo, exactly as a person would type them (npm run ...), and
// small HTTP helpers for the live checks. Output is indented under the step that ran it.
import { spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface ToolResult {
  code: number | null;
  output: string;
  ms: number;
}

/** Runs `cli/<script>.ts args` with the demo's DATABASE_URL; prints its output indented; never throws on exit code. */
export function runTool(script: string, args: string[], env: Record<string, string>, { quiet = false } = {}): Promise<ToolResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'cli', `${script}.ts`), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk;
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
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
