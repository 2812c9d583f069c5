// make bench, part `read`: what dual-read costs. v1 `GET /users/:id` against v2's GET with read-new at 0% and
// 100% and with dual-read on (flags written in the database; the bench waits until v2 has loaded them and checks
// X-Read-Source before it measures). Goal: CPU per request <= 1.05x and throughput >= 0.95x v1 at 0% and 100%.
import { alternate } from '../compare.ts';
import type { BenchPart, HttpContext } from '../context.ts';
import { httpPlan, loadOn } from '../context.ts';
import { SECOND_V1, aaControlFigure, cpuFigure, p99Figure, throughputFigure, userCpuFigure } from '../figures.ts';
import type { Pair } from '../figures.ts';
import { mapping } from '../../../shared/schema-mapping.ts';

export const readPart: BenchPart<HttpContext> = {
  name: 'read',
  what: () => 'v1 GET vs v2 GET at read-new 0%, 100%, and with shadow compare',
  plannedSeconds: (options) => httpPlan(options, 5),
  async measure(context) {
    const { fixture, v1, v1Again, v2, readIds, options, log } = context;
    const probe = readIds[0]!;
    const readsFrom = (flags: { 'read-new-percent': number; 'dual-read': boolean }, source: string) => async () => {
      await fixture.setFlags(flags);
      // The bench measures what it claims only if v2 answers from the column it says.
      const answer = await fetch(`${v2.url}${mapping.route}/${encodeURIComponent(probe)}`);
      const got = answer.headers.get('x-read-source');
      if (answer.status !== 200 || got !== source) throw new Error(`read bench: v2 answered ${answer.status} from ${got} with ${JSON.stringify(flags)}, expected ${source}`);
    };
    const runs = await alternate(
      'read',
      [
        { name: 'v1', measure: loadOn(context, v1, 'get', readIds) },
        { name: 'v1Again', measure: loadOn(context, v1Again, 'get', readIds) },
        { name: 'new0', prepare: readsFrom({ 'read-new-percent': 0, 'dual-read': false }, 'old'), measure: loadOn(context, v2, 'get', readIds) },
        { name: 'new100', prepare: readsFrom({ 'read-new-percent': 100, 'dual-read': false }, 'new'), measure: loadOn(context, v2, 'get', readIds) },
        { name: 'shadow', prepare: readsFrom({ 'read-new-percent': 0, 'dual-read': true }, 'old'), measure: loadOn(context, v2, 'get', readIds) },
      ],
      { repeat: options.repeat, seconds: options.seconds, log },
    );
    context.raw.read = runs;
    await fixture.setFlags({ 'read-new-percent': 0, 'dual-read': false });
    const vs = (candidate: string, label: string): Pair => ({ runs, contenders: ['v1', candidate], labels: ['v1', label], control: SECOND_V1 });
    return [
      aaControlFigure('getCpuAaControl', 'GET', runs),
      cpuFigure('dualReadNew0CpuVsV1', 'GET instance CPU per request, v2 at read-new 0% vs v1', vs('new0', 'v2 0%'), 1.05),
      userCpuFigure('dualReadNew0UserCpuVsV1', 'GET instance CPU per request, user mode only (the code), v2 at read-new 0% vs v1', vs('new0', 'v2 0%')),
      throughputFigure('dualReadNew0VsV1', 'GET throughput, v2 at read-new 0% vs v1', vs('new0', 'v2 0%'), 0.95),
      p99Figure('dualReadNew0P99VsV1', 'GET p99 latency, v2 at read-new 0% vs v1', vs('new0', 'v2 0%'), null),
      cpuFigure('dualReadNew100CpuVsV1', 'GET instance CPU per request, v2 at read-new 100% vs v1', vs('new100', 'v2 100%'), 1.05),
      userCpuFigure('dualReadNew100UserCpuVsV1', 'GET instance CPU per request, user mode only (the code), v2 at read-new 100% vs v1', vs('new100', 'v2 100%')),
      throughputFigure('dualReadNew100VsV1', 'GET throughput, v2 at read-new 100% vs v1', vs('new100', 'v2 100%'), 0.95),
      p99Figure('dualReadNew100P99VsV1', 'GET p99 latency, v2 at read-new 100% vs v1', vs('new100', 'v2 100%'), null),
      // Like with like: the same v2 process at 100% against itself at 0%, so no process-to-process offset is in it.
      cpuFigure('readNew100VsNew0Cpu', 'GET instance CPU per request, v2 at read-new 100% vs the same v2 at 0% (the same process: what reading and checking the new column costs, no goal)', { runs, contenders: ['new0', 'new100'], labels: ['v2 0%', 'v2 100%'] }, null),
      throughputFigure('shadowCompareVsV1', 'GET throughput, v2 with dual-read vs v1', vs('shadow', 'v2 shadow'), null),
      p99Figure('shadowCompareP99VsV1', 'GET p99 latency, v2 with dual-read vs v1', vs('shadow', 'v2 shadow'), null),
    ];
  },
};
