/**
 * Waits until ctrl[index] is no longer `value`: spins briefly first, since
 * an iteration's work is often shorter than waking a sleeping thread (a
 * futex round trip of tens of microseconds), then sleeps in Atomics.wait.
 */
export function awaitChange(ctrl: Int32Array, index: number, value: number, timeoutMs = Infinity): void {
  for (let spin = 0; spin < 20_000; spin++) if (Atomics.load(ctrl, index) !== value) return;
  Atomics.wait(ctrl, index, value, timeoutMs);
}
