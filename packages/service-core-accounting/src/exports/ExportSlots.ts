import { BusyError } from '../errors.js';

/** How long a refused export is told to wait before asking again (`Retry-After`). */
export const EXPORTS_BUSY_RETRY_AFTER_SECONDS = 5;

/** A taken slot. `release` gives it back; calling it again does nothing. */
export interface ExportSlot {
  readonly release: () => void;
}

/**
 * At most `max` audit exports at once in this process: an export reads and serializes the
 * whole range, so a few at once already take most of a core. Beyond that, `acquire` refuses
 * with `EXPORTS_BUSY` instead of queueing, so a client retries rather than holding a
 * connection open.
 */
export class ExportSlots {
  #inUse = 0;

  constructor(
    readonly max: number,
    readonly retryAfterSeconds: number = EXPORTS_BUSY_RETRY_AFTER_SECONDS,
  ) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`max must be an integer >= 1, got ${max}`);
  }

  /** Slots taken now. */
  get inUse(): number {
    return this.#inUse;
  }

  /** Takes a slot, or throws `BusyError` (`EXPORTS_BUSY`) when all `max` are taken. */
  acquire(): ExportSlot {
    if (this.#inUse >= this.max) {
      throw new BusyError(
        `${this.max} export(s) already running on this instance; retry in ${this.retryAfterSeconds} s`,
        'EXPORTS_BUSY',
        this.retryAfterSeconds,
      );
    }
    this.#inUse += 1;
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.#inUse -= 1;
      },
    };
  }
}
