// What the HTTP parts of make bench share, opened once: one database of the bench's own with seeded users, v1
// beside v2, the tsx instances' memory sampled while they serve, and the compiled build for the memory parts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { own } from '../infra/cleanup.ts';
import type { BenchContext, HttpContext } from './context.ts';
import { buildCompiled, HttpFixture } from './fixture.ts';
import { sampleResidentMemory } from './http-load.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** The HTTP parts' shared setup, opened once: its context, the tsx instances' memory peaks, and close(). */
export interface HttpParts {
  context: HttpContext;
  /** Peak resident memory of the tsx v1 and v2 (as `npm run start:vN` runs them) since they started; stops sampling. */
  tsxPeaks(): { v1PeakMb: number | null; v2PeakMb: number | null };
  /** Stops every instance, drops the database, removes the compiled build. */
  close(): Promise<void>;
}

/**
 * One database of the bench's own with 1000 users for writes and 1000 others for reads, flags at their start
 * values, and v1 beside v2 (`single`), as the write, read, nginx, memory and soak parts share them.
 */
export async function openHttpParts(base: BenchContext): Promise<HttpParts> {
  const fixture = await HttpFixture.create(base.options.mysqlUrl, base.options.poolMax);
  try {
    // Writes and reads use separate users: a v1 PUT leaves profile_data stale, which would turn the reads at
    // read-new 100% into fallbacks and measure something else.
    const writeIds = await fixture.seedUsers(1000, 'write');
    const readIds = await fixture.seedUsers(1000, 'read');
    await fixture.setFlags({ 'read-new-percent': 0, 'dual-read': false });
    const [v1, v1Again, v2] = await Promise.all([fixture.start('v1'), fixture.start('v1'), fixture.start('v2', { DUAL_WRITE_STRATEGY: 'single', ...base.slowV2 })]);
    const v1Memory = sampleResidentMemory([v1.pid]);
    const v2Memory = sampleResidentMemory([v2.pid]);
    let tsxPeaks: { v1PeakMb: number | null; v2PeakMb: number | null } | undefined;
    // The image runs compiled JS under plain node: the memory and soak parts measure that, built once. The
    // build folder is owned like a process: an interrupt removes it (load/infra/cleanup.ts).
    let build: { dir: string; release: () => void; built: Promise<{ dist: string } | { skipped: string }> } | undefined;
    const compiled = () => {
      if (!build) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-build-'));
        const release = own({ kind: 'folder', name: dir, stop: async () => fs.rmSync(dir, { recursive: true, force: true }), reap: { folder: dir } });
        const built = buildCompiled(ROOT, dir).then((result) => {
          if ('skipped' in result) {
            base.log(`memory: no compiled build (${result.skipped}): the memory figures are not measured`);
            return result;
          }
          return { dist: result.dir };
        });
        build = { dir, release, built };
      }
      return build.built;
    };
    const stopSampling = () => (tsxPeaks ??= { v1PeakMb: v1Memory.stop(), v2PeakMb: v2Memory.stop() });
    return {
      context: { ...base, fixture, v1, v1Again, v2, writeIds, readIds, compiled },
      tsxPeaks: stopSampling,
      async close() {
        stopSampling();
        if (build) {
          await build.built.catch(() => {});
          fs.rmSync(build.dir, { recursive: true, force: true });
          build.release();
        }
        await fixture.close();
      },
    };
  } catch (err) {
    await fixture.close().catch(() => {});
    throw err;
  }
}
