// What an instance's server keeps per request must not be promoted to V8's old generation. The server's
// bookkeeping of unanswered responses (shared/server/lifecycle.ts) was a Set: V8 allocates a Set's replacement
// table in the generation of the table it replaces, so once one table was old, every later table was born old
// and kept the responses in it alive through young collections: every response was promoted, about 2 KB per
// request here and about 10 KB per request on an instance, whose resident memory then climbed from ~105 MB to
// 155-165 MB (docs/performance.md). Measured with V8's own count of promoted bytes (--trace-gc-nvp) in a child
// process (test/support/promotion-probe.ts): bytes, not time, so a slow machine measures the same.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
const PROBE = path.join(ROOT, 'test', 'support', 'promotion-probe.ts');
const REQUESTS = 20_000;

/** Runs the probe; the bytes promoted by the young-generation collections between its two markers. */
async function promotedDuringLoad(control: 'none' | 'set'): Promise<{ perRequest: number; youngCollections: number }> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--trace-gc-nvp', '--import', 'tsx', PROBE], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PROBE_REQUESTS: String(REQUESTS), PROBE_CONTROL: control },
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const lines = stdout.split('\n');
  const start = lines.indexOf('PROBE-START');
  const end = lines.indexOf('PROBE-END');
  expect(start, 'the probe printed PROBE-START').toBeGreaterThanOrEqual(0);
  expect(end, 'the probe printed PROBE-END after it').toBeGreaterThan(start);
  let promoted = 0;
  let youngCollections = 0;
  for (const line of lines.slice(start + 1, end)) {
    if (!/\bgc=s\b/.test(line)) continue;
    const bytes = /\bpromoted=(\d+)\b/.exec(line);
    expect(bytes, `a young collection's line names its promoted bytes: ${line.slice(0, 120)}`).not.toBeNull();
    promoted += Number(bytes![1]);
    youngCollections++;
  }
  return { perRequest: promoted / REQUESTS, youngCollections };
}

describe("the server's per-request bookkeeping and V8's old generation", () => {
  it('When 20,000 requests pass through a server from listen() after an idle moment, then under 256 bytes per request are promoted', async () => {
    const { perRequest, youngCollections } = await promotedDuringLoad('none');

    // Enough young collections that a per-request promotion would show (30-50 measured here).
    expect(youngCollections).toBeGreaterThanOrEqual(10);
    // 4 bytes per request measured with the array; 2,064-2,069 with the Set it replaced.
    expect(perRequest).toBeLessThan(256);
  });

  it('When the same server also keeps its unanswered responses in a Set, as lifecycle.ts did, then over 1 KB per request is promoted (the probe sees the fault)', async () => {
    const { perRequest, youngCollections } = await promotedDuringLoad('set');

    expect(youngCollections).toBeGreaterThanOrEqual(10);
    // 2,390-2,400 bytes per request measured here.
    expect(perRequest).toBeGreaterThan(1024);
  });
});
