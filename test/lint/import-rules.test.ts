// The import rules (.dependency-cruiser.cjs) fail on a wrong-way import: each rule is shown a small tree, laid out
// as this repository is, holding one planted back-edge, and must name it; the same tree without it passes.
// (`npm run lint:imports`, in make test, runs the same rules over the real tree.)
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { cruise } from 'dependency-cruiser';
import type { ICruiseResult, IFlattenedRuleSet } from 'dependency-cruiser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const config = createRequire(import.meta.url)('../../.dependency-cruiser.cjs') as { forbidden: NonNullable<IFlattenedRuleSet['forbidden']> };

/** A rule, and an import that breaks it: `from` imports `to` (paths from the repository root). */
const PLANTED: { rule: string; from: string; to: string[] }[] = [
  { rule: 'no-cycles', from: 'shared/verify/results.ts', to: ['shared/verify/verify.ts', 'shared/verify/results.ts'] },
  { rule: 'app-v1-never-imports-app-v2', from: 'app-v1/app.ts', to: ['app-v2/dual-read.ts'] },
  { rule: 'app-v2-never-imports-app-v1', from: 'app-v2/app.ts', to: ['app-v1/service.ts'] },
  { rule: 'shared-imports-no-app-and-no-tooling', from: 'shared/http/app.ts', to: ['app-v2/app.ts'] },
  { rule: 'shared-imports-no-app-and-no-tooling', from: 'shared/config.ts', to: ['load/proof/history.ts'] },
  { rule: 'checker-imports-only-the-history-format', from: 'load/proof/checker/values.ts', to: ['shared/schema-mapping.ts'] },
  { rule: 'production-never-imports-tests', from: 'load/rollout/demo.ts', to: ['test/support/databases.ts'] },
  { rule: 'validation-does-not-know-http', from: 'shared/validation.ts', to: ['shared/http/errors.ts'] },
  { rule: 'migrations-do-not-run-tooling', from: 'shared/migrations/099-contract.ts', to: ['shared/backfill/backfill.ts'] },
  { rule: 'database-clock-is-not-rollout', from: 'shared/registry/instances.ts', to: ['shared/rollout/db-time.ts'] },
  { rule: 'database-clock-is-not-rollout', from: 'shared/backfill/checkpoint.ts', to: ['shared/rollout/db-time.ts'] },
  { rule: 'database-clock-is-not-rollout', from: 'shared/verify/verify.ts', to: ['shared/rollout/db-time.ts'] },
  { rule: 'backfill-does-not-import-verify', from: 'shared/backfill/batch-statements.ts', to: ['shared/verify/drift-sql.ts'] },
  { rule: 'app-shell-imports-no-operator-tooling', from: 'shared/http/admin.ts', to: ['shared/rollout/flag-gate.ts'] },
  { rule: 'load-client-does-not-import-checker', from: 'load/proof/generator.ts', to: ['load/proof/checker/values.ts'] },
  { rule: 'report-does-not-import-the-demo', from: 'load/observe/report/report.ts', to: ['load/observe/sampler.ts'] },
  { rule: 'load-infra-is-the-bottom-room', from: 'load/infra/instance-process.ts', to: ['load/run/operator.ts'] },
  { rule: 'load-proof-judges-without-running', from: 'load/proof/generator.ts', to: ['load/infra/balancer/index.ts'] },
  { rule: 'load-run-and-observe-import-no-scenario', from: 'load/run/fleet.ts', to: ['load/rollout/steps/index.ts'] },
  { rule: 'load-run-and-observe-import-no-scenario', from: 'load/observe/sampler.ts', to: ['load/chaos/harness.ts'] },
];

/** The allowed direction of the same neighbourhoods: what the planted edges must be told apart from. */
const ALLOWED: { from: string; to: string }[] = [
  { from: 'app-v2/app.ts', to: 'shared/http/app.ts' },
  { from: 'app-v2/app.ts', to: 'shared/rollout/flag-gate.ts' },
  { from: 'shared/http/app.ts', to: 'shared/validation.ts' },
  { from: 'shared/migrations/runner.ts', to: 'shared/backfill/backfill.ts' },
  { from: 'shared/rollout/gates.ts', to: 'shared/db/time.ts' },
  { from: 'shared/verify/results.ts', to: 'shared/db/time.ts' },
  { from: 'shared/backfill/batch-statements.ts', to: 'shared/drift-sql.ts' },
  { from: 'load/proof/checker/index.ts', to: 'load/proof/history.ts' },
  { from: 'load/observe/observation.ts', to: 'load/observe/report/report.ts' },
  { from: 'load/rollout/demo.ts', to: 'load/proof/checker/index.ts' },
  { from: 'load/run/fleet.ts', to: 'load/infra/instance-process.ts' },
  { from: 'load/observe/sampler.ts', to: 'load/proof/history.ts' },
  { from: 'load/chaos/harness.ts', to: 'load/run/database.ts' },
];

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** Writes a tree where each `from` file imports its `to` files (each file exists), and cruises it with the real rules. */
async function lint(edges: { from: string; to: string[] }[]): Promise<{ rule: string; from: string; to: string }[]> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'import-rules-'));
  dirs.push(root);
  const imports = new Map<string, string[]>();
  for (const { from, to } of edges) {
    imports.set(from, [...(imports.get(from) ?? []), ...to.slice(0, 1)]);
    // A longer `to` is a chain: each file imports the next.
    for (let i = 1; i < to.length; i++) imports.set(to[i - 1]!, [...(imports.get(to[i - 1]!) ?? []), to[i]!]);
    for (const file of to) imports.set(file, imports.get(file) ?? []);
  }
  for (const [file, targets] of imports) {
    const full = path.join(root, file);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    const lines = targets.map((target) => `import '${path.relative(path.dirname(full), path.join(root, target)).replace(/^(?!\.)/, './')}';`);
    fs.writeFileSync(full, `${lines.join('\n')}\nexport const marker = ${JSON.stringify(file)};\n`);
  }
  const { output } = await cruise(['.'], { baseDir: root, validate: true, ruleSet: { forbidden: config.forbidden }, tsPreCompilationDeps: true, outputType: 'json' });
  const result = (typeof output === 'string' ? JSON.parse(output) : output) as ICruiseResult;
  return result.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));
}

describe('the import lint', () => {
  it('When a tree holds only imports in the allowed direction, then it finds nothing', async () => {
    expect(await lint(ALLOWED.map(({ from, to }) => ({ from, to: [to] })))).toEqual([]);
  });

  // One tree with every planted edge (one cruise): each must be named, by its rule, from its file.
  let planted: { rule: string; from: string; to: string }[] = [];
  beforeAll(async () => {
    planted = await lint([...ALLOWED.map((edge) => ({ from: edge.from, to: [edge.to] })), ...PLANTED]);
  });

  it.each(PLANTED)('When $from imports $to.0, then the lint fails naming $rule', ({ rule, from, to }) => {
    expect(planted).toContainEqual({ rule, from, to: to[0] });
  });

  it('When the rules are read, then every rule named in the config is planted by a test above', () => {
    const named = new Set(config.forbidden.map((rule) => rule.name));
    expect(new Set(PLANTED.map((p) => p.rule))).toEqual(named);
  });
});
