// Channel shuffle folding (`foldChannelShuffle`): a shuffle read by a depthwise convolution
// records no dispatch, the convolution reading the shuffle's input through the permutation (or,
// once that input is overwritten, a plain copy of it in the view's own buffer).
// Every test runs the same work on a folding and an explicit backend and asks for bit-identical
// results; the dispatch counters show what was saved.
import assert from "node:assert/strict";
import { randomFloat32, seededRandom } from "@mobileops/conformance";
import {
  add,
  type Backend,
  channelShuffle,
  depthwiseConv2d,
  InvalidArgumentError,
  type Kernel,
  pointwiseConv2d,
  type Shape,
  shapeSize,
  type Tensor,
} from "@mobileops/core";
import { shufflenetV1 } from "@mobileops/models";
import { createWebGpuBackend } from "./mod.ts";
import { webgpuUnavailable } from "./testing.ts";

const ignore = await webgpuUnavailable() !== undefined;

function dispatches(backend: Backend): number {
  return backend.memoryStats().detail!.dispatches;
}

/** Bit patterns, so that NaN payloads and signed zeros count too. */
function bits(values: Float32Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length);
}

/** A ShuffleNet unit's head: grouped 1×1 (+ReLU) → shuffle → depthwise 3×3. */
interface Unit {
  readonly pw: Kernel;
  readonly shuffle: Kernel;
  readonly dw: Kernel;
}

interface UnitShape {
  readonly inChannels: number;
  readonly channels: number;
  readonly groups: number;
  readonly stride: number;
  readonly multiplier?: number;
}

async function prepareUnit(backend: Backend, shape: UnitShape, seed: number): Promise<Unit> {
  const { inChannels, channels, groups, stride, multiplier = 1 } = shape;
  const random = seededRandom(seed);
  const pw = pointwiseConv2d({
    inChannels,
    outChannels: channels,
    groups,
    bias: true,
    activation: "relu",
  });
  const dw = depthwiseConv2d({ channels, multiplier, kernel: 3, stride, padding: "same" });
  return {
    pw: await backend.prepare(pw, {
      filter: randomFloat32(random, channels * (inChannels / groups)),
      bias: randomFloat32(random, channels),
    }),
    shuffle: await backend.prepare(channelShuffle({ groups })),
    dw: await backend.prepare(dw, { filter: randomFloat32(random, channels * multiplier * 9) }),
  };
}

/** Creates a folding and an explicit backend, runs `work` on each, and disposes both. */
async function both<T>(work: (backend: Backend, folding: boolean) => Promise<T>): Promise<[T, T]> {
  using folding = await createWebGpuBackend({ foldChannelShuffle: true });
  using explicit = await createWebGpuBackend({ foldChannelShuffle: false });
  return [await work(folding, true), await work(explicit, false)];
}

function input(backend: Backend, shape: Shape, seed: number): Tensor {
  const values = randomFloat32(seededRandom(seed), shapeSize(shape));
  // Non-finite values at the first and last pixel: the permutation must move them too.
  values[0] = NaN;
  values[values.length - 1] = -Infinity;
  return backend.upload(values, shape);
}

Deno.test("foldChannelShuffle must be a boolean", async () => {
  for (const value of [1, "true", null]) {
    await assert.rejects(
      () => createWebGpuBackend({ foldChannelShuffle: value as unknown as boolean }),
      (error: unknown) =>
        error instanceof InvalidArgumentError && error.field === "options.foldChannelShuffle",
    );
  }
});

Deno.test({
  name: "folded shuffles give the explicit results on ShuffleNet units, one dispatch fewer each",
  ignore,
  async fn() {
    const units: readonly [UnitShape, string][] = [
      [{ inChannels: 24, channels: 12, groups: 3, stride: 1 }, "f32-dwconv-2x4-wgsl"],
      [{ inChannels: 24, channels: 60, groups: 3, stride: 2 }, "f32-dwconv-2x4-wgsl"],
      [{ inChannels: 16, channels: 32, groups: 8, stride: 2 }, "f32-dwconv-2x4-wgsl"],
      [{ inChannels: 9, channels: 6, groups: 3, stride: 1 }, "f32-dwconv-wgsl"],
      [{ inChannels: 6, channels: 6, groups: 2, stride: 2, multiplier: 2 }, "f32-dwconv-wgsl"],
    ];
    // The reader writes a new tensor, or (stride 1) the shuffle's input, as planned buffers do.
    const cases = units.flatMap(([shape, variant], i) =>
      [false, ...(shape.stride === 1 ? [true] : [])].map((intoSource) => ({
        shape,
        variant,
        intoSource,
        name: `unit ${i}${intoSource ? " into its source" : ""}`,
      }))
    );
    for (const [i, { shape, variant, intoSource, name }] of cases.entries()) {
      const [folded, explicit] = await both(async (backend) => {
        const unit = await prepareUnit(backend, shape, i);
        assert.equal(unit.dw.variant, variant);
        const x = input(backend, [2, 11, 10, shape.inChannels], i);
        const a = backend.run(unit.pw, [x]);
        const before = dispatches(backend);
        const y = backend.run(
          unit.dw,
          [backend.run(unit.shuffle, [a])],
          intoSource ? a : undefined,
        );
        const count = dispatches(backend) - before;
        return { values: await y.download(), count };
      });
      assert.deepEqual(bits(folded.values), bits(explicit.values), name);
      assert(folded.values.some(Number.isNaN), `${name}: the NaN reached the output`);
      assert.equal(folded.count, explicit.count - 1, `${name}: dispatches`);
    }
  },
});

Deno.test({
  name: "a pending shuffle is materialized by every hazard, with the explicit results",
  ignore,
  async fn() {
    const shape = { inChannels: 12, channels: 12, groups: 3, stride: 1 };
    const xShape: Shape = [1, 9, 9, 12];
    type Hazard = (backend: Backend, unit: Unit) => Promise<Float32Array[]>;
    const hazards: Record<string, Hazard> = {
      "the source is overwritten before the reader runs": async (backend, unit) => {
        const a = backend.run(unit.pw, [input(backend, xShape, 1)]);
        const b = backend.run(unit.shuffle, [a]);
        backend.run(unit.pw, [input(backend, xShape, 2)], a);
        return [await backend.run(unit.dw, [b]).download(), await a.download()];
      },
      "the reader's output is the source (planned buffer reuse)": async (backend, unit) => {
        const a = backend.run(unit.pw, [input(backend, xShape, 1)]);
        const b = backend.run(unit.shuffle, [a]);
        backend.run(unit.dw, [b], a);
        return [await a.download(), await b.download()];
      },
      "the source is overwritten, then the view downloaded": async (backend, unit) => {
        const a = backend.run(unit.pw, [input(backend, xShape, 1)]);
        const b = backend.run(unit.shuffle, [a]);
        backend.run(unit.pw, [input(backend, xShape, 2)], a);
        return [await b.download(), await backend.run(unit.dw, [b]).download()];
      },
      "the source is overwritten, then the view read by another kernel": async (backend, unit) => {
        const a = backend.run(unit.pw, [input(backend, xShape, 1)]);
        const b = backend.run(unit.shuffle, [a]);
        backend.run(unit.pw, [input(backend, xShape, 2)], a);
        using sum = await backend.prepare(add());
        return [await backend.run(sum, [a, b]).download()];
      },
      "the source is overwritten, then the shuffle kernel released": async (backend, unit) => {
        const a = backend.run(unit.pw, [input(backend, xShape, 1)]);
        const b = backend.run(unit.shuffle, [a]);
        backend.run(unit.pw, [input(backend, xShape, 2)], a);
        unit.shuffle.dispose();
        return [await backend.run(unit.dw, [b]).download(), await b.download()];
      },
      "the view is downloaded": async (backend, unit) => {
        const a = backend.run(unit.pw, [input(backend, xShape, 1)]);
        const b = backend.run(unit.shuffle, [a]);
        const first = await b.download();
        return [first, await backend.run(unit.dw, [b]).download()];
      },
      "the view is read by other kernels": async (backend, unit) => {
        const a = backend.run(unit.pw, [input(backend, xShape, 1)]);
        const b = backend.run(unit.shuffle, [a]);
        using sum = await backend.prepare(add());
        return [
          await backend.run(sum, [b, a]).download(),
          await backend.run(unit.pw, [b]).download(),
        ];
      },
      "the source is released before the reader runs": async (backend, unit) => {
        const a = backend.run(unit.pw, [input(backend, xShape, 1)]);
        const b = backend.run(unit.shuffle, [a]);
        a.dispose();
        // Same size as the source: a pool handing its buffer out too early would be caught.
        const reuse = backend.run(unit.pw, [input(backend, xShape, 2)]);
        return [await backend.run(unit.dw, [b]).download(), await reuse.download()];
      },
      "the shuffle kernel is released before the reader runs": async (backend, unit) => {
        const a = backend.run(unit.pw, [input(backend, xShape, 1)]);
        const b = backend.run(unit.shuffle, [a]);
        unit.shuffle.dispose();
        return [await backend.run(unit.dw, [b]).download()];
      },
      "a shuffle of a pending shuffle": async (backend, unit) => {
        const a = backend.run(unit.pw, [input(backend, xShape, 1)]);
        const twice = backend.run(unit.shuffle, [backend.run(unit.shuffle, [a])]);
        return [await backend.run(unit.dw, [twice]).download()];
      },
      "the view's buffer is overwritten before the reader": async (backend, unit) => {
        const a = backend.run(unit.pw, [input(backend, xShape, 1)]);
        const b = backend.run(unit.shuffle, [a]);
        backend.run(unit.pw, [input(backend, xShape, 2)], b);
        return [await backend.run(unit.dw, [b]).download()];
      },
    };
    for (const [name, hazard] of Object.entries(hazards)) {
      const [folded, explicit] = await both(async (backend) => {
        const unit = await prepareUnit(backend, shape, 5);
        return await hazard(backend, unit);
      });
      assert.equal(folded.length, explicit.length);
      folded.forEach((values, i) => {
        assert.deepEqual(bits(values), bits(explicit[i]), `${name}: output ${i}`);
      });
    }
  },
});

Deno.test({
  name: "a released view records nothing; a released source is copied (no dispatch) first",
  ignore,
  async fn() {
    using backend = await createWebGpuBackend({ foldChannelShuffle: true });
    const unit = await prepareUnit(
      backend,
      { inChannels: 8, channels: 8, groups: 2, stride: 1 },
      3,
    );
    const a = backend.run(unit.pw, [input(backend, [1, 4, 4, 8], 1)]);
    let before = dispatches(backend);
    backend.run(unit.shuffle, [a]).dispose();
    assert.equal(dispatches(backend), before, "the released view was never materialized");
    const b = backend.run(unit.shuffle, [a]);
    before = dispatches(backend);
    a.dispose();
    // Same size as the source: a pool handing its buffer out before the copy ran would show.
    const reuse = backend.run(unit.pw, [input(backend, [1, 4, 4, 8], 2)]);
    assert.equal(dispatches(backend), before + 1, "only the new tensor's dispatch");
    before = dispatches(backend);
    const values = await b.download();
    assert.equal(dispatches(backend), before + 1, "the download shuffled the copy");
    await reuse.download();
    using explicit = await createWebGpuBackend({ foldChannelShuffle: false });
    const same = await prepareUnit(
      explicit,
      { inChannels: 8, channels: 8, groups: 2, stride: 1 },
      3,
    );
    const shuffled = explicit.run(same.shuffle, [
      explicit.run(same.pw, [input(explicit, [1, 4, 4, 8], 1)]),
    ]);
    assert.deepEqual(bits(values), bits(await shuffled.download()));
  },
});

Deno.test({
  name: "compiled ShuffleNets: folding gives identical logits, one dispatch fewer per shuffle",
  ignore,
  async fn() {
    for (
      const model of [
        shufflenetV1({ groups: 3, scale: 0.25, resolution: 96 }),
        shufflenetV1({ groups: 8, scale: 0.5, resolution: 96 }),
      ]
    ) {
      const [folded, explicit] = await both(async (backend) => {
        using compiled = await model.compile(backend);
        using x = input(backend, model.inputShape, 9);
        const runs = [];
        for (let run = 0; run < 2; run++) {
          const before = dispatches(backend);
          const logits = await compiled.run(x).download();
          runs.push({ logits, count: dispatches(backend) - before });
        }
        return { runs };
      });
      // Every shuffle folds: where its reader writes the shuffle's input (the planner hands a
      // stride-1 reader that buffer), the input is first copied into the view, not shuffled.
      const shuffles = model.graph.nodes.filter((node) => node.descriptor.op === "channelShuffle");
      assert(shuffles.length > 0, `${model.name}: has shuffles`);
      for (const [run, { logits, count }] of folded.runs.entries()) {
        assert.deepEqual(bits(logits), bits(explicit.runs[run].logits), `${model.name} run ${run}`);
        assert.equal(
          count,
          explicit.runs[run].count - shuffles.length,
          `${model.name} run ${run}: dispatches`,
        );
      }
    }
  },
});
