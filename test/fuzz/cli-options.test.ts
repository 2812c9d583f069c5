// The command-line tools' option parsing, fuzzed in-process (fast-check): each case imports the real cli/*.ts
// module afresh with its argv, process.exit stubbed to end the case, and a DATABASE_URL that no parser accepts,
// so that arguments the parser accepts end at "config error: DATABASE_URL" before touching any database.
// Promises: every outcome is one line and exit 2; bad arguments are refused naming the option (or flag) they
// concern; good ones (negative numbers included, as values) get past the parser.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const UNUSABLE_DATABASE_URL = 'not-a-database-url';
const REACHED_DATABASE = /config error: DATABASE_URL /;

class ExitCalled extends Error {
  constructor(readonly code: number) {
    super(`process.exit(${code})`);
  }
}

interface CliOutcome {
  code: number;
  /** What it printed (stderr and stdout) before it exited. */
  lines: string[];
}

let caseNumber = 0;

/** Runs cli/<script>.ts in this process with `args`; resolves at its first process.exit. */
async function runCli(script: string, args: string[]): Promise<CliOutcome> {
  const argv = process.argv;
  const lines: string[] = [];
  let code: number | undefined;
  const exit = vi.spyOn(process, 'exit').mockImplementation(((value?: number) => {
    code ??= value ?? 0;
    throw new ExitCalled(value ?? 0);
  }) as typeof process.exit);
  const capture = (...parts: unknown[]) => {
    if (code === undefined) lines.push(parts.map(String).join(' '));
  };
  const error = vi.spyOn(console, 'error').mockImplementation(capture);
  const log = vi.spyOn(console, 'log').mockImplementation(capture);
  process.argv = [process.execPath, path.join(ROOT, 'cli', `${script}.ts`), ...args];
  try {
    // A new URL per case: a fresh module instance, so its top-level code runs again with this argv.
    await import(/* @vite-ignore */ `${pathToFileURL(path.join(ROOT, 'cli', `${script}.ts`)).href}?fuzz=${++caseNumber}`).catch((err: unknown) => {
      if (!(err instanceof ExitCalled)) throw err;
    });
  } finally {
    process.argv = argv;
    exit.mockRestore();
    error.mockRestore();
    log.mockRestore();
  }
  if (code === undefined) throw new Error(`${script} ${JSON.stringify(args)} returned without exiting`);
  return { code, lines };
}

// ---- the documented integer options of each tool (name, range), as the usage lines state them
const INTEGER_OPTIONS: Record<string, { prefix: string[]; options: Record<string, [number, number]>; booleans: string[] }> = {
  backfill: {
    prefix: [],
    options: {
      batch: [1, 100_000],
      'target-batch-ms': [1, 60_000],
      'max-batch-ms': [1, 600_000],
      'sleep-ms': [0, 60_000],
      'max-threads-running': [0, 100_000],
      'max-redo-pct': [0, 100],
      workers: [1, 4],
      'max-lag-ms': [1, 3_600_000],
      'progress-interval-ms': [100, 3_600_000],
    },
    booleans: ['reverse', 'restart', 'unthrottled'],
  },
  verify: { prefix: ['--watch'], options: { chunk: [1, 1_000_000], sample: [0, 1000], 'sleep-ms': [0, 60_000], 'interval-ms': [100, 86_400_000] }, booleans: ['report-only'] },
  rollout: { prefix: ['advance'], options: { percent: [0, 100], 'wait-timeout-ms': [0, 3_600_000] }, booleans: [] },
};

/** Strict digits (surrounding whitespace allowed), a safe integer within the range. */
const acceptsInteger = (raw: string, [min, max]: [number, number]) => /^\d+$/.test(raw.trim()) && Number.isSafeInteger(Number(raw.trim())) && Number(raw.trim()) >= min && Number(raw.trim()) <= max;

/** Argument text a shell can pass: anything but NUL. */
const argText = fc.string({ unit: 'binary', maxLength: 12 }).map((s) => s.replaceAll('\u0000', ''));

const integerText = fc.oneof(
  fc.integer({ min: -1_000_000, max: 5_000_000 }).map(String),
  fc.integer({ min: -200, max: 200 }).map(String),
  fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map(String),
  fc.constantFrom('', ' ', '1.5', '1e3', '0x10', '+5', ' 7', '7 ', '٣', 'NaN', '-0', '--', '-', '-x', '5abc'),
  argText,
);

beforeAll(() => {
  process.env.DATABASE_URL = UNUSABLE_DATABASE_URL;
  delete process.env.DATABASE_REPLICA_URL;
});
afterAll(() => {
  delete process.env.DATABASE_URL;
});

describe('command-line option parsing, fuzzed in-process', () => {
  it('When a tool gets generated values for its integer options (negative numbers included, in both --opt V and --opt=V forms), then it accepts exactly the in-range ones and refuses the others in one line naming the option, exit 2', async () => {
    const cases = fc.constantFrom(...Object.keys(INTEGER_OPTIONS)).chain((script) => {
      const spec = INTEGER_OPTIONS[script]!;
      // Half the values are drawn inside the option's own range: with only the generic texts, a case whose every
      // option is valid was rare enough that a CI run once drew 10 of 300 and failed the coverage check below.
      const option = fc
        .constantFrom(...Object.keys(spec.options))
        .chain((name) => fc.tuple(fc.constant(name), fc.oneof(fc.integer({ min: spec.options[name]![0], max: spec.options[name]![1] }).map(String), integerText), fc.boolean()));
      return fc.record({
        script: fc.constant(script),
        given: fc.uniqueArray(option, { minLength: 1, maxLength: 3, selector: ([name]) => name }),
        booleans: fc.subarray(spec.booleans),
      });
    });
    let refused = 0;
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(cases, async ({ script, given, booleans }) => {
        const spec = INTEGER_OPTIONS[script]!;
        const args = [...spec.prefix, ...booleans.map((b) => `--${b}`), ...given.flatMap(([name, value, joined]) => (joined ? [`--${name}=${value}`] : [`--${name}`, value]))];
        const invalid = given.filter(([name, value]) => !acceptsInteger(value, spec.options[name]!)).map(([name]) => `--${name}`);

        const { code, lines } = await runCli(script, args);

        expect(code, `${script} ${JSON.stringify(args)}`).toBe(2);
        expect(lines, `${script} ${JSON.stringify(args)}`).toHaveLength(1);
        const line = lines[0]!;
        expect(line.startsWith(`${script}: `), line).toBe(true);
        if (invalid.length === 0) {
          expect(line, `${script} ${JSON.stringify(args)} must get past the parser`).toMatch(REACHED_DATABASE);
          accepted++;
        } else {
          expect(line, `${script} ${JSON.stringify(args)}`).not.toMatch(REACHED_DATABASE);
          expect(invalid.some((name) => line.includes(name)), `${line} names one of ${invalid.join(', ')}`).toBe(true);
          refused++;
        }
      }),
      { numRuns: 300 },
    );
    expect(accepted).toBeGreaterThan(10);
    expect(refused).toBeGreaterThan(10);
  }, 120_000);

  it('When `flags set` gets generated flag names and values (negative numbers included), then it accepts exactly the valid ones and refuses the others naming the flag, exit 2', async () => {
    const integerFlags: Record<string, [number, number]> = { 'read-new-percent': [0, 100], 'backfill-batch-size': [0, 100_000], 'backfill-sleep-ms': [0, 60_000] };
    const booleanFlags = ['dual-read', 'backfill-pause'];
    const BOOLEAN_WORDS = ['true', 'false', 'on', 'off', '1', '0'];
    // '--' ends the options (POSIX): it is never a value, so it is not offered as one.
    // 0-100 is in every integer flag's range: enough valid cases that the coverage check below never hinges on luck.
    const value = fc.oneof(integerText, fc.integer({ min: 0, max: 100 }).map(String), fc.constantFrom(...BOOLEAN_WORDS, 'TRUE', ' On ', 'yes', 'dual', 'new-only')).filter((raw) => raw !== '--');
    const name = fc.oneof(fc.constantFrom(...Object.keys(integerFlags), ...booleanFlags), argText.filter((s) => s.length > 0 && !s.startsWith('-')));
    const isValid = (flag: string, raw: string) => {
      const range = integerFlags[flag];
      if (range) return /^-?\d+$/.test(raw.trim()) && Number(raw) >= range[0] && Number(raw) <= range[1];
      if (booleanFlags.includes(flag)) return BOOLEAN_WORDS.includes(raw.trim().toLowerCase());
      return false;
    };
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(name, value, async (flag, raw) => {
        const { code, lines } = await runCli('flags', ['set', flag, raw]);

        expect(code).toBe(2);
        expect(lines, JSON.stringify(['set', flag, raw])).toHaveLength(1);
        if (isValid(flag, raw)) {
          expect(lines[0], JSON.stringify(['set', flag, raw])).toMatch(REACHED_DATABASE);
          accepted++;
        } else {
          expect(lines[0], JSON.stringify(['set', flag, raw])).not.toMatch(REACHED_DATABASE);
          // It names the flag, or the argument it could not take as a value ("Unknown option '-x'").
          const names = [flag, JSON.stringify(flag).slice(1, -1), ...(raw.trim() ? [raw] : [])];
          expect(names.some((text) => lines[0]!.includes(text)), `${lines[0]} names ${flag} or ${JSON.stringify(raw)}`).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
    expect(accepted).toBeGreaterThan(5);
  }, 120_000);

  it('When `flags set read-new-percent -1` is given, then the refusal names the flag and its range (not "unknown option")', async () => {
    const { code, lines } = await runCli('flags', ['set', 'read-new-percent', '-1']);

    expect(code).toBe(2);
    expect(lines).toEqual([expect.stringContaining('read-new-percent must be an integer from 0 to 100 (got "-1")')]);
  });

  it('When any tool gets a generated soup of options, values and words, then it never crashes: one line, exit 2, a usage refusal or past the parser', async () => {
    const tools: Record<string, string[]> = {
      backfill: ['--batch', '--reverse', '--restart', '--sleep-ms', '--max-lag-ms=5'],
      verify: ['--mode', 'dual', 'new-only', '--watch', '--interval-ms', '--report-only', '--chunk'],
      rollout: ['status', 'advance', 'rollback', '--json', '--percent', '--wait-timeout-ms'],
      flags: ['get', 'set', 'read-new-percent', 'dual-read', 'write-mode', 'true'],
      status: ['--json'],
      'db-migrate': ['up', 'down', '--to', '001-base', '005-rollout-log', '099-contract'],
      'db-contract': ['--check'],
    };
    const token = (words: string[]) => fc.oneof(fc.constantFrom(...words), fc.constantFrom('--bogus', '-x', '-h', '--', '-', '--json=1', '-5', '-1.5', '--batch=-3'), integerText, argText);
    const cases = fc.constantFrom(...Object.keys(tools)).chain((script) => fc.record({ script: fc.constant(script), args: fc.array(token(tools[script]!), { maxLength: 6 }) }));
    await fc.assert(
      fc.asyncProperty(cases, async ({ script, args }) => {
        const { code, lines } = await runCli(script, args);

        expect(code, `${script} ${JSON.stringify(args)}`).toBe(2);
        expect(lines, `${script} ${JSON.stringify(args)}`).toHaveLength(1);
        const line = lines[0]!;
        expect(line.startsWith(`${script === 'db-migrate' ? 'db:migrate' : script === 'db-contract' ? 'db:contract' : script}: `), line).toBe(true);
        expect(REACHED_DATABASE.test(line) || /\(usage: .*\)$/.test(line), line).toBe(true);
        expect(line).not.toMatch(/\n|\bat .*\(|node_modules/);
      }),
      { numRuns: 300 },
    );
  }, 120_000);
});
