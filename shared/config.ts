// Config: every setting an instance reads from its environment, validated once at start-up.
// A bad value stops the process with one line naming the variable: a rollout must fail fast
// and loudly, never run an instance with a half-understood configuration.
import os from 'node:os';
import { z } from 'zod';

export const APP_VERSIONS = ['v1', 'v2'] as const;
export type AppVersion = (typeof APP_VERSIONS)[number];

/** sequential-seed: the common recipe's two statements, kept as a demonstration of a torn write (the live gate refuses it). */
export const DUAL_WRITE_STRATEGIES = ['single', 'transaction', 'sequential', 'sequential-seed'] as const;
export type DualWriteStrategy = (typeof DUAL_WRITE_STRATEGIES)[number];

/** Wrong on purpose: v2 variants the demo's checker must catch (app-v2/anti-patterns.ts). */
export const ANTI_PATTERNS = ['new-only-write', 'new-first-crash', 'prefer-new-read', 'early-read-shift', 'cached-old-read', 'replica-reads', 'patch-new-only', 'upsert-repair', 'lookup-new-early', 'one-way-trigger'] as const;
export type AntiPattern = (typeof ANTI_PATTERNS)[number];

/** Faults injected on purpose, in tests and chaos runs only (FAULT_INJECT). */
export const FAULTS = ['crash-between-writes', 'slow-requests'] as const;

/**
 * Timeouts that must stay ordered for a drain to lose no request behind a keep-alive balancer:
 * balancer upstream keepalive_timeout (2 s, load/infra/balancer/nginx.conf.template)
 *   < KEEP_ALIVE_TIMEOUT_MS (Node's server.keepAliveTimeout)
 *   < DRAIN_DEADLINE_MS.
 * The balancer must close an idle upstream connection before the app would; the app never closes one itself.
 */
export const BALANCER_UPSTREAM_KEEPALIVE_TIMEOUT_MS = 2000;
export const KEEP_ALIVE_TIMEOUT_MS = 5000;
export const DRAIN_DEADLINE_MS = 10_000;

const integer = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, `must be an integer from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const boolean = z
  .enum(['0', '1', 'true', 'false'], { message: 'must be 0, 1, true or false' })
  .transform((value) => value === '1' || value === 'true');

const databaseUrl = z
  .string()
  .trim()
  .refine((value) => /^sqlite:.+/.test(value) || /^mysql:\/\/[^/]+\/[A-Za-z0-9_]+$/.test(value), {
    message: 'must be sqlite:<path> or mysql://user:pass@host:port/database',
  });

const mysqlUrl = z
  .string()
  .trim()
  .regex(/^mysql:\/\/[^/]+\/[A-Za-z0-9_]+$/, 'must be mysql://user:pass@host:port/database');

const envSchema = z.object({
  PORT: integer(0, 65535).default(3000),
  // /livez, /healthz and /metrics, open from start to exit while the public PORT is closed until the instance is
  // ready (registered, flags loaded, lease fresh). 0 picks a free port; the start-up line names it.
  OPS_PORT: integer(0, 65535).default(0),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  DATABASE_URL: databaseUrl.default('sqlite:./data/demo.sqlite'),
  INSTANCE_ID: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._:-]{1,100}$/, 'must be 1-100 characters of letters, digits, . _ : -')
    .optional(),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  DB_POOL_MAX: integer(1, 200).default(20),
  // A read replica of DATABASE_URL (shared/db/replica/): reads may go there, read-your-writes kept by token.
  DATABASE_REPLICA_URL: mysqlUrl.optional(),
  /** How long a read waits for the replica to reach its token before the primary serves it. */
  REPLICA_WAIT_MS: integer(0, 10_000).default(250),
  DUAL_WRITE_STRATEGY: z
    .enum(DUAL_WRITE_STRATEGIES, { message: `must be one of ${DUAL_WRITE_STRATEGIES.join(', ')}` })
    .default('single'),
  REPAIR_ON_READ: boolean.default(false),
  FLAG_POLL_MS: integer(50, 1000).default(250),
  HEARTBEAT_MS: integer(100, 2000).default(1000),
  // Tests and chaos only: crash-between-writes (app-v2/dual-write.ts); slow-requests, a v2 that burns
  // FAULT_SLOW_MS of CPU per user request (app-v2/slow-requests.ts: make bench's own test of its verdicts).
  FAULT_INJECT: z
    .enum(FAULTS, { message: `must be one of ${FAULTS.join(', ')} or unset` })
    .optional(),
  FAULT_SLOW_MS: integer(1, 1000).optional(),
  // Wrong on purpose, for the demo's anti-pattern scenarios only (app-v2/anti-patterns.ts).
  ANTI_PATTERN: z.enum(ANTI_PATTERNS, { message: `must be one of ${ANTI_PATTERNS.join(', ')}` }).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn'),
});

export type Config = Omit<z.infer<typeof envSchema>, 'FAULT_SLOW_MS'> & { appVersion: AppVersion; FAULT_SLOW_MS: number };

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable} ${message}`);
    this.name = 'ConfigError';
  }
}

/** Empty strings mean "unset", as in most twelve-factor loaders. */
function withoutEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''));
}

export function loadConfig(appVersion: AppVersion, env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(withoutEmpty(env));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    const got = env[variable];
    throw new ConfigError(variable, `${issue.message}${got === undefined ? '' : ` (got ${JSON.stringify(got)})`}`);
  }
  const config = parsed.data;
  for (const variable of ['DUAL_WRITE_STRATEGY', 'REPAIR_ON_READ', 'ANTI_PATTERN'] as const) {
    if (appVersion === 'v1' && env[variable]) throw new ConfigError(variable, 'is a v2 setting: v1 knows only the old columns');
  }
  if (config.DATABASE_REPLICA_URL && !config.DATABASE_URL.startsWith('mysql://')) throw new ConfigError('DATABASE_REPLICA_URL', 'needs a MySQL/MariaDB DATABASE_URL (its primary)');
  if (config.ANTI_PATTERN === 'one-way-trigger') throw new ConfigError('ANTI_PATTERN', "one-way-trigger is the sync install's anti-pattern (SYNC=trigger: db:migrate and rollout install the up trigger only), not an instance's");
  if (config.ANTI_PATTERN === 'replica-reads' && !config.DATABASE_REPLICA_URL) throw new ConfigError('ANTI_PATTERN', 'replica-reads needs DATABASE_REPLICA_URL');
  if (config.FAULT_SLOW_MS !== undefined && config.FAULT_INJECT !== 'slow-requests') throw new ConfigError('FAULT_SLOW_MS', 'is read only with FAULT_INJECT=slow-requests');
  if (appVersion === 'v1' && config.FAULT_INJECT === 'slow-requests') throw new ConfigError('FAULT_INJECT', 'slow-requests is a v2 fault');
  return { ...config, appVersion, FAULT_SLOW_MS: config.FAULT_SLOW_MS ?? 20 };
}

/** DATABASE_REPLICA_URL alone (optional), for the command-line tools (backfill's lag throttle, verify --replica). */
export function loadReplicaUrl(env: NodeJS.ProcessEnv = process.env): string | null {
  const raw = withoutEmpty(env).DATABASE_REPLICA_URL;
  if (raw === undefined) return null;
  const parsed = mysqlUrl.safeParse(raw);
  if (!parsed.success) throw new ConfigError('DATABASE_REPLICA_URL', parsed.error.issues[0]!.message);
  return parsed.data;
}

/** INSTANCE_ID, or host-port once the port is known (PORT=0 picks one at listen time). */
export function instanceIdFor(config: Config, port: number): string {
  return config.INSTANCE_ID ?? `${os.hostname()}-${port}`;
}

/** The database settings alone, for the command-line tools (migrate, flags, status). */
export function loadDatabaseConfig(env: NodeJS.ProcessEnv = process.env): { DATABASE_URL: string; DB_POOL_MAX: number } {
  const schema = envSchema.pick({ DATABASE_URL: true, DB_POOL_MAX: true });
  const parsed = schema.safeParse(withoutEmpty(env));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(String(issue.path[0]), issue.message);
  }
  return parsed.data;
}
