/// <reference types="@webgpu/types" />
/**
 * GPU timestamps per `run`: while timing, each run's compute pass writes a
 * timestamp at its beginning and end into a `GPUQuerySet`; `stop` resolves
 * every query written since `start` in one command buffer and maps the
 * results with one awaited promise (Deno polls the GPU about every 11 ms per
 * awaited promise, so one map per timing instead of one per run).
 *
 * @module
 */

import {
  DisposedError,
  InvalidArgumentError,
  type RunTimer,
  UnsupportedError,
} from "@mobileops/core";

/** What the timer needs from the backend that owns it. */
export interface TimerHost {
  /** Throws core's typed error when the device was lost. */
  usable(): void;
  /** The open command encoder, opened if none is. */
  encoder(): GPUCommandEncoder;
  /** Submits the open command encoder. */
  submit(): void;
  /** Settles when the device is lost. */
  readonly lost: Promise<unknown>;
}

/**
 * Runs one query set holds timestamps for (two queries each). Sets are
 * allocated as timing needs them and kept for the next timing: a network
 * of ~60 runs fits in one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RUNS_PER_QUERY_SET } from "./timer.ts";
 * // Two timestamps per run within WebGPU's 4096 queries per set.
 * assert(2 * RUNS_PER_QUERY_SET <= 4096);
 * ```
 */
export const RUNS_PER_QUERY_SET = 256;
/** Bytes one resolved query set fills: a multiple of 256, as `resolveQuerySet` offsets must be. */
const SET_BYTES = 2 * 8 * RUNS_PER_QUERY_SET;
const QUERY_RESOLVE_USAGE = 0x200 | 0x04; // QUERY_RESOLVE | COPY_SRC
const STAGING_USAGE = 0x01 | 0x08; // MAP_READ | COPY_DST
const MAP_READ = 0x01;
const BACKEND = "backend webgpu";

/**
 * The WebGPU backend's `RunTimer` (core's device clock for `Backend.time`): the backend asks
 * {@link GpuRunTimer.timestampWrites} for each run's compute pass.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { GpuRunTimer } from "./timer.ts";
 * const adapter = await navigator.gpu?.requestAdapter();
 * if (adapter?.features.has("timestamp-query")) {
 *   const device = await adapter.requestDevice({ requiredFeatures: ["timestamp-query"] });
 *   let encoder: GPUCommandEncoder | undefined;
 *   const timer = new GpuRunTimer(device, {
 *     usable: () => {},
 *     encoder: () => (encoder ??= device.createCommandEncoder()),
 *     submit: () => {
 *       if (encoder) device.queue.submit([encoder.finish()]);
 *       encoder = undefined;
 *     },
 *     lost: device.lost,
 *   });
 *   timer.start();
 *   const timestampWrites = timer.timestampWrites(1);
 *   (encoder ??= device.createCommandEncoder()).beginComputePass({ timestampWrites }).end();
 *   timer.timestampWrites(0); // a run that dispatched nothing
 *   const [first, second] = await timer.stop();
 *   assert(first >= 0 && second === 0);
 *   timer.dispose();
 *   device.destroy();
 * }
 * ```
 */
export class GpuRunTimer implements RunTimer {
  readonly #device: GPUDevice;
  readonly #host: TimerHost;
  readonly #sets: GPUQuerySet[] = [];
  /** Per run since `start`: its query pair, or -1 where it dispatched nothing; unset when not timing. */
  #runs: number[] | undefined;
  #pairs = 0;
  #disposed = false;

  /** A timer writing into query sets of `device`, recording into `host`'s encoder. */
  constructor(device: GPUDevice, host: TimerHost) {
    this.#device = device;
    this.#host = host;
  }

  /**
   * Starts timing.
   *
   * @throws {InvalidArgumentError} Already timing (`timer` = `"started"`).
   * @throws {BackendUnavailableError} The device was lost.
   * @throws {DisposedError} The backend was disposed.
   */
  start(): void {
    if (this.#disposed) throw new DisposedError(BACKEND);
    this.#host.usable();
    if (this.#runs !== undefined) {
      throw new InvalidArgumentError("timer", "started", "is already timing; call stop() first");
    }
    this.#runs = [];
    this.#pairs = 0;
  }

  /**
   * Called by the backend once per run: the `timestampWrites` of the run's
   * compute pass, or `undefined` when not timing or when the run records no
   * dispatch (it then times as 0).
   */
  timestampWrites(dispatches: number): GPUComputePassTimestampWrites | undefined {
    const runs = this.#runs;
    if (runs === undefined) return undefined;
    if (dispatches === 0) {
      runs.push(-1);
      return undefined;
    }
    const pair = this.#pairs++;
    const set = Math.floor(pair / RUNS_PER_QUERY_SET);
    if (set === this.#sets.length) {
      this.#sets.push(
        this.#device.createQuerySet({
          label: "mobileops run timestamps",
          type: "timestamp",
          count: 2 * RUNS_PER_QUERY_SET,
        }),
      );
    }
    runs.push(pair);
    const first = 2 * (pair % RUNS_PER_QUERY_SET);
    return {
      querySet: this.#sets[set],
      beginningOfPassWriteIndex: first,
      endOfPassWriteIndex: first + 1,
    };
  }

  /**
   * Ends timing: submits the open work with the resolution of every query
   * written since `start`, waits for it, and returns one duration per run.
   *
   * @throws {InvalidArgumentError} Not timing (`timer` = `"stopped"`).
   * @throws {BackendUnavailableError} The device was lost before the results were read.
   * @throws {DisposedError} The backend was disposed before the results were read.
   * @throws {UnsupportedError} The GPU rejected resolving or reading the timestamps.
   */
  async stop(): Promise<readonly number[]> {
    if (this.#disposed) throw new DisposedError(BACKEND);
    const runs = this.#runs;
    if (runs === undefined) {
      throw new InvalidArgumentError("timer", "stopped", "is not timing; call start() first");
    }
    this.#runs = undefined;
    this.#host.usable();
    const pairs = this.#pairs;
    if (pairs === 0) return runs.map(() => 0);
    const device = this.#device;
    const bytes = Math.ceil(pairs / RUNS_PER_QUERY_SET) * SET_BYTES;
    device.pushErrorScope("validation");
    const resolved = device.createBuffer({ size: bytes, usage: QUERY_RESOLVE_USAGE });
    const staging = device.createBuffer({ size: bytes, usage: STAGING_USAGE });
    const encoder = this.#host.encoder();
    this.#sets.forEach((set, i) => {
      const queries = 2 * Math.min(RUNS_PER_QUERY_SET, pairs - i * RUNS_PER_QUERY_SET);
      if (queries > 0) encoder.resolveQuerySet(set, 0, queries, resolved, i * SET_BYTES);
    });
    encoder.copyBufferToBuffer(resolved, 0, staging, 0, bytes);
    this.#host.submit();
    const checked = device.popErrorScope();
    const mapped = staging.mapAsync(MAP_READ, 0, bytes).then(() => undefined, (error) => error);
    const done = Promise.all([checked, mapped]);
    // Losing the race to a lost device (or dispose) leaves the scope to reject unobserved.
    done.catch(() => {});
    try {
      await Promise.race([done, this.#host.lost]);
      if (this.#disposed) throw new DisposedError(BACKEND);
      this.#host.usable();
      const [invalid, failed] = await done;
      if (invalid !== null || failed !== undefined) {
        throw new UnsupportedError(
          "timer",
          "timestamps",
          `the GPU rejected reading them: ${invalid?.message ?? failed}`,
        );
      }
      const stamps = new BigUint64Array(staging.getMappedRange(0, bytes));
      // Timestamps may go backwards (the spec allows it): such a run times as 0.
      return runs.map((pair) =>
        pair < 0 ? 0 : Math.max(0, Number(stamps[2 * pair + 1] - stamps[2 * pair]) / 1e6)
      );
    } finally {
      resolved.destroy();
      staging.destroy();
    }
  }

  /** Frees the query sets; a pending `stop` rejects with `DisposedError`. Idempotent. */
  dispose(): void {
    this.#disposed = true;
    this.#runs = undefined;
    for (const set of this.#sets) set.destroy();
    this.#sets.length = 0;
  }
}
