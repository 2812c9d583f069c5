// make bench, part `nginx`: what the balancer costs, like with like. A 50/50 GET/PUT mix over the same two v2
// instances, through nginx (the template the demo and compose use) against the load split by the client (half
// the connections straight to each instance): the same processes serve both, so the ratio is nginx's own cost.
// CPU per request counts nginx's worker processes beside both instances. Goal: throughput >= 0.9x (CPU <= 1.11x).
// Its A/A control: the split load measured a second time in each round (`splitAgain`), a row without a goal that
// shows how far two measurements of the same processes under the same load differ within a round. The goals are
// not widened by it (as the write and read parts' are by their second v1): both sides of this part are the same
// processes, so there is no process-to-process offset to add, and the time-to-time noise the control shows is
// the same noise the figure's own per-round spread already holds.
import { startBalancer } from '../../infra/balancer/index.ts';
import type { Balancer } from '../../infra/balancer/index.ts';
import { alternate } from '../compare.ts';
import type { BenchPart, HttpContext, Instance } from '../context.ts';
import { childPids, httpPlan } from '../context.ts';
import { cpuFigure, fmt, p99Figure, rounded, throughputFigure } from '../figures.ts';
import type { Pair } from '../figures.ts';
import { cpuMs, median, runHttpLoad, runSplitHttpLoad } from '../http-load.ts';
import { judged } from '../report.ts';

/**
 * The processes serving through a balancer: nginx's worker processes (children of the master we started) and
 * the instances. Without readable workers (no /proc), or with the Node proxy (it runs inside the bench, beside
 * the load client), none at all: the CPU figure is then unmeasured (inconclusive) rather than missing the
 * balancer's share.
 */
const behind = (balancer: Balancer, instances: Instance[]) => () => {
  const workers = balancer.kind === 'nginx' ? childPids(balancer.pid) : [];
  return workers.length === 0 ? [] : [...workers, ...instances.map((i) => i.pid)];
};

export const nginxPart: BenchPart<HttpContext> = {
  name: 'nginx',
  what: () => 'GET/PUT mix over two v2 instances: through nginx vs split by the client, same connections',
  plannedSeconds: (options) => httpPlan(options, 3) + 2,
  async measure(context) {
    const { fixture, v2, writeIds, slowV2, options, log } = context;
    const v2b = await fixture.start('v2', { DUAL_WRITE_STRATEGY: 'single', ...slowV2 });
    const both = [v2, v2b];
    let balancer: Balancer | undefined;
    try {
      balancer = await startBalancer({ upstreams: both.map((i) => `127.0.0.1:${i.port}`) });
      const through = balancer;
      const { connections } = options;
      /** nginx's workers' own CPU per answered request, per measurement (warm-up first): what the balancer itself costs. */
      const ownCpu: number[] = [];
      const split = (seconds: number) => runSplitHttpLoad({ urls: both.map((i) => i.url), operation: 'mix', keys: writeIds, seconds, connections, pids: both.map((i) => i.pid) });
      const runs = await alternate(
        'nginx',
        [
          { name: 'split', measure: split },
          {
            name: 'balanced',
            measure: async (seconds) => {
              const workers = through.kind === 'nginx' ? childPids(through.pid) : [];
              const before = cpuMs(workers);
              const run = await runHttpLoad({ url: through.url, operation: 'mix', keys: writeIds, seconds, connections, pids: behind(through, both)() });
              const after = cpuMs(workers);
              ownCpu.push(before === null || after === null || run.requests === 0 ? Number.NaN : (after - before) / run.requests);
              return run;
            },
          },
          { name: 'splitAgain', measure: split },
        ],
        { repeat: options.repeat, seconds: options.seconds, log },
      );
      const kind = balancer.kind;
      const measured = ownCpu.slice(1);
      context.raw.nginx = { balancer: kind, runs, ownCpuMsPerRequest: rounded(measured) };
      const pair = (labels: [string, string]): Pair => ({ runs, contenders: ['split', 'balanced'], labels });
      return [
        throughputFigure('nginxAaControl', 'GET/PUT throughput, the load split by the client measured again vs split (A/A control: the same processes, no goal)', { runs, contenders: ['split', 'splitAgain'], labels: ['split', 'split again'] }, null),
        // >= 0.9x throughput is <= 1/0.9 CPU per request.
        cpuFigure('nginxCpuVsDirect', `GET/PUT CPU per request, ${kind} + 2 instances vs the 2 instances, load split by the client`, pair(['2 instances', `${kind} + 2 instances`]), 1.11),
        throughputFigure('nginxVsDirect', `GET/PUT throughput through ${kind} (2 v2 instances, as the demo) vs the same 2, load split by the client`, pair(['split', `${kind}`]), 0.9),
        p99Figure('nginxP99VsDirect', `GET/PUT p99 latency through ${kind} vs the load split by the client (2 instances)`, pair(['split', `${kind}`]), null),
        {
          key: 'nginxOwnCpu',
          figure: `${kind}'s own CPU per request (its worker processes), in the rounds above`,
          baseline: '-',
          candidate: measured.every(Number.isFinite) ? `${fmt(median(measured) * 1000)} us/req (${rounded(measured).map((v) => fmt(v * 1000)).join(', ')})` : 'not measured (no /proc, or not nginx)',
          ratio: null,
          ...judged([], null),
        },
      ];
    } finally {
      await balancer?.stop().catch(() => {});
    }
  },
};
