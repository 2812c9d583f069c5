// What every command-line tool shares: strict option parsing (an unknown or malformed option is one line
// naming it, exit 2), the database from DATABASE_URL, and "every failure exits non-zero".
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { ConfigError, loadDatabaseConfig } from '../shared/config.ts';
import { connectDatabase } from '../shared/db/connection.ts';
import type { Database } from '../shared/db/connection.ts';

export class UsageError extends Error {}

// node:util's parseArgs reads "-1" as a short option, so `flags set read-new-percent -1` and `--percent -5`
// failed as "Unknown option '-1'" (or "argument is ambiguous") instead of reaching the check that knows the
// range and names the flag. A negative number is a value: it is hidden from parseArgs behind a prefix that no
// command-line argument can contain (NUL), and restored after.
const NEGATIVE_NUMBER = /^-\d/;
const HIDDEN = '\u0000';
const hide = (arg: string) => (NEGATIVE_NUMBER.test(arg) ? `${HIDDEN}${arg}` : arg);
const restore = <V>(value: V): V => (typeof value === 'string' && value.startsWith(HIDDEN) ? (value.slice(HIDDEN.length) as V) : value);

export function parseOptions<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, { positionals = 0 } = {}) {
  try {
    const parsed = parseArgs({ args: args.map(hide), options, allowPositionals: true, strict: true });
    for (const key of Object.keys(parsed.values)) (parsed.values as Record<string, unknown>)[key] = restore((parsed.values as Record<string, unknown>)[key]);
    parsed.positionals = parsed.positionals.map(restore);
    if (parsed.positionals.length > positionals) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[positionals])}`);
    return parsed;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    // node:util's messages name the option ("Unknown option '--bogus'"); keep the first sentence (some go on,
    // after a newline, with advice about '--opt=-XYZ': one line is the contract).
    throw new UsageError((err as Error).message.split(/\.\s/)[0]!.replace(/\.$/, ''));
  }
}

export async function openDatabase(): Promise<Database> {
  const { DATABASE_URL, DB_POOL_MAX } = loadDatabaseConfig();
  return connectDatabase(DATABASE_URL, { poolMax: Math.min(DB_POOL_MAX, 5) });
}

/** Runs a command: usage errors exit 2, other failures exit 1, each as one line on stderr. */
export async function runCli(name: string, usage: string, main: () => Promise<number | void>): Promise<never> {
  try {
    const code = (await main()) ?? 0;
    process.exit(code);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${name}: ${err.message} (usage: ${usage})`);
      process.exit(2);
    }
    if (err instanceof ConfigError) {
      console.error(`${name}: config error: ${err.message}`);
      process.exit(2);
    }
    console.error(`${name}: ${(err as Error).message ?? String(err)}`);
    process.exit(1);
  }
}
