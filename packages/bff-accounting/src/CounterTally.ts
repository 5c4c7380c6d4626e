import { Counter, type CounterConfiguration } from 'prom-client';

/** One labelled series of a counter, incremented on a hot path. */
export interface TalliedSeries {
  inc(): void;
}

interface PendingSeries extends TalliedSeries {
  readonly child: Counter.Internal;
  count: number;
}

/**
 * Counter increments kept as plain numbers on the hot path and added to their prom-client
 * counters when those are read: a counter made by `tally.counter(...)` gets its pending counts
 * from its `collect` hook on every scrape and every `get()`, so what /metrics shows is the
 * same, while a request pays one addition instead of prom-client's label validation and
 * hashing on every `inc()` (docs/BENCHMARKS.md, "What was changed"). Label sets must be
 * bounded, as for any series: each is kept for the life of the process, as prom-client keeps
 * its own. Counts waiting for a read survive `counter.reset()` and `counter.remove()` (they
 * come back at the next read); nothing in the service resets or removes these counters.
 */
export class CounterTally {
  private readonly pending = new Map<Counter<string>, Map<string, PendingSeries>>();

  /** A prom-client counter whose `collect` hook adds this tally's counts for it. */
  counter<T extends string>(configuration: Omit<CounterConfiguration<T>, 'collect'>): Counter<T> {
    const series = new Map<string, PendingSeries>();
    const counter = new Counter<T>({ ...configuration, collect: () => addPendingCounts(series) });
    this.pending.set(counter as Counter<string>, series);
    return counter;
  }

  /** The series of `counter` with `labelValues` (in the counter's label order); look it up once and keep it. */
  series<T extends string>(counter: Counter<T>, ...labelValues: string[]): TalliedSeries {
    const ofCounter = this.pending.get(counter as Counter<string>);
    // Only counters made by `counter()` have the collect hook that adds the counts.
    if (!ofCounter) {
      throw new Error('CounterTally: the counter was not made by this tally, so no collect hook would ever add its tallied counts');
    }
    const key = JSON.stringify(labelValues);
    let found = ofCounter.get(key);
    if (!found) {
      found = {
        child: counter.labels(...labelValues),
        count: 0,
        inc() {
          this.count++;
        },
      };
      ofCounter.set(key, found);
    }
    return found;
  }
}

/** Adds the counts kept for `series` since the last read to their counters. */
function addPendingCounts(series: Map<string, PendingSeries>): void {
  for (const pending of series.values()) {
    if (pending.count === 0) continue;
    pending.child.inc(pending.count);
    pending.count = 0;
  }
}
