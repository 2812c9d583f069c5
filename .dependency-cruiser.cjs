// The import rules of this repository, in one place: `npm run lint` (run by `make test`) fails on any of them.
// Read this file to learn the shape to keep: the apps and the tools depend on shared/, never the other way; the
// checker judges a recorded history and imports nothing else, so that it can judge any implementation.
// Type-only imports count (tsPreCompilationDeps): a type is a dependency too.
// test/lint/import-rules.test.ts plants a wrong-way import for each rule and shows that the lint fails.

/** A rule that forbids imports from `from` to `to` (paths relative to the repository root, as regular expressions). */
const forbid = (name, comment, from, to) => ({ name, comment, severity: 'error', from, to });

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'A cycle makes two modules one: neither can be read, tested or moved without the other.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    forbid('app-v1-never-imports-app-v2', 'What both versions need moves to shared/.', { path: '^app-v1/' }, { path: '^app-v2/' }),
    forbid('app-v2-never-imports-app-v1', 'What both versions need moves to shared/.', { path: '^app-v2/' }, { path: '^app-v1/' }),
    forbid(
      'shared-imports-no-app-and-no-tooling',
      'shared/ is what the running versions share: it imports no app version, no load/ (the proof and the demo) and no cli/.',
      { path: '^shared/' },
      { path: '^(app-v1|app-v2|load|cli|test)/' },
    ),
    forbid(
      'checker-imports-only-the-history-format',
      'The checker judges a recorded history (load/proof/history.ts) and nothing else: field lists reach it as data in the history, never by importing a mapping or app code.',
      { path: '^load/proof/checker/' },
      { pathNot: ['^load/proof/checker/', '^load/proof/history\\.ts$'], dependencyTypesNot: ['core'] },
    ),
    forbid(
      'production-never-imports-tests',
      'Tests may import anything; nothing else imports a test.',
      { path: '^(app-v1|app-v2|shared|load|cli|examples)/' },
      { path: '^test/' },
    ),

    // The wrong-way edges the structural review found (issue 16), each kept gone by its own rule.
    forbid(
      'validation-does-not-know-http',
      'Input validation is plain data checking (ValidationError); the HTTP layer maps it to a 400.',
      { path: '^shared/validation\\.ts$' },
      { path: '^shared/http/' },
    ),
    forbid(
      'migrations-do-not-run-tooling',
      'A migration file is frozen history: it imports no backfill, verify or rollout code, which keep changing. The runner hands it what it needs (MigrationContext).',
      { path: '^shared/migrations/[0-9]{3}-' },
      { path: '^shared/(backfill|verify|rollout)/' },
    ),
    forbid(
      'database-clock-is-not-rollout',
      'The database clock (shared/db/time.ts) is neutral; the registry, backfill and verify never import the rollout.',
      { path: '^shared/(registry|backfill|verify|db)/' },
      { path: '^shared/rollout/' },
    ),
    forbid(
      'backfill-does-not-import-verify',
      'What counts as drift is defined once in shared/drift-sql.ts, beside the mapping; the backfill and verify both use it.',
      { path: '^shared/backfill/' },
      { path: '^shared/verify/' },
    ),
    forbid(
      'app-shell-imports-no-operator-tooling',
      'The HTTP shell both versions run does not import rollout gates or transitions: the app hands them in (AppContext.writeFlags).',
      { path: '^shared/(http|server)/' },
      { path: '^shared/rollout/(gates|flag-gate|transitions|way-back|contract-gate|migrate-down-gate|events|status|fleet)\\.ts$' },
    ),
    forbid(
      'load-client-does-not-import-checker',
      'The load generator records a history; only the checker judges it.',
      { path: '^load/proof/generator\\.ts$' },
      { path: '^load/proof/checker/' },
    ),
    forbid(
      'report-does-not-import-the-demo',
      'The report draws what it is given (samples, live anomalies): it imports no run, no scenario and no other part of the observation (sampler, live checker); they import the report, never the other way.',
      { path: '^load/observe/report/' },
      { path: '^load/', pathNot: ['^load/observe/report/', '^load/proof/checker/'] },
    ),

    // The rooms of load/ (README, Layout): infra/ (real parts) and proof/ (what judges) at the bottom; run/ (what a run
    // is made of) and observe/ (what it shows) above them; the scenarios (rollout, chaos, bench, workshop) on top.
    forbid(
      'load-infra-is-the-bottom-room',
      'Instances, the balancer, private databases and process cleanup know nothing of what runs on them: no proof, run, observation or scenario.',
      { path: '^load/infra/' },
      { path: '^load/', pathNot: '^load/infra/' },
    ),
    forbid(
      'load-proof-judges-without-running',
      'The workload, the history and the checker are the proof: they import no run harness, observation, infrastructure or scenario.',
      { path: '^load/proof/' },
      { path: '^load/', pathNot: '^load/proof/' },
    ),
    forbid(
      'load-run-and-observe-import-no-scenario',
      'The run harness and the observation serve every scenario: they import none of them (rollout, chaos, bench, workshop).',
      { path: '^load/(run|observe)/' },
      { path: '^load/(rollout|chaos|bench|workshop)/' },
    ),
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|results)/' },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
