// make bench's progress lines: every line says how long the bench has run and, from each part's planned seconds,
// about how long is left (gh-ost's status line: progress, elapsed, ETA).
import type { Progress } from './compare.ts';
import { mmss } from './report.ts';

export class ProgressClock {
  private readonly started = performance.now();
  private readonly spent: Record<string, number> = {};
  private partStartedAt = 0;
  /** The part being measured, for an interrupted run's bench.json. */
  current: string | undefined;

  /** `plan`: each part's planned seconds (0 for a part that does not run), in the order they run. */
  constructor(private readonly plan: Record<string, number>) {}

  readonly log: Progress = (line: string) => {
    console.log(`[${mmss(performance.now() - this.started)} elapsed, ~${mmss(this.secondsLeft() * 1000)} left] ${line}`);
  };

  start(part: string, what: string): void {
    this.current = part;
    this.partStartedAt = performance.now();
    this.log(`== ${part}: ${what}`);
  }

  finish(part: string): void {
    this.spent[part] = (performance.now() - this.partStartedAt) / 1000;
    this.current = undefined;
  }

  /** Seconds each finished part took (the setup included): where a run's time went. */
  partSeconds(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.spent).map(([part, s]) => [part, Math.round(s)]));
  }

  elapsedSeconds(): number {
    return (performance.now() - this.started) / 1000;
  }

  /**
   * The plan of the parts still to run, scaled by how much slower than planned the finished parts were (a busy
   * machine seeds and updates more slowly), less what the current part has used.
   */
  private secondsLeft(): number {
    const finished = Object.keys(this.spent);
    const plannedDone = finished.reduce((sum, part) => sum + this.plan[part]!, 0);
    const slowdown = plannedDone > 0 ? Math.max(0.5, finished.reduce((sum, part) => sum + this.spent[part]!, 0) / plannedDone) : 1;
    const inCurrent = this.current ? (performance.now() - this.partStartedAt) / 1000 : 0;
    return Object.entries(this.plan).reduce((sum, [part, s]) => {
      if (part in this.spent) return sum;
      return sum + (part === this.current ? Math.max(0, s * slowdown - inCurrent) : s * slowdown);
    }, 0);
  }
}
