// One mapping, consumed everywhere: outside the mapping modules and examples/, no source names the migrated
// table or its columns in a string (SQL, a route, a message key). A mapping for another table must not leave a
// statement behind that still says `users`. Each allowed file below says why it may.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Where the names may appear, and why. */
const MAPPING_MODULES = ['shared/schema-mapping.ts', 'shared/mapping-contract.ts'];
// None today: the checker, the last exception, takes the field list from the history and says "old columns" and
// "the new column" (the runners hand it rows already read through the mapping: load/run/table-snapshots.ts).
const ALLOWED: Record<string, string> = {};

/**
 * String literal texts of a source (quotes, and template parts outside `${...}`), skipping comments, regular
 * expression literals and index-access types (`Step['name']` is a property, not a value).
 */
export function stringLiterals(source: string): string[] {
  const out: string[] = [];
  let i = 0;
  const previousChar = () => {
    let j = i - 1;
    while (j >= 0 && /\s/.test(source[j]!)) j--;
    return j >= 0 ? source[j]! : '';
  };
  const readQuoted = (quote: string): string => {
    let text = '';
    i++;
    while (i < source.length && source[i] !== quote) {
      if (source[i] === '\\') text += source[i++];
      text += source[i++];
    }
    i++;
    return text;
  };
  const readTemplate = (): void => {
    let text = '';
    i++; // opening backquote
    while (i < source.length && source[i] !== '`') {
      if (source[i] === '\\') {
        text += source.slice(i, i + 2);
        i += 2;
      } else if (source[i] === '$' && source[i + 1] === '{') {
        text += ' ';
        i += 2;
        scan('}');
        i++;
      } else text += source[i++];
    }
    i++;
    out.push(text);
  };
  const skipRegex = (): void => {
    let inClass = false;
    i++;
    while (i < source.length && (inClass || source[i] !== '/')) {
      if (source[i] === '\\') i++;
      else if (source[i] === '[') inClass = true;
      else if (source[i] === ']') inClass = false;
      i++;
    }
    i++;
  };
  const scan = (until: string | null): void => {
    let depth = 0;
    while (i < source.length) {
      const c = source[i]!;
      if (until && c === until && depth === 0) return;
      if (c === '{') depth++;
      else if (c === '}') depth--;
      if (c === '/' && source[i + 1] === '/') i = source.indexOf('\n', i) < 0 ? source.length : source.indexOf('\n', i);
      else if (c === '/' && source[i + 1] === '*') i = source.indexOf('*/', i + 2) + 2;
      else if (c === '/' && /^[(,=:[!&|?{};]?$/.test(previousChar())) skipRegex();
      else if (c === "'" || c === '"') {
        const indexed = previousChar() === '[' && /\w/.test(source[source.lastIndexOf('[', i) - 1] ?? '');
        const text = readQuoted(c);
        if (!indexed) out.push(text);
      } else if (c === '`') readTemplate();
      else i++;
    }
  };
  scan(null);
  return out;
}

const SQL = /\b(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|WHERE|FROM|JOIN)\b/;
const NAMES = ['users', 'name', 'email', 'profile_data'];

/**
 * Why a string literal names the mapping's table or columns, or null: a literal that is one of the names, SQL
 * that names the table, the new column or `email` (no other table has one: `name` is also the flags' and the
 * catalogues' column), the route, or prose (a message, a help text, a metric's description) that names the new
 * column or the old ones together: with another mapping it would name columns that do not exist.
 */
export function namesTheMapping(text: string): string | null {
  if (NAMES.includes(text)) return `the literal '${text}'`;
  if (/(^|[^\w.-])\/users\b/.test(text)) return 'the route /users';
  if (!SQL.test(text) && /\bprofile_data\b|\bname\/email\b|\bname and email\b/.test(text)) return 'a column of the mapping in a message';
  if (!SQL.test(text)) return null;
  if (/\b(FROM|INTO|UPDATE|TABLE|JOIN)\s+(\S+\.)?users\b/i.test(text)) return 'the table users in SQL';
  if (/\b(profile_data|email)\b/.test(text)) return 'a column of the mapping in SQL';
  return null;
}

function sourceFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' }).split('\n');
  return listed.filter(
    (file) => /\.(ts|js|cjs)$/.test(file) && !file.startsWith('test/') && !file.startsWith('examples/') && !/\.test\.ts$/.test(file) && !MAPPING_MODULES.includes(file) && fs.existsSync(path.join(ROOT, file)),
  );
}

describe('the mapping is the only place that names the table and its columns', () => {
  it('When a string names the mapping, then the scanner finds it (the check below can fail)', () => {
    expect(stringLiterals("const a = `UPDATE users SET ${x} WHERE id = $1`; // 'profile_data'\nconst b = 'email';").map(namesTheMapping)).toEqual([
      'the table users in SQL',
      'the literal \'email\'',
    ]);
    expect(namesTheMapping('/users/${id}'.replace('${id}', ' '))).toBe('the route /users');
    expect(namesTheMapping('SELECT name, email FROM t')).toBe('a column of the mapping in SQL');
    expect(namesTheMapping('SELECT name FROM flags')).toBeNull();
    expect(namesTheMapping('reads sent to profile_data that fell back')).toBe('a column of the mapping in a message');
    expect(namesTheMapping('re-adds name and email')).toBe('a column of the mapping in a message');
    expect(namesTheMapping('each name in the list')).toBeNull();
    expect(stringLiterals("type N = Step['name']; const r = /'/g; const t = 'users';")).toEqual(['users']);
  });

  it('When every source outside the mapping modules and examples/ is scanned, then only the allowed files name the table or its columns', () => {
    const findings = sourceFiles().flatMap((file) =>
      ALLOWED[file] ? [] : stringLiterals(fs.readFileSync(path.join(ROOT, file), 'utf8')).flatMap((text) => {
        const why = namesTheMapping(text);
        return why ? [`${file}: ${why}: ${JSON.stringify(text.slice(0, 120))}`] : [];
      }),
    );
    expect(findings).toEqual([]);
  });

  it('When an allowed file no longer names the mapping, then it must leave the allow-list (no stale exceptions)', () => {
    const stale = Object.keys(ALLOWED).filter((file) => !stringLiterals(fs.readFileSync(path.join(ROOT, file), 'utf8')).some((text) => namesTheMapping(text)));
    expect(stale).toEqual([]);
  });
});
