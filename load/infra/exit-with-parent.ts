// Preloaded (node --import) into every Node child a run starts (app instances, backfill, verify: cleanup.ts
// spawnNode): the parent hands it the read end of a pipe on fd EXIT_WITH_PARENT_FD and never writes to it. The
// kernel closes the write end when the parent dies, however it dies (kill -9 included), so end-of-file here means
// "the run is gone": the child sends itself SIGTERM (an instance drains and exits as on any SIGTERM; the backfill
// stops after its batch, resumable) and exits anyway if that has not ended it within EXIT_DEADLINE_MS.
// Linux's prctl(PR_SET_PDEATHSIG) would do the same but is not reachable from Node without a native addon.
import net from 'node:net';

const EXIT_DEADLINE_MS = 10_000;
const fd = Number(process.env.EXIT_WITH_PARENT_FD);
// Not for this process's own children: they get a pipe of their own, or none.
delete process.env.EXIT_WITH_PARENT_FD;

if (Number.isInteger(fd) && fd > 2) {
  const pipe = new net.Socket({ fd, readable: true, writable: false });
  let gone = false;
  const parentGone = () => {
    if (gone) return;
    gone = true;
    process.kill(process.pid, 'SIGTERM');
    setTimeout(() => process.exit(1), EXIT_DEADLINE_MS).unref();
  };
  pipe.on('end', parentGone);
  pipe.on('close', parentGone);
  pipe.on('error', parentGone);
  pipe.resume();
  // The pipe alone must not keep the child alive.
  pipe.unref();
}
