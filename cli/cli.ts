// What every command-line tool shares: strict option parsing (an unknown or malformed option is one line
// naming it, exit 2), the database from DATABASE_URL, and "every failure exits non-zero".
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { ConfigError, loadDatabaseConfig } from '../shared/config.ts';
import { connectDatabase } from '../shared/db/connection.ts';
import type { Database } from '../shared/db/connection.ts';

export class UsageError extends Error {}

export function parseOptions<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, { positionals = 0 } = {}) {
  try {
    const parsed = parseArgs({ args, options, allowPositionals: positionals > 0, strict: true });
    if (parsed.positionals.length > positionals) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[positionals])}`);
    return parsed;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    // node:util's messages name the option ("Unknown option '--bogus'"); keep the first sentence.
    throw new UsageError((err as Error).message.split('. ')[0]!.replace(/\.$/, ''));
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
