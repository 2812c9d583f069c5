// The test budget, made visible: after every run (make test, make test-full) this vitest reporter writes each
// test file's wall time to RESULTS_DIR/<file> (default results/test-timings.json) and prints the slowest files,
// so that a test that grows past its share of the 10-minute make test is seen the day it lands, not months later.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

export interface TimingReporterOptions {
  /** File name under RESULTS_DIR. */
  file?: string;
  /** How many of the slowest files to print. */
  show?: number;
}

export interface FileTiming {
  file: string;
  /** Import and collection, setup, and every test and hook of the file: its share of a worker's time. */
  seconds: number;
  tests: number;
  state: string;
}

/** One file's timing from vitest's diagnostic (ms) for it. */
export function fileTiming(module: TestModule): FileTiming {
  const d = module.diagnostic();
  const ms = d.environmentSetupDuration + d.prepareDuration + d.collectDuration + d.setupDuration + d.duration;
  return { file: module.relativeModuleId, seconds: Number((ms / 1000).toFixed(2)), tests: [...module.children.allTests()].length, state: module.state() };
}

/**
 * The failed tests, each with the first lines of its error, printed last: CI keeps only the tail of a run's output,
 * and a failure that scrolled away above the timing table could not be diagnosed from it.
 */
export function failureSummary(testModules: ReadonlyArray<TestModule>, linesPerError = 8): string[] {
  const lines: string[] = [];
  for (const module of testModules) {
    for (const error of module.errors()) lines.push(`  ${module.relativeModuleId} (file): ${firstLines(error.message ?? String(error), linesPerError)}`);
    for (const test of module.children.allTests()) {
      const result = test.result();
      if (result.state !== 'failed') continue;
      const first = result.errors?.[0];
      lines.push(`  ${module.relativeModuleId} > ${test.fullName}`, `      ${firstLines(first?.message ?? 'failed', linesPerError).replace(/\n/g, '\n      ')}`);
    }
  }
  return lines.length === 0 ? [] : ['', `failed (${lines.filter((l) => !l.startsWith('      ')).length}), first lines of each error:`, ...lines];
}

const firstLines = (text: string, n: number): string => {
  // Terminal colour codes, removed so the lines read in a CI log.
  const all = text.replace(/\u001b\[[0-9;]*m/g, '').split('\n');
  return all.slice(0, n).join('\n') + (all.length > n ? `\n… (${all.length - n} more lines)` : '');
};

/** The lines printed after a run: the slowest files, and their share of the sum over all files. */
export function timingSummary(timings: FileTiming[], wallSeconds: number, show: number): string[] {
  const sorted = [...timings].sort((a, b) => b.seconds - a.seconds);
  const total = sorted.reduce((sum, t) => sum + t.seconds, 0);
  const width = Math.max(...sorted.slice(0, show).map((t) => t.file.length), 4);
  return [
    `test timings: ${sorted.length} files, ${wallSeconds.toFixed(0)} s wall, ${total.toFixed(0)} s summed over files (workers run files in parallel); slowest:`,
    ...sorted.slice(0, show).map((t) => `  ${t.file.padEnd(width)} ${t.seconds.toFixed(1).padStart(7)} s  ${((t.seconds / (total || 1)) * 100).toFixed(0).padStart(3)}%${t.state === 'passed' ? '' : `  (${t.state})`}`),
  ];
}

export default class TimingReporter implements Reporter {
  private readonly startedAt = performance.now();
  private readonly loadAverageAtStart = os.loadavg();

  constructor(private readonly options: TimingReporterOptions = {}) {}

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const timings = testModules.map(fileTiming).sort((a, b) => b.seconds - a.seconds);
    if (timings.length === 0) return;
    const wallSeconds = (performance.now() - this.startedAt) / 1000;
    const out = path.resolve(process.env.RESULTS_DIR || 'results', this.options.file ?? 'test-timings.json');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    const report = {
      generatedAt: new Date().toISOString(),
      wallSeconds: Number(wallSeconds.toFixed(1)),
      machine: { cores: os.cpus().length, node: process.version, loadAverageAtStart: this.loadAverageAtStart.map((v) => Number(v.toFixed(2))), loadAverageAtEnd: os.loadavg().map((v) => Number(v.toFixed(2))) },
      files: timings,
    };
    fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(['', ...timingSummary(timings, wallSeconds, this.options.show ?? 15), `  (all files: ${path.relative(process.cwd(), out)})`, ...failureSummary(testModules)].join('\n'));
  }
}
