import assert from "node:assert/strict";
import {
  add,
  type Backend,
  BackendUnavailableError,
  channelShuffle,
  depthwiseConv2d,
  DisposedError,
  InvalidArgumentError,
  pointwiseConv2d,
} from "@mobileops/core";
import { createWebGpuBackend } from "./mod.ts";
import { webgpuUnavailable, withGpu } from "./testing.ts";
import { GpuRunTimer, RUNS_PER_QUERY_SET } from "./timer.ts";

const ignore = await webgpuUnavailable() !== undefined;
const adapter = ignore ? null : await navigator.gpu.requestAdapter();
/** Whether this adapter has GPU timestamps: the tests of the timer itself need them. */
const timestamps = adapter?.features.has("timestamp-query") ?? false;

function detail(backend: Backend): Readonly<Record<string, number>> {
  const figures = backend.memoryStats().detail;
  assert(figures !== undefined);
  return figures;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

/** A timer on a device of its own, recording into an encoder it submits itself. */
async function standaloneTimer() {
  assert(adapter !== null);
  const device = await adapter.requestDevice({ requiredFeatures: ["timestamp-query"] });
  let encoder: GPUCommandEncoder | undefined;
  const open = () => (encoder ??= device.createCommandEncoder());
  const timer = new GpuRunTimer(device, {
    usable: () => {},
    encoder: open,
    submit: () => {
      if (encoder !== undefined) device.queue.submit([encoder.finish()]);
      encoder = undefined;
    },
    lost: device.lost,
  });
  /** Records one run of the timer: an empty pass, timed when it "dispatches". */
  const run = (dispatches: number) => {
    const timestampWrites = timer.timestampWrites(dispatches);
    open().beginComputePass({ timestampWrites }).end();
  };
  return { device, timer, run, [Symbol.dispose]: () => device.destroy() };
}

Deno.test({
  name: "time: the device clock gives one duration above 0 per run, in call order",
  ignore: ignore || !timestamps,
  async fn() {
    using backend = await createWebGpuBackend();
    const sum = await backend.prepare(add());
    const clamped = await backend.prepare(add({ activation: "relu" }));
    const x = backend.upload(new Float32Array(4096).fill(1), [4096]);
    const y = backend.zeros([4096]);
    const order = [sum, clamped, clamped, sum, clamped];
    const timings = await backend.time(() => {
      for (const kernel of order) backend.run(kernel, [x, x], y);
    });
    assert.equal(timings.clock, "device");
    assert.deepEqual(timings.runs.map((run) => run.variant), order.map((k) => k.variant));
    assert.deepEqual(timings.runs.map((run) => run.key), order.map((k) => k.key));
    for (const run of timings.runs) assert(run.ms > 0, `${run.ms} ms`);
    assert.deepEqual([...await y.download()], new Array(4096).fill(2));
  },
});

Deno.test({
  name: "time: a pointwise convolution over 10× the pixels takes longer on the device clock",
  ignore: ignore || !timestamps,
  async fn() {
    using backend = await createWebGpuBackend();
    const channels = 64;
    const conv = await backend.prepare(
      pointwiseConv2d({ inChannels: channels, outChannels: channels }),
      { filter: new Float32Array(channels * channels).fill(1 / channels) },
    );
    const small = backend.zeros([1, 16, 16, channels]);
    const large = backend.zeros([1, 160, 16, channels]);
    const smallOut = backend.zeros([1, 16, 16, channels]);
    const largeOut = backend.zeros([1, 160, 16, channels]);
    backend.run(conv, [small], smallOut); // binds both shapes before timing
    backend.run(conv, [large], largeOut);
    const timings = await backend.time(() => {
      for (let i = 0; i < 5; i++) {
        backend.run(conv, [small], smallOut);
        backend.run(conv, [large], largeOut);
      }
    });
    const ms = timings.runs.map((run) => run.ms);
    const smallMs = median(ms.filter((_, i) => i % 2 === 0));
    const largeMs = median(ms.filter((_, i) => i % 2 === 1));
    assert(largeMs > smallMs, `10× the pixels: ${largeMs} ms, 1×: ${smallMs} ms`);
  },
});

Deno.test({
  name: `time: more runs than one query set holds (${RUNS_PER_QUERY_SET}), timed twice over`,
  ignore: ignore || !timestamps,
  async fn() {
    using backend = await createWebGpuBackend();
    const sum = await backend.prepare(add());
    const x = backend.upload([1, 2, 3], [3]);
    const y = backend.zeros([3]);
    for (const runs of [2 * RUNS_PER_QUERY_SET + 3, 5]) {
      const timings = await backend.time(() => {
        for (let i = 0; i < runs; i++) backend.run(sum, [x, x], y);
      });
      assert.equal(timings.runs.length, runs);
      assert(timings.runs.every((run) => run.ms > 0));
    }
  },
});

Deno.test({
  name: "time: a folded channel shuffle records nothing and times as 0; its reader is timed",
  ignore: ignore || !timestamps,
  async fn() {
    for (const foldChannelShuffle of [true, false]) {
      using backend = await createWebGpuBackend({ foldChannelShuffle });
      const shuffle = await backend.prepare(channelShuffle({ groups: 2 }));
      const dw = await backend.prepare(
        depthwiseConv2d({ channels: 8, kernel: 3, padding: "same" }),
        {
          filter: new Float32Array(72).fill(1),
        },
      );
      const x = backend.upload(new Float32Array(8 * 8 * 8).fill(1), [1, 8, 8, 8]);
      const timings = await backend.time(() => backend.run(dw, [backend.run(shuffle, [x])]));
      assert.deepEqual(timings.runs.map((run) => run.variant), [shuffle.variant, dw.variant]);
      const [shuffleMs, dwMs] = timings.runs.map((run) => run.ms);
      if (foldChannelShuffle) assert.equal(shuffleMs, 0, "folded: no dispatch");
      else assert(shuffleMs > 0, `explicit shuffle: ${shuffleMs} ms`);
      assert(dwMs > 0, `depthwise: ${dwMs} ms`);
    }
  },
});

Deno.test({
  name: "time: timing adds no dispatch, and submits once more than the runs did",
  ignore: ignore || !timestamps,
  async fn() {
    using backend = await createWebGpuBackend();
    const sum = await backend.prepare(add());
    const x = backend.upload([1], [1]);
    const y = backend.zeros([1]);
    await backend.sync();
    const before = detail(backend);
    await backend.time(() => {
      for (let i = 0; i < 3; i++) backend.run(sum, [x, x], y);
    });
    const after = detail(backend);
    assert.equal(after.dispatches - before.dispatches, 3);
    assert.equal(after.submits - before.submits, 1, "the runs and the timestamps go together");
  },
});

Deno.test({
  name: "timer: a run that records no dispatch times as 0; the others are timed",
  ignore: ignore || !timestamps,
  async fn() {
    using gpu = await standaloneTimer();
    gpu.timer.start();
    gpu.run(1);
    gpu.run(0);
    gpu.run(2);
    const durations = await gpu.timer.stop();
    assert.equal(durations.length, 3);
    assert.equal(durations[1], 0);
    assert(durations[0] >= 0 && durations[2] >= 0);
    gpu.timer.start();
    gpu.run(0);
    assert.deepEqual(await gpu.timer.stop(), [0], "no query was written: nothing to resolve");
    gpu.timer.start();
    assert.deepEqual(await gpu.timer.stop(), []);
    assert.equal(gpu.timer.timestampWrites(1), undefined, "not timing: no timestamps");
  },
});

Deno.test({
  name: "timer: start while timing and stop without start raise InvalidArgumentError",
  ignore: ignore || !timestamps,
  async fn() {
    using gpu = await standaloneTimer();
    await assert.rejects(
      gpu.timer.stop(),
      (error) =>
        error instanceof InvalidArgumentError && error.field === "timer" &&
        /call start\(\) first/.test(error.message),
    );
    gpu.timer.start();
    gpu.run(1);
    assert.throws(
      () => gpu.timer.start(),
      (error) =>
        error instanceof InvalidArgumentError && error.field === "timer" &&
        /already timing/.test(error.message),
    );
    assert.equal((await gpu.timer.stop()).length, 1, "the timing that was on is unharmed");
    await assert.rejects(gpu.timer.stop(), InvalidArgumentError);
  },
});

Deno.test({
  name: "timer: dispose while timing makes stop raise DisposedError",
  ignore: ignore || !timestamps,
  async fn() {
    using gpu = await standaloneTimer();
    gpu.timer.start();
    gpu.run(1);
    gpu.timer.dispose();
    await assert.rejects(gpu.timer.stop(), DisposedError);
    assert.throws(() => gpu.timer.start(), DisposedError);

    using backend = await createWebGpuBackend();
    const sum = await backend.prepare(add());
    const x = backend.upload([1], [1]);
    const pending = backend.time(() => backend.run(sum, [x, x]));
    backend.dispose(); // while stop waits for the timestamps
    await assert.rejects(pending, DisposedError);
  },
});

Deno.test({
  name: "time: a lost device raises BackendUnavailableError, before and while timing",
  ignore: ignore || !timestamps,
  async fn() {
    const devices: GPUDevice[] = [];
    const gpu = navigator.gpu;
    const recording = {
      requestAdapter: async (options?: GPURequestAdapterOptions) => {
        const real = await gpu.requestAdapter(options);
        assert(real !== null);
        return {
          features: real.features,
          limits: real.limits,
          requestDevice: async (descriptor?: GPUDeviceDescriptor) => {
            const device = await real.requestDevice(descriptor);
            devices.push(device);
            return device;
          },
        };
      },
    };
    const lost = (error: unknown) =>
      error instanceof BackendUnavailableError && /device was lost/.test(error.message);
    await withGpu(recording, async () => {
      using whileTiming = await createWebGpuBackend();
      const sum = await whileTiming.prepare(add());
      const x = whileTiming.upload([1], [1]);
      const pending = whileTiming.time(() => whileTiming.run(sum, [x, x]));
      devices[0].destroy();
      await assert.rejects(pending, lost);

      using before = await createWebGpuBackend();
      devices[1].destroy();
      await devices[1].lost;
      await assert.rejects(before.time(() => {}), lost);
    });
  },
});

Deno.test({
  name: "an adapter without timestamp-query gives no timer: time falls back to the enqueue clock",
  ignore,
  async fn() {
    const gpu = navigator.gpu;
    const requested: GPUDeviceDescriptor[] = [];
    const withoutTimestamps = {
      requestAdapter: async (options?: GPURequestAdapterOptions) => {
        const real = await gpu.requestAdapter(options);
        assert(real !== null);
        return {
          features: new Set([...real.features].filter((name) => name !== "timestamp-query")),
          limits: real.limits,
          requestDevice: (descriptor: GPUDeviceDescriptor) => {
            requested.push(descriptor);
            return real.requestDevice(descriptor);
          },
        };
      },
    };
    await withGpu(withoutTimestamps, async () => {
      using backend = await createWebGpuBackend();
      assert.deepEqual([...requested[0].requiredFeatures ?? []], []);
      const sum = await backend.prepare(add());
      const x = backend.upload([1, 2], [2]);
      const timings = await backend.time(() => backend.run(sum, [x, x]));
      assert.equal(timings.clock, "enqueue");
      assert.equal(timings.runs.length, 1);
    });
    if (timestamps) {
      using backend = await createWebGpuBackend();
      const timings = await backend.time(() => {});
      assert.equal(timings.clock, "device", "the real adapter has timestamps: the device clock");
    }
  },
});
