import { describe, expect, test } from "bun:test";
import { InterruptibleSleep } from "../src/interruptible-sleep";

/** Returns how many milliseconds `sleep` took to settle. */
async function timed(sleep: Promise<void>): Promise<number> {
  const startedAt = performance.now();
  await sleep;
  return performance.now() - startedAt;
}

describe("interruptible sleep", () => {
  test("interrupt ends a sleep early", async () => {
    const sleeper = new InterruptibleSleep();
    const sleeping = timed(sleeper.sleep(5_000));

    sleeper.interrupt();

    expect(await sleeping).toBeLessThan(1_000);
  });

  test("signal before a sleep ends it at once", async () => {
    const sleeper = new InterruptibleSleep();

    sleeper.signal();

    expect(await timed(sleeper.sleep(5_000))).toBeLessThan(1_000);
  });

  test("signal is used up by one sleep", async () => {
    const sleeper = new InterruptibleSleep();
    sleeper.signal();
    await sleeper.sleep(5_000);

    expect(await timed(sleeper.sleep(50))).toBeGreaterThanOrEqual(40);
  });

  test("interrupt before a sleep is not kept", async () => {
    const sleeper = new InterruptibleSleep();

    sleeper.interrupt();

    expect(await timed(sleeper.sleep(50))).toBeGreaterThanOrEqual(40);
  });
});
