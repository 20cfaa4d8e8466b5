import assert from "node:assert/strict";
import {
  add,
  BackendUnavailableError,
  depthwiseConv2d,
  fullyConnected,
  globalAvgPool,
  InvalidArgumentError,
  OutOfMemoryError,
  softmax,
  UnsupportedError,
} from "@mobileops/core";
import { createWebGpuBackend } from "./mod.ts";
import { webgpuUnavailable, withGpu } from "./testing.ts";
import { DISPATCHES_PER_SUBMIT } from "./webgpu_backend.ts";

const ignore = await webgpuUnavailable() !== undefined;

function detail(backend: { memoryStats(): { detail?: Readonly<Record<string, number>> } }) {
  const figures = backend.memoryStats().detail;
  assert(figures !== undefined);
  return figures;
}

/** Replaces `target[key]` with `replacement(original)` while `body` runs. */
async function patched<T extends object, K extends keyof T>(
  target: T,
  key: K,
  replacement: (original: T[K]) => T[K],
  body: () => Promise<void>,
): Promise<void> {
  const original = target[key];
  target[key] = replacement(original);
  try {
    await body();
  } finally {
    target[key] = original;
  }
}

Deno.test("bad options raise InvalidArgumentError naming the field, before any GPU call", async () => {
  const cases: [unknown, string][] = [
    [null, "options"],
    [[1], "options"],
    [{ powerPreference: "fast" }, "options.powerPreference"],
    [{ limit: {} }, "options.limit"],
    [{ limits: 5 }, "options.limits"],
    [{ limits: { maxWorkgroups: 1 } }, "options.limits.maxWorkgroups"],
    [
      { limits: { maxStorageBufferBindingSize: 1022 } },
      "options.limits.maxStorageBufferBindingSize",
    ],
    [{ limits: { maxStorageBufferBindingSize: 0 } }, "options.limits.maxStorageBufferBindingSize"],
    [
      { limits: { maxComputeWorkgroupsPerDimension: 0 } },
      "options.limits.maxComputeWorkgroupsPerDimension",
    ],
    [
      { limits: { maxComputeInvocationsPerWorkgroup: 1.5 } },
      "options.limits.maxComputeInvocationsPerWorkgroup",
    ],
    [
      { limits: { maxComputeWorkgroupStorageSize: -1 } },
      "options.limits.maxComputeWorkgroupStorageSize",
    ],
    [{ limits: { maxBufferSize: "1e6" } }, "options.limits.maxBufferSize"],
  ];
  // No GPU is asked for: a navigator.gpu that is touched fails the test.
  await withGpu({ requestAdapter: () => assert.fail("requestAdapter was called") }, async () => {
    for (const [options, field] of cases) {
      await assert.rejects(
        createWebGpuBackend(options as never),
        (error) => error instanceof InvalidArgumentError && error.field === field,
        field,
      );
    }
  });
});

Deno.test("no navigator.gpu, no adapter or no device: BackendUnavailableError with the reason", async () => {
  const unavailable = (reason: RegExp) => (error: unknown) =>
    error instanceof BackendUnavailableError && error.backend === "webgpu" &&
    reason.test(error.message);
  await withGpu(undefined, async () => {
    await assert.rejects(createWebGpuBackend(), unavailable(/no navigator\.gpu/));
  });
  await withGpu({ requestAdapter: () => Promise.resolve(null) }, async () => {
    await assert.rejects(createWebGpuBackend(), unavailable(/found no adapter/));
  });
  await withGpu({ requestAdapter: () => Promise.reject(new Error("driver crashed")) }, async () => {
    await assert.rejects(
      createWebGpuBackend(),
      unavailable(/requestAdapter failed.*driver crashed/),
    );
  });
  const adapter = {
    limits: {},
    requestDevice: () => Promise.reject(new TypeError("limit too high")),
  };
  await withGpu({ requestAdapter: () => Promise.resolve(adapter) }, async () => {
    await assert.rejects(createWebGpuBackend(), unavailable(/refused a device.*limit too high/));
  });
});

Deno.test({
  name: "limits above the device's own are refused; lower ones are planned with",
  ignore,
  async fn() {
    await assert.rejects(
      createWebGpuBackend({ limits: { maxComputeWorkgroupsPerDimension: 2 ** 31 } }),
      (error) =>
        error instanceof InvalidArgumentError &&
        error.field === "options.limits.maxComputeWorkgroupsPerDimension" &&
        /device's own/.test(error.message),
    );
    using backend = await createWebGpuBackend({ limits: { maxBufferSize: 1024 } });
    backend.upload(new Float32Array(256), [256]);
    assert.throws(
      () => backend.upload(new Float32Array(257), [257]),
      (error) => error instanceof OutOfMemoryError && error.requestedBytes === 1028,
    );
  },
});

Deno.test({
  name: "dispose destroys every buffer the backend created",
  ignore,
  async fn() {
    const live = new Set<GPUBuffer>();
    await patched(
      GPUDevice.prototype,
      "createBuffer",
      (original) =>
        function (this: GPUDevice, descriptor: GPUBufferDescriptor) {
          const buffer = original.call(this, descriptor);
          live.add(buffer);
          return buffer;
        },
      () =>
        patched(
          GPUBuffer.prototype,
          "destroy",
          (original) =>
            function (this: GPUBuffer) {
              live.delete(this);
              return original.call(this);
            },
          async () => {
            const backend = await createWebGpuBackend();
            const dw = await backend.prepare(
              depthwiseConv2d({ channels: 4, kernel: 3, padding: "same", bias: true }),
              { filter: new Float32Array(36).fill(0.5), bias: new Float32Array(4) },
            );
            const sum = await backend.prepare(add({ activation: "relu6" }));
            const x = backend.upload(new Float32Array(4 * 5 * 5).fill(1), [1, 5, 5, 4]);
            const y = backend.run(dw, [x]);
            const z = backend.run(sum, [x, y]);
            assert.equal((await z.download())[0], 3); // corner: 1 + 4 taps · 0.5
            y.dispose(); // released to the pool, not destroyed
            assert(live.size > 0);
            assert.equal(detail(backend).buffers, live.size);
            backend.dispose();
            assert.equal(live.size, 0);
            assert.equal(detail(backend).buffers, 0);
          },
        ),
    );
  },
});

Deno.test({
  name: "a released buffer is not reused before the work that reads it is submitted",
  ignore,
  async fn() {
    using backend = await createWebGpuBackend();
    const sum = await backend.prepare(add());
    const ones = new Float32Array(64).fill(1);
    const a = backend.upload(ones, [64]);
    const b = backend.upload(ones, [64]);
    const y = backend.run(sum, [a, b]); // recorded, not submitted
    a.dispose();
    // Had this taken a's buffer, its write would land before the add runs.
    const c = backend.upload(new Float32Array(64).fill(100), [64]);
    assert.deepEqual([...await y.download()], [...ones].map(() => 2));
    const buffers = detail(backend).buffers;
    c.dispose(); // its buffer was never used by recorded work: free at once
    backend.upload(new Float32Array(64).fill(7), [64]);
    assert.equal(detail(backend).buffers, buffers, "the released buffer is reused");
    // A reused buffer reads as zeros until written: zeros() must not show old values.
    b.dispose();
    assert.deepEqual([...await backend.zeros([64]).download()], [...ones].map(() => 0));
  },
});

Deno.test({
  name:
    `run only records; download and sync submit, and so does every ${DISPATCHES_PER_SUBMIT}th dispatch`,
  ignore,
  async fn() {
    using backend = await createWebGpuBackend();
    const sum = await backend.prepare(add());
    const x = backend.upload([1, 2], [2]);
    let y = backend.run(sum, [x, x]);
    const submits = detail(backend).submits;
    for (let i = 1; i < DISPATCHES_PER_SUBMIT - 1; i++) y = backend.run(sum, [x, x], y);
    assert.equal(detail(backend).submits, submits);
    backend.run(sum, [x, y], backend.zeros([2]));
    assert.equal(detail(backend).submits, submits + 1);
    await backend.sync();
    assert.equal(detail(backend).submits, submits + 1, "nothing was left to submit");
    assert.deepEqual([...await y.download()], [2, 4]);
    assert.equal(detail(backend).submits, submits + 2);
  },
});

Deno.test({
  name: "pipelines are shared across kernels; bind groups and uniforms are made once per buffers",
  ignore,
  async fn() {
    using backend = await createWebGpuBackend();
    const first = await backend.prepare(add({ activation: "relu" }));
    const second = await backend.prepare(add({ activation: "relu" }));
    // One scalar and one vec4f pipeline per activation kind, shared by both kernels.
    assert.equal(detail(backend).pipelines, 2);
    await backend.prepare(add({ activation: { min: -1, max: 1 } }));
    await backend.prepare(add({ activation: { min: -2, max: 2 } })); // bounds are uniforms
    assert.equal(detail(backend).pipelines, 4);
    const x = backend.upload([1, -2, 3], [3]);
    const y = backend.run(first, [x, x]);
    const buffers = detail(backend).buffers;
    backend.run(first, [x, x], y);
    backend.run(first, [x, x], y);
    assert.equal(detail(backend).buffers, buffers, "the bound run of these buffers is reused");
    backend.run(second, [x, x], y);
    assert.equal(detail(backend).buffers, buffers + 1, "another kernel: its own uniform buffer");
    assert.deepEqual([...await y.download()], [2, 0, 6]);
  },
});

Deno.test({
  name: "a GPU validation error surfaces as a typed error at the next download",
  ignore,
  async fn() {
    using backend = await createWebGpuBackend();
    const sum = await backend.prepare(add());
    const x = backend.upload([1], [1]);
    await patched(
      GPUComputePassEncoder.prototype,
      "dispatchWorkgroups",
      (original) =>
        function (this: GPUComputePassEncoder) {
          // More workgroups than any device allows: the encoder becomes invalid.
          return original.call(this, 2 ** 31);
        },
      async () => {
        const y = backend.run(sum, [x, x]); // run itself returns at once
        await assert.rejects(
          y.download(),
          (error) =>
            error instanceof UnsupportedError && error.field === "kernel" &&
            /f32-add-wgsl/.test(error.message) && /GPU rejected/.test(error.message),
        );
      },
    );
    // The error was reported once; the backend goes on.
    assert.deepEqual([...await backend.run(sum, [x, x]).download()], [2]);
  },
});

Deno.test({
  name: "a lost device raises BackendUnavailableError on the next call; a new backend works",
  ignore,
  async fn() {
    let device: GPUDevice | undefined;
    let backend: Awaited<ReturnType<typeof createWebGpuBackend>> | undefined;
    await patched(
      GPUAdapter.prototype,
      "requestDevice",
      (original) =>
        async function (this: GPUAdapter, descriptor?: GPUDeviceDescriptor) {
          device = await original.call(this, descriptor);
          return device;
        },
      async () => {
        backend = await createWebGpuBackend();
      },
    );
    assert(device !== undefined && backend !== undefined);
    const x = backend.upload([1, 2], [2]);
    device.destroy();
    await device.lost;
    const lost = (error: unknown) =>
      error instanceof BackendUnavailableError && /device was lost/.test(error.message);
    assert.throws(() => backend!.upload([1], [1]), lost);
    await assert.rejects(x.download(), lost);
    await assert.rejects(backend.prepare(add()), lost);
    backend.dispose();
    using again = await createWebGpuBackend();
    assert.deepEqual([...await again.upload([3], [1]).download()], [3]);
  },
});

Deno.test({
  name: "reductions of 2^16 and more terms are exact where the sums are (no truncated loops)",
  ignore,
  async fn() {
    using backend = await createWebGpuBackend();
    const pool = await backend.prepare(globalAvgPool());
    const pixels = backend.upload(new Float32Array(2 ** 17).fill(1), [1, 1, 2 ** 17, 1]);
    assert.deepEqual([...await backend.run(pool, [pixels]).download()], [1]);
    const fc = await backend.prepare(fullyConnected({ inFeatures: 2 ** 16, outFeatures: 2 }), {
      weights: new Float32Array(2 ** 17).fill(1),
    });
    const features = backend.upload(new Float32Array(2 ** 16).fill(1), [1, 2 ** 16]);
    assert.deepEqual([...await backend.run(fc, [features]).download()], [2 ** 16, 2 ** 16]);
    const row = await backend.run(await backend.prepare(softmax()), [backend.zeros([1, 2 ** 16])])
      .download();
    assert(row.every((value) => value === 2 ** -16));
  },
});

Deno.test({
  name: "capabilities name the adapter and say when it is a software one",
  ignore,
  async fn() {
    using backend = await createWebGpuBackend();
    const { adapter, softwareAdapter } = backend.capabilities;
    assert.ok(adapter !== undefined && adapter.length > 0, "the adapter is named");
    // CI's only adapter is lavapipe (llvmpipe); a machine with a GPU names its own.
    if (/llvmpipe|swiftshader/i.test(adapter)) assert.equal(softwareAdapter, true);
    assert.equal(typeof softwareAdapter, "boolean");
  },
});
