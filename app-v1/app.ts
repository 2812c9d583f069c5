// Builds the v1 app: the shared HTTP shell around the old-columns service.
import type { Application } from 'express';
import { readYourWrites } from '../shared/db/replica/read-your-writes.ts';
import { usersRepository } from '../shared/db/users-repository.ts';
import { createApp } from '../shared/http/app.ts';
import { userRoutes } from '../shared/http/user-routes.ts';
import { createMetrics } from '../shared/metrics.ts';
import { gatedFlagWrite } from '../shared/rollout/flag-gate.ts';
import type { InstanceDeps } from '../shared/server/run-instance.ts';
import { oldColumnsService } from './service.ts';

export function buildV1App({ config, instanceId, db, replica, flags, logger }: Pick<InstanceDeps, 'config' | 'instanceId' | 'db' | 'replica' | 'flags' | 'logger'>): Application {
  return createApp(
    { appVersion: 'v1', instanceId, db, flags, logger, adminToken: config.ADMIN_TOKEN, writeFlags: gatedFlagWrite, metrics: createMetrics('v1', instanceId) },
    userRoutes(oldColumnsService(usersRepository(db)), replica && readYourWrites({ primary: db, replica, waitMs: config.REPLICA_WAIT_MS })),
  );
}
