/** The source of the current time for every decision about tolerances, leases, retries and expiry. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = {
  now: () => new Date(),
};

/** A clock that moves only when told to, for tests of retries, leases and expiry. */
export class ManualClock implements Clock {
  #current: number;

  constructor(start: Date = new Date()) {
    this.#current = start.getTime();
  }

  now(): Date {
    return new Date(this.#current);
  }

  advance(milliseconds: number): void {
    this.#current += milliseconds;
  }

  set(time: Date): void {
    this.#current = time.getTime();
  }
}
