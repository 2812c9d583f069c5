// Validation of everything a client sends, shared by v1 and v2 so that both versions accept exactly the same
// input: a value one version accepts and the other rejects would make a mixed fleet answer differently.
// It knows nothing of HTTP: it throws a ValidationError, which the one error shape (shared/http/errors.ts) answers
// as a 400 with the code and details given here.
import { z } from 'zod';
import { mapping } from './schema-mapping.ts';
import type { Key, KeyType } from './mapping-contract.ts';
import type { OldColumn, UserFields } from './schema-mapping.ts';

/** Input a client sent that no version accepts: answered as 400 {"error":{code,message,details}}. */
export class ValidationError extends Error {
  readonly status = 400;
  constructor(
    readonly code: string,
    message: string,
    readonly details: { field: string; message: string }[],
  ) {
    super(message);
    this.name = 'ValidationError';
  }
}

// C0 and C1 control characters, DEL and NUL: never part of a name or an address.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/** Counts Unicode code points, as VARCHAR(n) in utf8mb4 does, not UTF-16 units. */
const codePoints = (value: string) => [...value].length;

const text = (max: number) =>
  z
    .string({ message: 'must be a string' })
    .trim()
    .refine((value) => value.isWellFormed(), 'must be valid Unicode (no lone surrogates)')
    .refine((value) => !CONTROL_CHARACTERS.test(value), 'must not contain control characters')
    .refine((value) => codePoints(value) >= 1, 'must not be empty')
    .refine((value) => codePoints(value) <= max, `must be at most ${max} characters`);

/** One old column's rule: the shared text rules within its length, and its format if the mapping gives one. */
const columnSchema = (column: OldColumn): z.ZodType<string> =>
  column.format === 'email-address' ? text(column.maxChars).pipe(z.email({ message: 'must be a valid email address' })) : text(column.maxChars);

/** The request body both versions accept: exactly the mapping's old columns, each by its rule. */
export const userInputSchema = z.strictObject(Object.fromEntries(mapping.oldColumns.map((column) => [column.name, columnSchema(column)])), {
  message: 'must be a JSON object',
});

/**
 * A field name as an error message shows it: as is when it is a plain name, else JSON-quoted and cut to 64
 * characters, so that an unknown key like " ", "a: b" or 10 KB of text cannot pass for another field or flood
 * the answer.
 */
export function fieldLabel(key: string): string {
  if (/^[A-Za-z0-9_.-]{1,64}$/.test(key)) return key;
  return JSON.stringify([...key].length > 64 ? `${[...key].slice(0, 64).join('')}…` : key);
}

/** Validates a request body into the fields both versions write; throws a 400 naming the field. */
export function parseUserInput(body: unknown): UserFields {
  return validated(userInputSchema, body);
}

/** The body parsed by `schema`, or a ValidationError naming each field that fails (`body` when it is the whole body). */
function validated<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map((issue) => ({
    field: issue.code === 'unrecognized_keys' ? issue.keys.map(fieldLabel).join(',') : issue.path.join('.') || 'body',
    message: issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message,
  }));
  const first = details[0]!;
  throw new ValidationError('invalid_input', `${first.field}: ${first.message}`, details);
}

/** What a key from the URL must be, per key type (in the 400 answer). */
const KEY_SHAPE: Record<KeyType, string> = { integer: 'must be a positive integer', uuid: 'must be a lower-case UUID' };

/** The body of a PATCH: a non-empty subset of the old columns, each by its rule (an unknown field is refused). */
const patchInputSchema = userInputSchema.partial().refine((fields) => Object.keys(fields).length > 0, {
  message: `must name at least one of ${mapping.oldColumnNames.join(', ')}`,
});

/** Validates a PATCH body into the fields it changes; throws a 400 naming the field (or `body` when it names none). */
export function parsePatchInput(body: unknown): Partial<UserFields> {
  return validated(patchInputSchema, body) as Partial<UserFields>;
}

/** A key from the URL: exactly what the mapping's keys can be (a positive decimal integer, or a UUID), nothing else. */
export function parseUserId(raw: string): Key {
  const key = mapping.parseKey(raw);
  if (key === null) throw new ValidationError('invalid_id', `id: ${KEY_SHAPE[mapping.keyType]}`, [{ field: 'id', message: KEY_SHAPE[mapping.keyType] }]);
  return key;
}

/**
 * The query of a lookup (GET <route>?<param>=<value>): exactly the mapping's one parameter, given once, a text
 * within its maxChars and of its pattern; throws a 400 naming the parameter (or the unknown one) otherwise.
 */
export function parseLookupQuery(query: Readonly<Record<string, unknown>>): string {
  const lookup = mapping.lookup;
  if (!lookup) throw new Error(`mapping ${mapping.id} declares no lookup`);
  const fail = (field: string, message: string): never => {
    throw new ValidationError('invalid_query', `${field}: ${message}`, [{ field, message }]);
  };
  const unknown = Object.keys(query).filter((name) => name !== lookup.param);
  if (unknown.length > 0) fail(unknown.map(fieldLabel).join(','), `unknown query parameter (the one accepted is ${lookup.param})`);
  const raw = query[lookup.param];
  if (raw === undefined) fail(lookup.param, 'is required');
  if (typeof raw !== 'string') fail(lookup.param, 'must be given once, as text');
  const parsed = text(lookup.maxChars).safeParse(raw);
  if (!parsed.success) fail(lookup.param, parsed.error.issues[0]!.message);
  const value = parsed.data!;
  if (lookup.pattern && !lookup.pattern.test(value)) fail(lookup.param, `must look like ${lookup.pattern.source}`);
  return value;
}
