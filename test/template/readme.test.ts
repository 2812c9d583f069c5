// Every command the README names exists (an npm script, a make target) and every repository path it names is
// there, so that a newcomer following it from a fresh clone never meets "missing script" or a dead link.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const scripts = Object.keys((JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);
const makeTargets = [...fs.readFileSync(path.join(ROOT, 'Makefile'), 'utf8').matchAll(/^([a-z][a-z0-9-]*):/gm)].map((match) => match[1]);

/** What the README shows as code: inline `code` and fenced blocks. */
const code = [...README.matchAll(/```[a-z]*\n([\s\S]*?)```/g), ...README.replace(/```[\s\S]*?```/g, '').matchAll(/`([^`\n]+)`/g)].map((match) => match[1]!);

const TOP_LEVEL = /^(app-v1|app-v2|shared|load|cli|test|docs|deploy|docker|examples|\.ci|\.github)\//;

describe('the README', () => {
  it('When it names an npm script, then package.json has it', () => {
    const named = new Set(code.flatMap((text) => [...text.matchAll(/npm run ([a-z0-9:-]+)/g)].map((match) => match[1]!)));
    expect(named.size).toBeGreaterThan(5);
    expect([...named].filter((script) => !scripts.includes(script))).toEqual([]);
  });

  it('When it names a make target, then the Makefile has it', () => {
    const named = new Set(code.flatMap((text) => [...text.matchAll(/(?:^|[\s;(])make ([a-z][a-z0-9-]*)/gm)].map((match) => match[1]!)));
    expect(named.size).toBeGreaterThan(3);
    expect([...named].filter((target) => !makeTargets.includes(target))).toEqual([]);
  });

  it('When it names a file or folder of the repository, then it is there', () => {
    // A path in code (not a glob, not an output under results/) and every relative link.
    const inCode = code.flatMap((text) => text.split(/[\s,()]+/)).filter((word) => TOP_LEVEL.test(word) && !/[*<>]/.test(word));
    const links = [...README.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((match) => match[1]!).filter((link) => !/^[a-z]+:/.test(link));
    const named = [...new Set([...inCode, ...links])];
    expect(named.length).toBeGreaterThan(20);
    expect(named.filter((file) => !fs.existsSync(path.join(ROOT, file)))).toEqual([]);
  });
});
