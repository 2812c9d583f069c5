// The Kubernetes manifests (deploy/kubernetes/, kustomize) cannot be applied here (no cluster), so they are
// validated offline: `kubectl kustomize` (Debian's kubectl) renders them, and every object is checked against the
// Kubernetes OpenAPI schemas bundled in the kubernetes-models npm package (its validators: types, required
// fields, formats) and against its TypeScript types generated from the same OpenAPI (tsc's excess-property
// check: an unknown or misspelt field fails). The shutdown timings are checked against shared/config.ts.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { BALANCER_UPSTREAM_KEEPALIVE_TIMEOUT_MS, DRAIN_DEADLINE_MS, KEEP_ALIVE_TIMEOUT_MS } from '../../shared/config.ts';
import { opsHandler } from '../../shared/server/ops.ts';
import { newComposeEnv } from '../template/support/compose.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
const kubectl = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, 'kubectl')).find((file) => fs.existsSync(file)) ?? null;
if (!kubectl && process.env.REQUIRE_KUBECTL === '1') throw new Error('kubectl not found on PATH (REQUIRE_KUBECTL=1; apt-get install kubectl)');

// Each kind the manifests use: the model that validates it and the TypeScript type tsc checks it against.
const MODELS: Record<string, { model: new (data: never) => { validate(): void }; type: string; from: string }> = {
  'apps/v1/Deployment': { model: Deployment as never, type: 'IDeployment', from: 'kubernetes-models/apps/v1' },
  'batch/v1/Job': { model: Job as never, type: 'IJob', from: 'kubernetes-models/batch/v1' },
  'policy/v1/PodDisruptionBudget': { model: PodDisruptionBudget as never, type: 'IPodDisruptionBudget', from: 'kubernetes-models/policy/v1' },
  'v1/Service': { model: Service as never, type: 'IService', from: 'kubernetes-models/v1' },
  'v1/Namespace': { model: Namespace as never, type: 'INamespace', from: 'kubernetes-models/v1' },
  'v1/ConfigMap': { model: ConfigMap as never, type: 'IConfigMap', from: 'kubernetes-models/v1' },
  'v1/Secret': { model: Secret as never, type: 'ISecret', from: 'kubernetes-models/v1' },
};
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a manifest's spec is whatever its kind says; the schema validation checks it
type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; spec?: Record<string, any> };
const key = (m: Manifest) => `${m.apiVersion}/${m.kind}`;

/** kubectl kustomize on a copy of deploy/kubernetes (with the accounts.env its Secret is generated from), edited by `edit`. */
async function render(edit: (dir: string) => void = () => {}): Promise<Manifest[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dwdr-k8s-'));
  try {
    fs.cpSync(path.join(ROOT, 'deploy/kubernetes'), dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'accounts.env'), Object.entries(await newComposeEnv()).map(([k, v]) => `${k}=${v}`).join('\n'));
    edit(dir);
    const { stdout } = await run(kubectl!, ['kustomize', dir], { maxBuffer: 16 * 1024 * 1024 });
    return parseAllDocuments(stdout).map((doc) => doc.toJS() as Manifest);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Every object against the bundled OpenAPI validators; the messages of those that fail. */
function schemaErrors(manifests: Manifest[]): string[] {
  return manifests.flatMap((manifest) => {
    const entry = MODELS[key(manifest)];
    if (!entry) return [`${key(manifest)} ${manifest.metadata.name}: no schema bundled for this kind`];
    try {
      new entry.model(manifest as never).validate();
      return [];
    } catch (err) {
      return [`${key(manifest)} ${manifest.metadata.name}: ${(err as Error).message}`];
    }
  });
}

/**
 * tsc on files that declare every object as an object literal of its Kubernetes type (unknown fields fail), one
 * file per set of manifests and one tsc run for all (it is the slow part): tsc's output for each set.
 */
async function typeErrors(sets: Manifest[][]): Promise<string[]> {
  // Under node_modules/.cache: the files resolve kubernetes-models from there, and no stray copy can ever end
  // up in the project's own typecheck.
  fs.mkdirSync(path.join(ROOT, 'node_modules/.cache'), { recursive: true });
  const dir = fs.mkdtempSync(path.join(ROOT, 'node_modules/.cache/k8s-types-'));
  try {
    const files = sets.map((manifests, n) => {
      const imports = [...new Set(manifests.map((m) => MODELS[key(m)]!))].map((e) => `import type { ${e.type} } from '${e.from}';`);
      const objects = manifests.map((m, i) => `export const object${i} = ${JSON.stringify(m, null, 2)} satisfies ${MODELS[key(m)]!.type};`);
      const file = path.join(dir, `set${n}.ts`);
      fs.writeFileSync(file, [...imports, ...objects].join('\n'));
      return file;
    });
    const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
    const output = await run(process.execPath, [tsc, '--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', ...files], { cwd: ROOT }).then(
      () => '',
      (err: { stdout: string }) => err.stdout,
    );
    return files.map((file) => output.split('\n').filter((line) => line.includes(path.basename(file))).join('\n'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** What the shutdown timings must satisfy, per Deployment; the broken rules. */
function timingErrors(manifests: Manifest[]): string[] {
  return manifests.filter((m) => m.kind === 'Deployment').flatMap((deployment) => {
    const pod = deployment.spec!.template.spec;
    const preStop = pod.containers[0].lifecycle?.preStop?.exec?.command as string[] | undefined;
    const preStopS = preStop?.[0] === 'sleep' ? Number(preStop[1]) : 0;
    const graceS = Number(pod.terminationGracePeriodSeconds ?? 30);
    const errors: string[] = [];
    // While preStop sleeps, the pod leaves the Service's endpoints and a keep-alive balancer closes its idle
    // connections (nginx's upstream keepalive_timeout, 2 s; Node's keepAliveTimeout, 5 s, is the longest an idle one lives).
    if (preStopS * 1000 < Math.max(KEEP_ALIVE_TIMEOUT_MS, BALANCER_UPSTREAM_KEEPALIVE_TIMEOUT_MS)) errors.push(`${deployment.metadata.name}: preStop sleeps ${preStopS} s, less than the keep-alive timeout (${KEEP_ALIVE_TIMEOUT_MS} ms)`);
    // SIGTERM comes after preStop; the drain may then take DRAIN_DEADLINE_MS; SIGKILL must come later still.
    if (graceS * 1000 < preStopS * 1000 + DRAIN_DEADLINE_MS + 1000) errors.push(`${deployment.metadata.name}: terminationGracePeriodSeconds ${graceS} is shorter than preStop (${preStopS} s) + the drain deadline (${DRAIN_DEADLINE_MS} ms) + 1 s`);
    return errors;
  });
}

type Probe = { httpGet?: { path: string; port: string | number }; tcpSocket?: { port: string | number } };

/**
 * What the probes must agree with in the code (shared/server/ops.ts, shared/config.ts): both on the ops port
 * (OPS_PORT; the public PORT stays closed until the instance is ready), liveness on a path the ops server answers
 * 200 while the instance is still starting, readiness on one it answers 503 until then. `statusWhileStarting`
 * asks the real ops handler. The broken rules.
 */
function probeErrors(manifests: Manifest[], statusWhileStarting: Map<string, number>): string[] {
  return manifests.filter((m) => m.kind === 'Deployment').flatMap((deployment) => {
    const container = deployment.spec!.template.spec.containers[0];
    const env = Object.fromEntries((container.env as { name: string; value?: string }[]).map((e) => [e.name, e.value]));
    const portNumber = (port: string | number | undefined) => (typeof port === 'number' ? port : (container.ports as { name: string; containerPort: number }[]).find((p) => p.name === port)?.containerPort);
    const errors: string[] = [];
    const where = (probe: string) => `${deployment.metadata.name} ${probe}`;
    if (portNumber('http') !== Number(env.PORT)) errors.push(`${deployment.metadata.name}: containerPort http is not PORT (${env.PORT})`);
    for (const [name, expected] of [['livenessProbe', 200], ['readinessProbe', 503]] as const) {
      const probe = container[name] as Probe | undefined;
      if (!probe?.httpGet) {
        errors.push(`${where(name)}: not an HTTP probe of the ops port`);
        continue;
      }
      if (env.OPS_PORT === undefined || portNumber(probe.httpGet.port) !== Number(env.OPS_PORT)) errors.push(`${where(name)}: port ${probe.httpGet.port} is not OPS_PORT (${env.OPS_PORT ?? 'unset'})`);
      const status = statusWhileStarting.get(probe.httpGet.path);
      if (status !== expected) errors.push(`${where(name)}: ${probe.httpGet.path} answers ${status} while the instance starts, ${expected} expected`);
    }
    return errors;
  });
}

/** GET each path of the real ops handler of an instance that is still starting (not registered yet). */
async function opsStatusWhileStarting(paths: string[]): Promise<Map<string, number>> {
  const server = http.createServer(opsHandler({ appVersion: 'v1', instanceId: 'probe-check', readiness: () => 'starting', app: () => undefined }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const statuses = await Promise.all(paths.map(async (p) => [p, (await fetch(`http://127.0.0.1:${port}${p}`)).status] as const));
    return new Map(statuses);
  } finally {
    server.close();
  }
}

describe.skipIf(!kubectl)('Kubernetes manifests (deploy/kubernetes)', () => {
  let manifests: Manifest[];
  beforeAll(async () => {
    manifests = await render();
  }, 60_000);

  it('When kustomize renders them, then every object validates against the bundled Kubernetes OpenAPI schemas and types; a wrong type or a misspelt field fails', async () => {
    expect(manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual(
      expect.arrayContaining(['Deployment/app-v1', 'Deployment/app-v2', 'Job/db-migrate', 'Job/rollout', 'Namespace/dual-write-dual-read', 'PodDisruptionBudget/app-v1', 'PodDisruptionBudget/app-v2', 'Service/app']),
    );
    expect(schemaErrors(manifests)).toEqual([]);

    const wrongType = structuredClone(manifests);
    wrongType.find((m) => m.metadata.name === 'app-v2' && m.kind === 'Deployment')!.spec!.replicas = 'two';
    expect(schemaErrors(wrongType)).toEqual([expect.stringMatching(/app-v2: .*replicas must be integer/)]);
    const misspelt = structuredClone(manifests);
    const pod = misspelt.find((m) => m.metadata.name === 'app-v1' && m.kind === 'Deployment')!.spec!.template.spec;
    pod.terminationGracePeriodSecond = pod.terminationGracePeriodSeconds;
    delete pod.terminationGracePeriodSeconds;

    const [clean, planted] = await typeErrors([manifests, misspelt]);
    expect(clean).toBe('');
    expect(planted).toMatch(/terminationGracePeriodSecond/);
  }, 90_000);

  it('When the shutdown timings are read, then preStop outlasts the keep-alive timeout and the grace period covers preStop plus the drain deadline (shared/config.ts)', () => {
    expect(timingErrors(manifests)).toEqual([]);
  });

  it('When a Deployment\'s grace period is shorter than the drain, then the timing check fails it', async () => {
    const planted = await render((dir) => {
      const file = path.join(dir, 'deployment-v2.yaml');
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/terminationGracePeriodSeconds: \d+/, 'terminationGracePeriodSeconds: 12'));
    });
    expect(timingErrors(planted)).toEqual([expect.stringMatching(/^app-v2: terminationGracePeriodSeconds 12 is shorter/)]);
  }, 60_000);

  it('When the probes are read, then liveness (/livez) and readiness (/healthz) are on the ops port the code opens from start, with the statuses the real ops handler gives a starting instance', async () => {
    const statuses = await opsStatusWhileStarting(['/livez', '/healthz']);
    expect(Object.fromEntries(statuses)).toEqual({ '/livez': 200, '/healthz': 503 });

    expect(probeErrors(manifests, statuses)).toEqual([]);
  });

  it('When a probe is planted on the public port or on the wrong path, then the probe check fails it', async () => {
    const planted = await render((dir) => {
      const file = path.join(dir, 'deployment-v1.yaml');
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('path: /livez', 'path: /healthz'));
      const v2 = path.join(dir, 'deployment-v2.yaml');
      fs.writeFileSync(v2, fs.readFileSync(v2, 'utf8').replace(/(readinessProbe:\s+httpGet:\s+path: \/healthz\s+port:) ops/, '$1 http'));
    });
    const statuses = await opsStatusWhileStarting(['/livez', '/healthz']);

    expect(probeErrors(planted, statuses)).toEqual([
      'app-v1 livenessProbe: /healthz answers 503 while the instance starts, 200 expected',
      'app-v2 readinessProbe: port http is not OPS_PORT (9000)',
    ]);
  }, 60_000);

  it('When the rollout objects are read, then each version has a PDB and the Service, never replaces a serving pod (a refusing one stays in back-off), no Job is retried, and each runs on its own account', () => {
    const service = manifests.find((m) => m.kind === 'Service')!;
    for (const version of ['v1', 'v2']) {
      const deployment = manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === `app-${version}`)!;
      const container = deployment.spec!.template.spec.containers[0];
      const labels = deployment.spec!.template.metadata.labels as Record<string, string>;
      expect(container.readinessProbe.httpGet).toEqual({ path: '/healthz', port: 'ops' });
      expect(container.livenessProbe.httpGet).toEqual({ path: '/livez', port: 'ops' });
      // A pod that refuses its stage (exit 3) never replaces a serving one, and the rollout is marked failed.
      expect(deployment.spec!.strategy.rollingUpdate.maxUnavailable).toBe(0);
      expect(deployment.spec!.progressDeadlineSeconds).toBeGreaterThan(0);
      expect(container.env.find((e: { name: string }) => e.name === 'DATABASE_URL').value).toMatch(new RegExp(`^mysql://app_${version}:`));
      const pdb = manifests.find((m) => m.kind === 'PodDisruptionBudget' && m.metadata.name === `app-${version}`)!;
      expect(Object.entries(pdb.spec!.selector.matchLabels).every(([k, v]) => labels[k] === v)).toBe(true);
      expect(Object.entries(service.spec!.selector).every(([k, v]) => labels[k] === v)).toBe(true);
    }
    const job = (name: string) => manifests.find((m) => m.kind === 'Job' && m.metadata.name === name)!.spec!;
    // A refusal is an answer: a Job is never retried, so a refused advance or migration cannot loop either.
    for (const name of ['db-migrate', 'rollout']) expect({ name, backoffLimit: job(name).backoffLimit, restartPolicy: job(name).template.spec.restartPolicy }).toEqual({ name, backoffLimit: 0, restartPolicy: 'Never' });
    const jobUser = (name: string) => manifests.find((m) => m.kind === 'Job' && m.metadata.name === name)!.spec!.template.spec.containers[0].env.find((e: { name: string }) => e.name === 'DATABASE_URL').value;
    expect(jobUser('db-migrate')).toMatch(/^mysql:\/\/migrator:/);
    expect(jobUser('rollout')).toMatch(/^mysql:\/\/cli:/);
  });
});
