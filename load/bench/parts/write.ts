// make bench, part `write`: what dual-write costs. v1 `PUT /users/:id` against v2's PUT under each dual-write
// strategy (single, the default; transaction; sequential, the common recipe's two statements), same users,
// a fresh value every time. Goal for `single`: CPU per request <= 1.05x, throughput >= 0.95x, p99 <= 1.1x v1.
// `transaction` (no goal, about half of v1's throughput in every run so far) only in the long mode: 10 s of the default run.
import { alternate } from '../compare.ts';
import type { BenchPart, HttpContext } from '../context.ts';
import { httpPlan, loadOn } from '../context.ts';
import { SECOND_V1, aaControlFigure, cpuFigure, p99Figure, throughputFigure, userCpuFigure } from '../figures.ts';
import type { Pair } from '../figures.ts';

export const writePart: BenchPart<HttpContext> = {
  name: 'write',
  what: () => 'v1 PUT vs v2 PUT per dual-write strategy',
  plannedSeconds: (options) => httpPlan(options, options.long ? 5 : 4),
  async measure(context) {
    const { fixture, v1, v1Again, v2, writeIds, slowV2, options, log } = context;
    const [v2Transaction, v2Sequential] = await Promise.all([
      options.long ? fixture.start('v2', { DUAL_WRITE_STRATEGY: 'transaction', ...slowV2 }) : null,
      fixture.start('v2', { DUAL_WRITE_STRATEGY: 'sequential', ...slowV2 }),
    ]);
    const runs = await alternate(
      'write',
      [
        { name: 'v1', measure: loadOn(context, v1, 'put', writeIds) },
        { name: 'v1Again', measure: loadOn(context, v1Again, 'put', writeIds) },
        { name: 'single', measure: loadOn(context, v2, 'put', writeIds) },
        ...(v2Transaction ? [{ name: 'transaction', measure: loadOn(context, v2Transaction, 'put', writeIds) }] : []),
        { name: 'sequential', measure: loadOn(context, v2Sequential, 'put', writeIds) },
      ],
      { repeat: options.repeat, seconds: options.seconds, log },
    );
    context.raw.write = runs;
    await Promise.all([v2Transaction?.stop(), v2Sequential.stop()]);
    const vs = (candidate: string): Pair => ({ runs, contenders: ['v1', candidate], labels: ['v1', `v2 ${candidate}`], control: SECOND_V1 });
    return [
      cpuFigure('dualWriteCpuVsV1', 'PUT instance CPU per request, v2 `single` vs v1', vs('single'), 1.05),
      aaControlFigure('putCpuAaControl', 'PUT', runs),
      userCpuFigure('dualWriteUserCpuVsV1', 'PUT instance CPU per request, user mode only (the code), v2 `single` vs v1', vs('single')),
      throughputFigure('dualWriteVsV1', 'PUT throughput, v2 dual-write `single` (default) vs v1', vs('single'), 0.95),
      p99Figure('dualWriteP99VsV1', 'PUT p99 latency, v2 `single` vs v1', vs('single'), 1.1),
      ...(v2Transaction
        ? [
            throughputFigure('dualWriteTransactionVsV1', 'PUT throughput, v2 `transaction` vs v1', vs('transaction'), null),
            p99Figure('dualWriteTransactionP99VsV1', 'PUT p99 latency, v2 `transaction` vs v1', vs('transaction'), null),
          ]
        : []),
      throughputFigure('dualWriteSequentialVsV1', "PUT throughput, v2 `sequential` (the seed's) vs v1", vs('sequential'), null),
      p99Figure('dualWriteSequentialP99VsV1', 'PUT p99 latency, v2 `sequential` vs v1', vs('sequential'), null),
    ];
  },
};
