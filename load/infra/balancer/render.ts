// Renders the one balancer template (nginx.conf.template, the same the local demo uses) to a file, for a
// balancer that runs elsewhere: docker-compose.yml's one-shot `nginx-config` service fills it with the compose
// service names and writes it into the volume the `nginx` service reads. Also creates the run dir's logs/ and
// tmp/ (nginx creates neither parent itself).
//   node dist/load/infra/balancer/render.js --upstream HOST:PORT [--upstream ...] --listen-port N [--listen-host H]
//                                     --run-dir DIR --out FILE [--resolver DNS]
// --resolver makes nginx re-resolve the slots' names while it runs (nginx 1.27.3+: compose passes Docker's DNS).
// Exit 2 with one line naming the option on bad input.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fillTemplate } from './nginx.ts';

const USAGE = 'usage: render --upstream HOST:PORT [--upstream ...] --listen-port N [--listen-host H] --run-dir DIR --out FILE [--resolver DNS]';

function fail(message: string): never {
  console.error(`render: ${message} (${USAGE})`);
  process.exit(2);
}

let values: { upstream?: string[]; 'listen-port'?: string; 'listen-host'?: string; 'run-dir'?: string; out?: string; resolver?: string };
try {
  ({ values } = parseArgs({
    options: {
      upstream: { type: 'string', multiple: true },
      'listen-port': { type: 'string' },
      'listen-host': { type: 'string' },
      'run-dir': { type: 'string' },
      out: { type: 'string' },
      resolver: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (err) {
  fail((err as Error).message.split('. ')[0]!);
}
for (const required of ['upstream', 'listen-port', 'run-dir', 'out'] as const) {
  if (values[required] === undefined) fail(`--${required}: required`);
}
const listenPort = Number(values['listen-port']);
let config: string;
try {
  config = fillTemplate({
    upstreams: values.upstream!,
    listenPort,
    ...(values['listen-host'] ? { listenHost: values['listen-host'] } : {}),
    runDir: values['run-dir']!,
    ...(values.resolver ? { resolver: values.resolver } : {}),
  });
} catch (err) {
  fail((err as Error).message.replace(/^fillTemplate: /, ''));
}
const out = path.resolve(values.out!);
mkdirSync(path.join(values['run-dir']!, 'logs'), { recursive: true });
mkdirSync(path.join(values['run-dir']!, 'tmp'), { recursive: true });
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, config);
console.log(`render: ${out}: listen ${values['listen-host'] ?? '127.0.0.1'}:${listenPort}, ${values.upstream!.length} upstream slots (${values.upstream!.join(', ')})${values.resolver ? `, re-resolved with ${values.resolver}` : ''}`);
