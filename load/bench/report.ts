// The bench's verdict: one row per figure (baseline, candidate, their ratio, the goal, pass/fail), printed as a
// table that reads on its own (it goes into the README as it is), and the machine it was measured on.
import os from 'node:os';

export interface Figure {
  /** Key in bench.json's `figures`. */
  key: string;
  figure: string;
  baseline: string;
  candidate: string;
  /** The median paired ratio; null for an absolute figure (its value is in `candidate`). */
  ratio: number | null;
  /** e.g. ">= 0.95x", "< 100 MB"; "-" when the issue set none. */
  goal: string;
  pass: boolean | null;
  /** Per-round ratios, medians of the raw numbers: everything a reader needs to judge the noise. */
  detail?: Record<string, unknown>;
}

export function machine(serverVersion: string) {
  return {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    node: process.version,
    database: serverVersion,
    platform: `${os.type()} ${os.release()}`,
    loadAverageAtStart: os.loadavg().map((v) => Number(v.toFixed(2))),
  };
}

const fmtRatio = (figure: Figure) => (figure.ratio === null ? '-' : `${figure.ratio.toFixed(2)}x`);
const verdict = (pass: boolean | null) => (pass === null ? '-' : pass ? 'pass' : 'FAIL');

/** A Markdown table: readable on a terminal and pasted as it is into docs/performance.md. */
export function formatTable(figures: Figure[]): string {
  const header = ['figure', 'baseline', 'candidate', 'ratio', 'goal', 'result'];
  const rows = figures.map((f) => [f.figure, f.baseline, f.candidate, fmtRatio(f), f.goal, verdict(f.pass)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export function mmss(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
