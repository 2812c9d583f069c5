// Builds the v2 app: the shared HTTP shell around dual-write + dual-read, or new-only (flag write-mode).
import type { Application } from 'express';
import { readYourWrites } from '../shared/db/replica/read-your-writes.ts';
import { usersRepository } from '../shared/db/users-repository.ts';
import { createApp } from '../shared/http/app.ts';
import { userRoutes } from '../shared/http/user-routes.ts';
import { createMetrics } from '../shared/metrics.ts';
import { gatedFlagWrite } from '../shared/rollout/flag-gate.ts';
import type { InstanceDeps } from '../shared/server/run-instance.ts';
import { dualReadPolicy } from './dual-read.ts';
import { crashBetweenWrites, dualWriteStrategy, timedDualWriter } from './dual-write.ts';
import { dualWriteDualReadService } from './service.ts';
import { naiveReplicaReads, withAntiPattern } from './anti-patterns.ts';
import { byWriteMode, newOnlyReader, newOnlyWriter } from './new-only.ts';
import { slowedService } from './slow-requests.ts';

export function buildV2App({ config, instanceId, db, replica, flags, logger }: InstanceDeps): Application {
  const users = usersRepository(db);
  const metrics = createMetrics('v2', instanceId);
  const dualWriter = timedDualWriter(
    dualWriteStrategy(config.DUAL_WRITE_STRATEGY, {
      db,
      users,
      betweenWrites: config.FAULT_INJECT === 'crash-between-writes' ? crashBetweenWrites : undefined,
      trustsNew: () => flags.get('read-trust-new'),
    }),
    config.DUAL_WRITE_STRATEGY,
    metrics,
  );
  const dualReader = dualReadPolicy({ users, flags, metrics, logger, repairOnRead: config.REPAIR_ON_READ });
  const dual = withAntiPattern(config.ANTI_PATTERN, { writer: dualWriter, reader: dualReader, users, db, logger, crash: crashBetweenWrites });
  const { writer, reader } = byWriteMode(flags, dual, { writer: newOnlyWriter(users), reader: newOnlyReader({ users, metrics, logger }) });
  const replicaReads =
    replica && (config.ANTI_PATTERN === 'replica-reads' ? naiveReplicaReads({ primary: db, replica }) : readYourWrites({ primary: db, replica, waitMs: config.REPLICA_WAIT_MS }));
  const service = dualWriteDualReadService(writer, reader);
  return createApp(
    { appVersion: 'v2', instanceId, db, flags, logger, adminToken: config.ADMIN_TOKEN, writeFlags: gatedFlagWrite, metrics },
    userRoutes(config.FAULT_INJECT === 'slow-requests' ? slowedService(config.FAULT_SLOW_MS, service) : service, replicaReads),
  );
}
