import type { Clock, TimerHandle, Timers } from '../../src/index.js';

/** A clock and timers that move only when the test says so: no real sleep, no timing assertion. */
export class ManualTimers implements Clock, Timers {
  private current: number;
  private nextId = 1;
  private readonly due = new Map<number, { at: number; ms: number; callback: () => void }>();

  constructor(start = Date.parse('2026-11-22T03:00:00Z')) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.due.set(id, { at: this.current + ms, ms, callback });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.due.delete(handle as number);
  }

  /** Delays of the timers still pending, in the order they were set. */
  pendingDelays(): number[] {
    return [...this.due.values()].map((timer) => timer.ms);
  }

  /** Moves time forward by `ms`, firing every timer that falls due, earliest first. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const next = [...this.due.entries()].filter(([, timer]) => timer.at <= target).sort((a, b) => a[1].at - b[1].at)[0];
      if (!next) break;
      const [id, timer] = next;
      this.due.delete(id);
      this.current = timer.at;
      timer.callback();
    }
    this.current = target;
  }
}
