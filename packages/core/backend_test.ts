import assert from "node:assert/strict";
import {
  add,
  type Backend,
  BackendMismatchError,
  defineBackend,
  DisposedError,
  OP_NAMES,
  pointwiseConv2d,
  ShapeError,
  softmax,
  type VariantTables,
  WeightsError,
} from "./mod.ts";

/** One catch-all variant per operator, whose kernel is the op name. */
const TOY_VARIANTS = Object.fromEntries(
  OP_NAMES.map((op) => [op, [{ name: `toy-${op}`, matches: () => true, prepare: () => op }]]),
) as unknown as VariantTables<string>;

/** A backend over plain arrays that implements `add` only, and logs what reaches it. */
function toyBackend(log: string[] = []): Backend {
  return defineBackend<Float32Array, string, undefined>({
    name: "toy",
    capabilities: {
      device: "cpu",
      simd: false,
      relaxedSimd: false,
      threads: 1,
      asynchronous: false,
    },
    allocate: (size) => new Float32Array(size),
    write: (storage, data) => storage.set(data),
    read: (storage) => Promise.resolve(storage.slice()),
    release: (storage) => log.push(`release ${storage.length}`),
    variants: TOY_VARIANTS,
    context: undefined,
    run: (_kernel, [a, b], out) => {
      for (let i = 0; i < out.length; i++) out[i] = a[i] + b[i];
    },
    releaseKernel: (kernel) => log.push(`release kernel ${kernel}`),
    sync: () => Promise.resolve(),
    dispose: () => log.push("dispose"),
  });
}

Deno.test("run validates, computes, and reuses a given output tensor", async () => {
  using backend = toyBackend();
  const kernel = await backend.prepare(add());
  const a = backend.upload([1, 2, 3, 4], [1, 1, 2, 2]);
  const b = backend.upload(new Float32Array([10, 20, 30, 40]), [1, 1, 2, 2]);
  const out = backend.zeros([1, 1, 2, 2]);
  assert.equal(backend.run(kernel, [a, b], out), out);
  assert.deepEqual([...await out.download()], [11, 22, 33, 44]);
  assert.equal(backend.memoryStats().tensors, 3);
  assert.throws(() => backend.run(kernel, [a, b], backend.zeros([1, 2, 2, 1])), ShapeError);
  assert.throws(() => backend.run(kernel, [a, b], a), /output = "an input tensor"/);
});

Deno.test("tensors and kernels of another backend instance are refused", async () => {
  using one = toyBackend();
  using two = toyBackend();
  const kernel = await one.prepare(add());
  const a = one.upload([1], [1]);
  const foreign = two.upload([1], [1]);
  assert.throws(() => one.run(kernel, [a, foreign]), (e: unknown) => {
    assert.ok(e instanceof BackendMismatchError);
    assert.equal(e.field, "inputs[1]");
    return true;
  });
  assert.throws(() => two.run(kernel, [foreign, foreign]), BackendMismatchError);
  await assert.rejects(one.download(foreign), BackendMismatchError);
});

Deno.test("use after dispose throws DisposedError; dispose frees everything once", async () => {
  const log: string[] = [];
  const backend = toyBackend(log);
  const kernel = await backend.prepare(add());
  const a = backend.upload([1, 2], [2]);
  const b = backend.upload([1, 2], [2]);
  a.dispose();
  a.dispose();
  assert.throws(() => backend.run(kernel, [a, b]), DisposedError);
  await assert.rejects(a.download(), DisposedError);
  kernel.dispose();
  assert.throws(() => backend.run(kernel, [b, b]), DisposedError);
  backend.dispose();
  assert.deepEqual(log, ["release 2", "release kernel add", "release 2", "dispose"]);
  assert.throws(() => backend.upload([1], [1]), /backend toy was used after dispose/);
  await assert.rejects(backend.prepare(add()), DisposedError);
  await assert.rejects(b.download(), DisposedError);
});

Deno.test("upload, prepare and run refuse bad input before the implementation sees it", async () => {
  using backend = toyBackend();
  assert.throws(() => backend.upload([1, 2, 3], [1, 2]), /data.length = 3/);
  assert.throws(() => backend.upload([1], [1, -1]), /shape\[1\] = -1/);
  await assert.rejects(
    backend.prepare(pointwiseConv2d({ inChannels: 2, outChannels: 2 }), {
      filter: new Float32Array(3),
    }),
    WeightsError,
  );
  const kernel = await backend.prepare(softmax());
  assert.throws(() => backend.run(kernel, []), /inputs.length = 0/);
  const stats = backend.memoryStats();
  assert.equal(stats.tensors, 0);
  assert.equal(stats.peakTensorBytes, 0);
});

Deno.test("upload takes numbers only: typed arrays or arrays of numbers", () => {
  using backend = toyBackend();
  assert.throws(
    () => backend.upload(["1", "x", null, {}] as never, [1, 1, 1, 4]),
    (e: unknown) => e instanceof ShapeError && e.field === "data[0]",
  );
  assert.throws(
    () => backend.upload([1, 2, null] as never, [3]),
    (e: unknown) => e instanceof ShapeError && e.field === "data[2]",
  );
  assert.throws(() => backend.upload(new Int32Array(3) as never, [3]), ShapeError);
  assert.equal(backend.upload([1, NaN, -Infinity], [3]).size, 3);
});
