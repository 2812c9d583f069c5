// Which file node runs for one of the project's TypeScript entry points (app-vN/server.ts, cli/*.ts). By default
// the .ts file under tsx, exactly as the npm scripts run it. With COMPILED_ENTRY_POINTS=<dir>, the compiled JS of
// that file under <dir> when the build made one: make test sets it after `npm run build:test` (tsconfig.build.json,
// the build the container image runs, emitted with --noCheck into .compiled/ once `npm run typecheck` has passed).
// The same code without tsx's loader thread: about 0.3 s of wall time and 0.4 s of CPU less per process on this
// 2-core machine (a tool refusing a bad argument: 0.65 s under tsx, 0.35 s compiled), and make test starts a few
// hundred of them. What the build does not compile (the demo, chaos, the bench) runs under tsx as before.
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** The compiled JS for a TypeScript file of the project (absolute or relative to the root), or null: run it under tsx. */
export function compiledEntry(file: string): string | null {
  const dir = process.env.COMPILED_ENTRY_POINTS;
  if (!dir) return null;
  const relative = path.relative(ROOT, path.resolve(ROOT, file));
  if (relative.startsWith('..') || path.isAbsolute(relative) || !relative.endsWith('.ts')) return null;
  const compiled = path.resolve(ROOT, dir, relative.replace(/\.ts$/, '.js'));
  return fs.existsSync(compiled) ? compiled : null;
}
