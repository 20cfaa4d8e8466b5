import assert from "node:assert/strict";
import {
  add,
  type Backend,
  type BackendImpl,
  defineBackend,
  DisposedError,
  InvalidArgumentError,
  OP_NAMES,
  type RunTimer,
  UnsupportedError,
  type VariantTables,
} from "./mod.ts";

const TOY_VARIANTS = Object.fromEntries(
  OP_NAMES.map((op) => [op, [{ name: `toy-${op}`, matches: () => true, prepare: () => op }]]),
) as unknown as VariantTables<string>;

/**
 * An `add`-only backend over plain arrays. Its run busy-waits `spin[i]` ms
 * on its i-th call, so the CPU clock has something to see; `timer` and
 * `asynchronous` make it look like a GPU backend with or without timestamps.
 */
function toyBackend(
  options: {
    timer?: RunTimer;
    asynchronous?: boolean;
    spin?: number[];
    log?: string[];
    /** Makes `run` throw, as a backend does for a unit it cannot plan. */
    refuse?: boolean;
  } = {},
): Backend {
  let calls = 0;
  const impl: BackendImpl<Float32Array, string> = {
    name: "toy",
    capabilities: {
      device: options.asynchronous ? "gpu" : "cpu",
      simd: false,
      relaxedSimd: false,
      threads: 1,
      asynchronous: options.asynchronous ?? false,
    },
    allocate: (size) => new Float32Array(size),
    write: (storage, data) => storage.set(data),
    read: (storage) => Promise.resolve(storage.slice()),
    release: () => {},
    variants: TOY_VARIANTS,
    context: undefined,
    run: (_kernel, [a, b], out) => {
      if (options.refuse) throw new UnsupportedError("kernel", "toy-add", "refused");
      const until = performance.now() + (options.spin?.[calls++] ?? 0);
      while (performance.now() < until) { /* busy: the work the CPU clock measures */ }
      for (let i = 0; i < out.length; i++) out[i] = a[i] + b[i];
    },
    releaseKernel: () => {},
    sync: () => {
      options.log?.push("sync");
      return Promise.resolve();
    },
    dispose: () => {},
    timer: options.timer,
  };
  return defineBackend(impl);
}

/** A device clock that reports `runs()` runs, run i taking `10 * (i + 1)` ms, and logs its calls. */
function fakeTimer(log: string[], runs: () => number = () => 0): RunTimer {
  return {
    start: () => log.push("start"),
    stop: () => {
      log.push("stop");
      return Promise.resolve(Array.from({ length: runs() }, (_, i) => 10 * (i + 1)));
    },
  };
}

Deno.test("time: a synchronous backend's runs on the CPU clock, one entry per run", async () => {
  using backend = toyBackend({ spin: [0, 30] });
  const kernel = await backend.prepare(add());
  const a = backend.upload([1, 2], [2]);
  const out = backend.zeros([2]);
  const timings = await backend.time(() => {
    backend.run(kernel, [a, a], out);
    backend.run(kernel, [out, a]);
  });
  assert.equal(timings.clock, "cpu");
  assert.deepEqual(timings.runs.map((run) => run.variant), ["toy-add", "toy-add"]);
  assert.equal(timings.runs[0].key, kernel.key);
  assert.ok(timings.runs[1].ms >= 30, `${timings.runs[1].ms} ms for a 30 ms run`);
  assert.ok(timings.runs[0].ms < timings.runs[1].ms);
  // Runs outside `time` are not recorded anywhere.
  backend.run(kernel, [a, a], out);
  assert.equal((await backend.time(() => {})).runs.length, 0);
});

Deno.test("time: a device timer's durations replace the CPU clock's", async () => {
  const log: string[] = [];
  using backend = toyBackend({ timer: fakeTimer(log, () => 3), asynchronous: true, log });
  const kernel = await backend.prepare(add());
  const a = backend.upload([1], [1]);
  const timings = await backend.time(() => {
    for (let i = 0; i < 3; i++) backend.run(kernel, [a, a]);
  });
  assert.equal(timings.clock, "device");
  assert.deepEqual(timings.runs.map((run) => run.ms), [10, 20, 30]);
  assert.deepEqual(log, ["start", "stop"]);
});

Deno.test("time: an asynchronous backend without a timer reports enqueue times, then syncs", async () => {
  const log: string[] = [];
  using backend = toyBackend({ asynchronous: true, log });
  const kernel = await backend.prepare(add());
  const a = backend.upload([1], [1]);
  const timings = await backend.time(() => void backend.run(kernel, [a, a]));
  assert.equal(timings.clock, "enqueue");
  assert.equal(timings.runs.length, 1);
  assert.deepEqual(log, ["sync"]);
});

Deno.test("time: bad work, overlapping calls, a throwing run and disposal", async () => {
  const log: string[] = [];
  const backend = toyBackend({ timer: fakeTimer(log) });
  const kernel = await backend.prepare(add());
  const a = backend.upload([1, 2], [2]);
  await assert.rejects(
    backend.time("run" as unknown as () => void),
    (e: unknown) => e instanceof InvalidArgumentError && e.field === "work",
  );
  const first = backend.time(() => void backend.run(kernel, [a, a]));
  await assert.rejects(
    backend.time(() => {}),
    (e: unknown) => e instanceof InvalidArgumentError && e.field === "time",
  );
  await first;
  await assert.rejects(
    backend.time(() => void backend.run(kernel, [a, backend.upload([1], [1])])),
    /shape/i,
  );
  assert.deepEqual(log, ["start", "stop", "start", "stop"]);
  // The failed time() ended: another may start.
  assert.equal((await backend.time(() => {})).runs.length, 0);
  backend.dispose();
  await assert.rejects(backend.time(() => {}), DisposedError);
});

Deno.test("a run the backend refuses leaves no output behind, and a given output alive", async () => {
  using backend = toyBackend({ refuse: true });
  const kernel = await backend.prepare(add());
  const a = backend.upload([1, 2], [2]);
  const out = backend.zeros([2]);
  const held = () => [backend.memoryStats().tensors, backend.memoryStats().tensorBytes];
  const before = held();
  assert.throws(() => backend.run(kernel, [a, a]), UnsupportedError);
  assert.deepEqual(held(), before);
  assert.throws(() => backend.run(kernel, [a, a], out), UnsupportedError);
  assert.equal(out.disposed, false);
  // A refused run inside time() is not timed.
  assert.equal(
    (await backend.time(() => assert.throws(() => backend.run(kernel, [a, a])))).runs.length,
    0,
  );
});
