// The instance's lease on its registry row: what makes "alive in the registry" and "serving" the same set.
// The registry counts an instance alive while its last heartbeat is younger than ALIVE_HEARTBEATS intervals of
// the database clock; the instance holds its lease for the same window from the moment it SENT its last
// successful heartbeat, on its own monotonic clock (performance.now: it keeps running while the process is
// stopped, and wall-clock steps do not move it). The send precedes the database's timestamp, so the instance's
// lease always ends before the registry stops counting it alive. Every public request checks the lease first:
// a process resumed after SIGSTOP refuses the requests that waited for it before it touches the database.
import { performance } from 'node:perf_hooks';

export class Lease {
  private until = Number.NEGATIVE_INFINITY;
  private held = false;
  private revoked = false;
  /** Heartbeats sent before this moment no longer renew (see lapse()). */
  private lapsedAt = Number.NEGATIVE_INFINITY;
  private expiry: NodeJS.Timeout | undefined;

  /** onChange(held) runs on every change: the lease was gained (again) or lost. */
  constructor(
    readonly windowMs: number,
    private readonly onChange: (held: boolean) => void,
  ) {}

  /** A heartbeat sent at `sentAt` (performance.now()) succeeded. */
  renew(sentAt: number): void {
    if (this.revoked || sentAt < this.lapsedAt) return;
    this.until = Math.max(this.until, sentAt + this.windowMs);
    this.armExpiry();
    this.isHeld();
  }

  /**
   * A timer for the end of the window. Node runs a timer on its loop clock, in whole milliseconds, so it can fire
   * a fraction of a millisecond before `until` on this clock: then it looks again instead of leaving the lease
   * "held" until some request happens to ask (the public port would stay open past the window).
   */
  private armExpiry(): void {
    clearTimeout(this.expiry);
    this.expiry = setTimeout(() => {
      if (this.isHeld()) this.armExpiry();
    }, Math.ceil(Math.max(0, this.until - performance.now())) + 1);
    this.expiry.unref();
  }

  /**
   * Ends the lease now, until a heartbeat SENT after this moment succeeds: the instance found the database
   * unreachable, and one sent before may have got through before the cut.
   */
  lapse(): void {
    if (this.revoked) return;
    this.lapsedAt = performance.now();
    this.until = Math.min(this.until, this.lapsedAt);
    clearTimeout(this.expiry);
    this.isHeld();
  }

  /** For good: the instance is leaving (stage guard, shutdown). */
  revoke(): void {
    this.revoked = true;
    clearTimeout(this.expiry);
    this.isHeld();
  }

  /** Checked on every public request; reports a change once. */
  isHeld(): boolean {
    const held = !this.revoked && performance.now() < this.until;
    if (held !== this.held) {
      this.held = held;
      this.onChange(held);
    }
    return held;
  }

  /** Whether it was ever held (false while the instance is starting). */
  get everHeld(): boolean {
    return this.until !== Number.NEGATIVE_INFINITY;
  }
}
