/**
 * A sleep that ends early on request. `interrupt()` ends a sleep in progress only. `signal()` also makes
 * the next sleep return at once when none is in progress, so a notice given while the caller was busy
 * is not lost.
 */
export class InterruptibleSleep {
  #pending = false;
  #finish: (() => void) | null = null;

  sleep(milliseconds: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.#finish = null;
        this.#pending = false;
        resolve();
      };
      const timer = setTimeout(finish, milliseconds);
      this.#finish = finish;
    });
  }

  interrupt(): void {
    this.#finish?.();
  }

  signal(): void {
    if (this.#finish) {
      this.#finish();
    } else {
      this.#pending = true;
    }
  }
}
