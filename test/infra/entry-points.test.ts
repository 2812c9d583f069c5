// make test runs the apps and tools it starts as their compiled JS (COMPILED_ENTRY_POINTS=.compiled, built by
// `npm run build:test`): which file node runs for an entry point (load/infra/entry-points.ts), and that the
// compiled tool answers as the TypeScript one does.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compiledEntry } from '../../load/infra/entry-points.ts';
import { runScript } from '../support/scripts.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('compiled entry points', () => {
  const saved = process.env.COMPILED_ENTRY_POINTS;
  const dirs: string[] = [];
  afterEach(() => {
    if (saved === undefined) delete process.env.COMPILED_ENTRY_POINTS;
    else process.env.COMPILED_ENTRY_POINTS = saved;
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  /** A build directory holding only `files` (relative paths, as the build lays them out). */
  const build = (files: string[]) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdr-compiled-'));
    dirs.push(dir);
    for (const file of files) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), '');
    }
    return dir;
  };

  it('When COMPILED_ENTRY_POINTS is unset, then every entry point runs under tsx', () => {
    delete process.env.COMPILED_ENTRY_POINTS;

    expect(compiledEntry('cli/rollout.ts')).toBeNull();
    expect(compiledEntry(path.join(ROOT, 'app-v2', 'server.ts'))).toBeNull();
  });

  it('When it names a build, then a file the build compiled runs as its JS (relative or absolute path), and one it did not compile, a path outside the project or a non-TypeScript file runs as before', () => {
    const dir = build(['cli/rollout.js', 'app-v2/server.js', 'outside.js']);
    process.env.COMPILED_ENTRY_POINTS = dir;

    expect(compiledEntry('cli/rollout.ts')).toBe(path.join(dir, 'cli', 'rollout.js'));
    expect(compiledEntry(path.join(ROOT, 'app-v2', 'server.ts'))).toBe(path.join(dir, 'app-v2', 'server.js'));
    expect(compiledEntry('load/rollout/demo.ts')).toBeNull();
    expect(compiledEntry(path.join(ROOT, '..', 'outside.ts'))).toBeNull();
    expect(compiledEntry('cli/rollout.js')).toBeNull();
  });

  it.skipIf(!process.env.COMPILED_ENTRY_POINTS)('When make test runs it, then a tool started by the tests is the compiled one and refuses a bad argument exactly as under tsx', async () => {
    const compiled = compiledEntry('cli/rollout.ts');
    const asCompiled = await runScript('cli/rollout.ts', ['sideways'], {});
    delete process.env.COMPILED_ENTRY_POINTS;
    const asTypeScript = await runScript('cli/rollout.ts', ['sideways'], {});

    expect(compiled).toBe(path.resolve(ROOT, saved!, 'cli', 'rollout.js'));
    expect(asCompiled.code).toBe(2);
    expect({ code: asCompiled.code, lines: asCompiled.lines }).toEqual({ code: asTypeScript.code, lines: asTypeScript.lines });
  });
});
