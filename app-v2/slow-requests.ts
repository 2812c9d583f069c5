// ############################################################################################################
// #  TEST ONLY: A DELIBERATELY SLOWED v2. Never copy anything from this file.                                #
// #  Active only when v2 is started with FAULT_INJECT=slow-requests (FAULT_SLOW_MS, default 20). make bench's #
// #  own test sets it (BENCH_TEST_SLOW_V2_MS) to show that the bench judges a real regression as a fail.     #
// ############################################################################################################
import type { UserService } from '../shared/http/user-routes.ts';

/**
 * Spends `ms` of the process's own CPU time (user + system), not of the wall clock: on a busy machine a loop
 * timed by the wall clock is descheduled for most of its length and costs a fraction of `ms` (seen: 20 ms of
 * wall time cost ~2 ms of CPU at load average 15 on 2 cores), and the regression the bench must see vanished.
 */
function burnCpu(ms: number): void {
  const start = process.cpuUsage();
  const spent = () => {
    const { user, system } = process.cpuUsage(start);
    return (user + system) / 1000;
  };
  while (spent() < ms);
}

/** The same service, `ms` of CPU slower on every user request. */
export function slowedService(ms: number, service: UserService): UserService {
  return {
    create: (fields) => (burnCpu(ms), service.create(fields)),
    update: (id, fields) => (burnCpu(ms), service.update(id, fields)),
    patch: (id, patch) => (burnCpu(ms), service.patch(id, patch)),
    delete: (id) => (burnCpu(ms), service.delete(id)),
    get: (id, reads) => (burnCpu(ms), service.get(id, reads)),
    lookup: (value, limit, reads) => (burnCpu(ms), service.lookup(value, limit, reads)),
  };
}
