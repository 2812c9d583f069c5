// $RESULTS_DIR/report.html, written at the end of `make demo`: one self-contained file (uPlot's JS and CSS, the
// charts and the data inlined) that opens from disk with no network. The charts are the dashboard's charts
// (load/observe/dashboard/public/charts.js) over the whole run: requests per second, latency and errors counted from
// every recorded operation, anomalies at the moment each happened, and what the sampler saw each second
// (instances by version, flags, backfill, drift, database load); step boundaries marked on each. Below them:
// the step table, and the checker's verdict with examples of every kind of anomaly found.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ANOMALY_KINDS } from '../../proof/checker/index.ts';
import type { AnomalyKind, Verdict } from '../../proof/checker/index.ts';
import { EXAMPLES_PER_KIND } from '../../proof/checker/types.ts';
import { DRIFT_MEANING, KIND_LABELS } from '../../proof/checker/format.ts';
import { APP_VERSIONS } from '../../../shared/config.ts';

const PUBLIC_DIR = path.join(import.meta.dirname, '..', 'dashboard', 'public');
const UPLOT_DIST = path.join(path.dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');

/** An anomaly at the moment it happened (the live checker finds them as the run goes). */
export interface TimedAnomaly {
  kind: AnomalyKind;
  /** On the history's clock: when the anomalous read completed (a snapshot: when it was taken). */
  at: number;
  step: string;
  /** The row's key. */
  key: string;
  message: string;
}

/** One chart column value per key (null: not measured). */
export type SampleRow = Record<string, number | null>;

/** What the report draws: the run as sampled each second (the demo's RolloutSampler is one). */
export interface SampledRun {
  /** The history's clock at second 0. */
  t0: number;
  steps: { n: number; step: string; title: string; label: string; at: number }[];
  samples: { second: number; row: SampleRow }[];
  series: {
    lastSecond(): number;
    figures(second: number): { requests: Record<string, number>; p99Ms: Record<string, number | null>; errors: number; readSources: Record<string, number> };
  };
}

export interface ReportStep {
  step: string;
  title: string;
  seconds: number;
  perSecond: number;
  p50: number | null;
  p99: number | null;
  errors: number;
  retries: number;
  anomalies: number;
  instances: string;
  byVersion: Record<string, number>;
}

export interface ReportInput {
  file: string;
  scenario: string;
  database: string;
  stepSeconds: number;
  passed: boolean;
  failure: string | null;
  verdict: Verdict;
  steps: ReportStep[];
  sampler: SampledRun;
  timeline: TimedAnomaly[];
  /** Shown as links, relative to the report. */
  files: Record<string, string>;
}

export interface ChartModel {
  seconds: number[];
  columns: Record<string, (number | null)[]>;
  steps: { n: number; step: string; title: string; label: string; at: number }[];
  anomalies: { at: number; kind: AnomalyKind }[];
}

/** Sampled state that holds until it changes: carried forward over a second the sampler skipped. */
const HELD = ['instances.v1', 'instances.v2', 'readNewPercent', 'backfillPercent', 'drift'];

export function chartModel(sampler: SampledRun, timeline: TimedAnomaly[]): ChartModel {
  const { series, samples } = sampler;
  const last = Math.max(series.lastSecond(), ...samples.map((s) => s.second), 0);
  const seconds = Array.from({ length: last + 1 }, (_, i) => i);
  const columns: Record<string, (number | null)[]> = {};
  const set = (key: string, second: number, value: number | null) => {
    (columns[key] ??= seconds.map(() => null))[second] = value;
  };
  const bySecond = new Map<number, SampleRow>(samples.filter((s) => s.second >= 0).map((s) => [s.second, s.row]));
  const held: Record<string, number | null> = {};
  for (const second of seconds) {
    const figures = series.figures(second);
    for (const version of APP_VERSIONS) {
      set(`requests.${version}`, second, figures.requests[version] ?? 0);
      set(`p99.${version}`, second, figures.p99Ms[version] ?? null);
    }
    set('errors', second, figures.errors);
    const v2Reads = Object.values(figures.readSources).reduce((a, b) => a + b, 0);
    set('readsNew', second, v2Reads ? Math.round((1000 * (figures.readSources.new ?? 0)) / v2Reads) / 10 : null);
    set('readsFallback', second, v2Reads ? Math.round((1000 * (figures.readSources.fallback ?? 0)) / v2Reads) / 10 : null);
    const row = bySecond.get(second);
    for (const key of ['threadsRunning', 'rowLockWaits', 'replicaLag', 'replicaBehind']) set(key, second, row?.[key] ?? null);
    for (const key of HELD) {
      if (row && row[key] !== undefined) held[key] = row[key]!;
      set(key, second, held[key] ?? null);
    }
  }
  const t0 = sampler.t0;
  const anomalies = timeline.map((a) => ({ at: Math.max(0, Math.round((a.at - t0) / 100) / 10), kind: a.kind }));
  for (const kind of ANOMALY_KINDS) {
    let total = 0;
    const times = anomalies.filter((a) => a.kind === kind).map((a) => a.at);
    let i = 0;
    for (const second of seconds) {
      while (i < times.length && times[i]! < second + 1) {
        total++;
        i++;
      }
      set(`anomalies.${kind}`, second, total);
    }
  }
  return { seconds, columns, steps: sampler.steps, anomalies };
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** Inline <script>/<style> content must never close its own element. */
const inline = (code: string) => code.replace(/<\/(script|style)/gi, '<\\/$1');
const fmt = (value: number | null, digits = 1) => (value === null ? '–' : value.toFixed(digits));

export function renderReport(input: ReportInput): string {
  const { verdict } = input;
  const model = chartModel(input.sampler, input.timeline);
  const read = (file: string) => fs.readFileSync(file, 'utf8');
  const stepRows = input.steps
    .map(
      (s) =>
        `<tr><td>${escapeHtml(s.step)}</td><td>${escapeHtml(s.title)}</td><td>${s.seconds}</td><td>${s.perSecond}</td><td>${fmt(s.p50)}</td><td>${fmt(s.p99)}</td>` +
        `<td${s.errors ? ' class="bad"' : ''}>${s.errors}</td><td>${s.retries}</td><td${s.anomalies ? ' class="bad"' : ''}>${s.anomalies}</td>` +
        `<td>${escapeHtml(s.instances)}</td><td>${escapeHtml(Object.entries(s.byVersion).map(([v, n]) => `${v}=${n}`).join(' '))}</td></tr>`,
    )
    .join('\n');
  const kinds = ANOMALY_KINDS.map((kind) => {
    const examples = verdict.examples[kind].slice(0, 3);
    const items = examples.map((e) => `<li>[${escapeHtml(e.step)}] ${escapeHtml(e.message)}</li>`).join('');
    return `<tr><td>${KIND_LABELS[kind]}</td><td${verdict.byKind[kind] ? ' class="bad"' : ''}>${verdict.byKind[kind]}</td><td>${items ? `<ul class="examples">${items}</ul>` : ''}</td></tr>`;
  }).join('\n');
  const drift = verdict.driftExamples.slice(0, 3).map((d) => `<li>[${escapeHtml(d.step)}] ${escapeHtml(d.message)}</li>`).join('');
  const files = Object.entries(input.files)
    .map(([label, file]) => `<li>${escapeHtml(label)}: <a href="${escapeHtml(file)}">${escapeHtml(file)}</a></li>`)
    .join('');
  const headline = input.passed
    ? `PASSED: ${verdict.acknowledgedWrites} acknowledged writes, ${verdict.reads} reads, 0 anomalies, ${verdict.failedRequests} failed requests`
    : `FAILED: ${input.failure ? `${input.failure}; ` : ''}${verdict.anomalies} anomalies, ${verdict.failedRequests} failed requests`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Rollout report: ${escapeHtml(input.scenario)} on ${escapeHtml(input.database)}</title>
<style>${inline(read(path.join(UPLOT_DIST, 'uPlot.min.css')))}</style>
<style>${inline(read(path.join(PUBLIC_DIR, 'style.css')))}</style>
</head>
<body>
<header><h1>Rollout report: v1 → v2 on one database <span class="muted">· ${escapeHtml(input.scenario)} · ${escapeHtml(input.database)} · ${input.stepSeconds} s per step · ${escapeHtml(new Date().toISOString())}</span></h1>
<div class="badge ${input.passed ? 'done' : 'failed'}" data-testid="verdict">${input.passed ? 'PASSED' : 'FAILED'}</div></header>
<section id="verdict" class="verdict ${input.passed ? 'passed' : 'failed'}">${escapeHtml(headline)}.
${verdict.operations} operations on ${verdict.users} users; versions seen: ${escapeHtml(verdict.versionsSeen.join(', '))}. Step markers on the charts name the README's rollout steps ("4 dual-read"); red ticks mark anomalies at the moment they happened${
    input.timeline.length < verdict.anomalies ? ` (${input.timeline.length} of the ${verdict.anomalies} are on the charts: at most ${EXAMPLES_PER_KIND} per user and kind)` : ''
  }.</section>
<section id="charts" class="charts"></section>
<h2>Steps</h2>
<table><thead><tr><th>step</th><th>what</th><th>s</th><th>req/s</th><th>p50 ms</th><th>p99 ms</th><th>errors</th><th>retries</th><th>anomalies</th><th>instances at end</th><th>served by</th></tr></thead>
<tbody>
${stepRows}
</tbody></table>
<h2>The checker's verdict</h2>
<table><thead><tr><th>anomaly</th><th>count</th><th>examples (first in time)</th></tr></thead><tbody>
${kinds}
<tr><td>drift (not an anomaly)</td><td>${verdict.drift}</td><td><span class="muted" data-testid="drift-meaning">${escapeHtml(DRIFT_MEANING.join(' '))}</span>${drift ? `<ul class="examples">${drift}</ul>` : ''}</td></tr>
</tbody></table>
<h2>Files</h2><ul>${files}</ul>
<script>${inline(read(path.join(UPLOT_DIST, 'uPlot.iife.min.js')))}</script>
<script>${inline(read(path.join(PUBLIC_DIR, 'charts.js')))}</script>
<script type="application/json" id="model">${JSON.stringify(model).replace(/</g, '\\u003c')}</script>
<script>window.RolloutCharts.create(document.getElementById('charts'), JSON.parse(document.getElementById('model').textContent));</script>
</body>
</html>
`;
}

export function writeReport(input: ReportInput): string {
  fs.mkdirSync(path.dirname(input.file), { recursive: true });
  fs.writeFileSync(input.file, renderReport(input));
  return input.file;
}
