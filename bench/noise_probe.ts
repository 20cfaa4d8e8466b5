/**
 * Tells a slow spell of the machine from a slow kernel. It alternates one
 * call of a bench-shape pointwise layer on the wasm backend (1 thread) with
 * a fixed batch of calls of a tiny pointwise layer whose data fits in L1
 * (pure SIMD arithmetic, no memory traffic), and prints one character per
 * call of each: `.` within 15 % of its fastest, `o` within 50 %, `X`
 * slower. If the two rows turn slow in the same places, the slowdown is the
 * core's (another tenant on a shared physical core, or its clock), not the
 * layer's memory traffic or our code.
 *
 *     deno run --allow-read --allow-env bench/noise_probe.ts [--op "pointwise 7x7x1024->1024"]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { pointwiseConv2d } from "@mobileops/core";
import { BENCH_BACKENDS, createBenchBackend, prepareBenchCall } from "./bench_util.ts";
import { BENCH_OPS } from "./shapes.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    op: { type: "string", default: "pointwise 14x14x512->512" },
    rounds: { type: "string", default: "500" },
  },
});
const op = BENCH_OPS.find((candidate) => candidate.name === args.op);
if (op === undefined) {
  console.error(`--op: no bench op named "${args.op}"; one of: ${BENCH_OPS.map((o) => o.name)}`);
  Deno.exit(2);
}
const rounds = Number(args.rounds);
/** V8 optimizes a new module after some calls; those calls are not shown. */
const WARM_UP_ROUNDS = 100;
/** Calls of the L1-resident layer per round: about as long as one bench-shape call. */
const PROBE_CALLS = 200;

const backend = await createBenchBackend(BENCH_BACKENDS.find((entry) => entry.label === "wasm")!);
if (backend === undefined) Deno.exit(1);
const layer = await prepareBenchCall(backend, op);
const probe = await prepareBenchCall(backend, {
  name: "L1-resident pointwise 24 px, 256 → 16",
  descriptor: pointwiseConv2d({ inChannels: 256, outChannels: 16 }),
  inputShapes: [[1, 1, 24, 256]],
});
const layerMs: number[] = [];
const probeMs: number[] = [];
for (let round = 0; round < WARM_UP_ROUNDS + rounds; round++) {
  let start = performance.now();
  await layer.step();
  const layerElapsed = performance.now() - start;
  start = performance.now();
  for (let call = 0; call < PROBE_CALLS; call++) await probe.step();
  const probeElapsed = performance.now() - start;
  if (round >= WARM_UP_ROUNDS) {
    layerMs.push(layerElapsed);
    probeMs.push(probeElapsed);
  }
}

const marks = (times: number[]) => {
  const fastest = Math.min(...times);
  return times.map((t) => (t < 1.15 * fastest ? "." : t < 1.5 * fastest ? "o" : "X")).join("");
};
const [layerRow, probeRow] = [marks(layerMs), marks(probeMs)];
for (let at = 0; at < rounds; at += 100) {
  console.log(`layer ${layerRow.slice(at, at + 100)}`);
  console.log(`probe ${probeRow.slice(at, at + 100)}\n`);
}
const slow = (row: string) => row.split("").map((mark) => mark === "X");
const [layerSlow, probeSlow] = [slow(layerRow), slow(probeRow)];
const both = layerSlow.filter((isSlow, i) => isSlow && probeSlow[i]).length;
const layerSlowCount = layerSlow.filter(Boolean).length;
console.log(
  `${op.name}: ${layerSlowCount} of ${rounds} calls ≥ 1.5× its fastest; ` +
    `in ${both} of them the L1-resident probe next to it was ≥ 1.5× its fastest too ` +
    `(probe slow in ${probeSlow.filter(Boolean).length} rounds overall)`,
);
layer[Symbol.dispose]();
probe[Symbol.dispose]();
backend.dispose();
