/**
 * Timing and reporting helpers shared by the peer benchmark scripts.
 *
 * @module
 */

/** What {@link timeMedian} measured. */
export interface Timing {
  /** Median wall time of one call, in milliseconds. */
  readonly medianMs: number;
  /** Fastest call, in milliseconds. */
  readonly minMs: number;
  /** Timed calls (after warm-up). */
  readonly runs: number;
}

/** How long to measure. */
export interface TimingOptions {
  /** Untimed calls first (JIT, caches, thread pools). */
  readonly warmup: number;
  /** Timed calls, at least. */
  readonly runs: number;
  /** Keep timing past `runs` until this much time has been spent timing. Default 0. */
  readonly minTotalMs?: number;
}

/**
 * Idle time before each turn when runtimes with thread pools take turns:
 * ONNX Runtime's and XNNPACK's pools spin for a while after their work, and
 * would compete with the next runtime's threads.
 */
export const SPIN_SETTLE_MS = 20;

/**
 * Waits `ms` milliseconds without letting this core idle, since an idle core
 * may be clocked down when the next turn's first calls run.
 */
function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // Spin: the point is to keep this core busy.
  }
}

/** How {@link timeInterleaved} takes turns. */
export interface InterleaveOptions extends TimingOptions {
  /**
   * Calls per turn, default 1. Above 1, the first call of a turn is untimed:
   * it brings the implementation's working set back into cache after the
   * others ran, so each timed call is hot-cache, as in a microbenchmark.
   */
  readonly burst?: number;
  /** Idle time before each turn, default 0 (see {@link SPIN_SETTLE_MS}). */
  readonly pauseMs?: number;
}

/**
 * Calls `fn` `warmup` times, then times it one call at a time and returns
 * the median. `fn` may return a promise, which is awaited inside the timed
 * region.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { timeMedian } from "./measure.ts";
 * let calls = 0;
 * const timing = await timeMedian(() => calls++, { warmup: 2, runs: 5 });
 * assert(calls === 7 && timing.runs === 5 && timing.minMs <= timing.medianMs);
 * ```
 */
export async function timeMedian(
  fn: () => unknown,
  options: TimingOptions,
): Promise<Timing> {
  for (let i = 0; i < options.warmup; i++) await fn();
  const samples: number[] = [];
  let total = 0;
  while (samples.length < options.runs || total < (options.minTotalMs ?? 0)) {
    const start = performance.now();
    await fn();
    const elapsed = performance.now() - start;
    samples.push(elapsed);
    total += elapsed;
  }
  return summarize(samples);
}

function summarize(samples: number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const medianMs = sorted.length % 2 === 1
    ? sorted[middle]
    : (sorted[middle - 1] + sorted[middle]) / 2;
  return { medianMs, minMs: sorted[0], runs: sorted.length };
}

/**
 * Times several implementations in rounds: each round gives every one of
 * them a turn of `burst` calls, in an order that rotates from round to round,
 * so that a slow spell of a shared machine hits all of them alike instead of
 * whichever happened to be running. Rounds go on until each has at least
 * `runs` timed calls and `minTotalMs` of timed calls. Returns each one's
 * median, keyed like `fns`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { timeInterleaved } from "./measure.ts";
 * const order: string[] = [];
 * const timings = await timeInterleaved(
 *   { a: () => order.push("a"), b: () => order.push("b") },
 *   { warmup: 1, runs: 3 },
 * );
 * assert.equal(timings.a.runs, 3);
 * assert.deepEqual(order, ["a", "b", "a", "b", "b", "a", "a", "b"]);
 * const bursts = await timeInterleaved({ a: () => {}, b: () => {} }, { warmup: 0, runs: 4, burst: 3 });
 * assert.equal(bursts.b.runs, 4); // 2 rounds × 2 timed calls per turn
 * ```
 */
export async function timeInterleaved<K extends string>(
  fns: Record<K, () => unknown>,
  options: InterleaveOptions,
): Promise<Record<K, Timing>> {
  const keys = Object.keys(fns) as K[];
  const burst = options.burst ?? 1;
  for (let i = 0; i < options.warmup; i++) for (const key of keys) await fns[key]();
  const samples = new Map<K, number[]>(keys.map((key) => [key, []]));
  const totals = new Map<K, number>(keys.map((key) => [key, 0]));
  const enough = () =>
    keys.every((key) =>
      samples.get(key)!.length >= options.runs && totals.get(key)! >= (options.minTotalMs ?? 0)
    );
  for (let round = 0; !enough(); round++) {
    for (let i = 0; i < keys.length; i++) {
      const key = keys[(round + i) % keys.length];
      if (options.pauseMs) busyWait(options.pauseMs);
      if (burst > 1) await fns[key]();
      for (let call = burst > 1 ? 1 : 0; call < burst; call++) {
        const start = performance.now();
        await fns[key]();
        const elapsed = performance.now() - start;
        samples.get(key)!.push(elapsed);
        totals.set(key, totals.get(key)! + elapsed);
      }
    }
  }
  return Object.fromEntries(keys.map((key) => [key, summarize(samples.get(key)!)])) as Record<
    K,
    Timing
  >;
}

/**
 * GFLOP/s of `multiplyAdds` multiply-adds done in `ms` milliseconds (2 FLOPs each).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gflops } from "./measure.ts";
 * assert(gflops(5e8, 10) === 100);
 * ```
 */
export function gflops(multiplyAdds: number, ms: number): number {
  return (2 * multiplyAdds) / (ms * 1e6);
}

/**
 * A GitHub-flavoured Markdown table; the first column is left-aligned, the rest right-aligned.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { markdownTable } from "./measure.ts";
 * const table = markdownTable(["op", "ms"], [["dw", "1.5"]]);
 * assert(table === "| op | ms |\n| :-- | --: |\n| dw | 1.5 |");
 * ```
 */
export function markdownTable(header: readonly string[], rows: readonly string[][]): string {
  const align = header.map((_, i) => (i === 0 ? ":--" : "--:"));
  return [header, align, ...rows].map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}

/**
 * The largest `|a[i] − b[i]|`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maxAbsDiff } from "./measure.ts";
 * assert(maxAbsDiff([1, 2, 3], [1, 2.5, 2]) === 1);
 * ```
 */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const diff = Math.abs(a[i] - b[i]);
    if (Number.isNaN(diff)) return NaN;
    if (diff > worst) worst = diff;
  }
  return worst;
}

/**
 * One line naming the machine and runtime: CPU model, logical cores, Deno and V8 versions,
 * the time, and (on Linux) the 1-minute load average, since other processes skew timings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeMachine } from "./measure.ts";
 * assert(describeMachine().includes(Deno.version.deno));
 * ```
 */
export function describeMachine(): string {
  let cpu = "unknown CPU";
  let load = "";
  try {
    const model = Deno.readTextFileSync("/proc/cpuinfo").match(/^model name\s*:\s*(.+)$/m);
    if (model) cpu = model[1];
    load = `, load average ${Deno.readTextFileSync("/proc/loadavg").split(" ")[0]}`;
  } catch {
    // Not Linux: CPU model and load stay unknown; the rest of the line still identifies the run.
  }
  return `${cpu}, ${navigator.hardwareConcurrency} logical cores, Deno ${Deno.version.deno} ` +
    `(V8 ${Deno.version.v8}), ${new Date().toISOString().slice(0, 16)}Z${load}`;
}
