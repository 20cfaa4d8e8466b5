// The ONNX backend test data (Debian's libonnx-testdata): every in-scope case is imported with
// its non-data inputs bound as constants, run on each backend, and compared with ONNX's expected
// output under ONNX's tolerance and with the float64 reference under our accumulation bound.
// Cases the importer refuses are listed, each with its reason, in testdata_skips.json, and each
// must indeed be refused at load time with a typed error.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { InvalidArgumentError } from "@mobileops/core";
import { BACKEND_NAMES, backendUnavailable, createBackend } from "@mobileops/registry";
import {
  type CaseReference,
  caseReference,
  inScopeCases,
  loadCase,
  readCase,
  runCase,
  type TestCase,
  TESTDATA_ROOT,
} from "./_testdata.ts";
import { OnnxModel } from "./mod.ts";

const SKIPS: Record<string, string> = JSON.parse(
  readFileSync(new URL("./testdata_skips.json", import.meta.url), "utf8"),
);
const available = existsSync(join(TESTDATA_ROOT, "node"));
if (!available) {
  console.warn(
    `SKIPPED: ONNX backend test data not found at ${TESTDATA_ROOT} ` +
      "(apt-get install libonnx-testdata, or set ONNX_TESTDATA)",
  );
}
const cases = inScopeCases();

Deno.test({
  name: "onnx test data: every skip names an in-scope case and gives a reason",
  ignore: !available,
  fn() {
    const known = new Set(cases);
    assert.deepEqual(Object.keys(SKIPS).filter((name) => !known.has(name)), []);
    for (const [name, reason] of Object.entries(SKIPS)) {
      assert.ok(reason.length > 10, `${name}: a reason`);
    }
  },
});

Deno.test({
  name: "onnx test data: every skipped case is refused at load time with a typed error",
  ignore: !available,
  fn() {
    for (const name of Object.keys(SKIPS)) {
      let refusal: unknown;
      try {
        const loaded = loadCase(readCase(name));
        refusal = loaded instanceof OnnxModel ? undefined : loaded;
      } catch (error) {
        refusal = error; // a bound input the importer cannot read (8-bit, DOUBLE)
      }
      assert.ok(
        refusal instanceof InvalidArgumentError,
        `${name} is in testdata_skips.json but loads (${String(refusal)})`,
      );
    }
  },
});

const loaded = new Map<string, { model: OnnxModel; reference: CaseReference }>();

function prepared(name: string) {
  let entry = loaded.get(name);
  if (entry === undefined) {
    const testCase: TestCase = readCase(name);
    const model = loadCase(testCase);
    if (!(model instanceof OnnxModel)) throw model;
    entry = { model, reference: caseReference(model, testCase) };
    loaded.set(name, entry);
  }
  return entry;
}

function worst(results: { name: string; value: number }[]): string {
  const top = results.reduce((a, b) => (b.value > a.value ? b : a), { name: "-", value: 0 });
  return `${top.value.toPrecision(3)} (${top.name})`;
}

/** Backends that do not start here (no WebGPU adapter, say) are skipped, each with its reason. */
const unavailable = new Map(
  await Promise.all(
    BACKEND_NAMES.map(async (name) => [name, await backendUnavailable(name)] as const),
  ),
);

for (const backendName of BACKEND_NAMES) {
  Deno.test({
    name: `onnx test data: every in-scope case passes on ${backendName}`,
    ignore: !available || unavailable.get(backendName) !== undefined,
    async fn() {
      using backend = await createBackend(backendName, { wasm: { threads: 1 } });
      const run = cases.filter((name) => !(name in SKIPS));
      const failures: string[] = [];
      const onnx: { name: string; value: number }[] = [];
      const ours: { name: string; value: number }[] = [];
      const expected: { name: string; value: number }[] = [];
      for (const name of run) {
        const { model, reference } = prepared(name);
        const result = await runCase(model, reference, backend);
        onnx.push({ name, value: result.onnxRatio });
        ours.push({ name, value: result.ratio });
        expected.push({ name, value: result.expectedRatio });
        if (!result.onnxOk) failures.push(`${name}: ${result.onnxRatio} × ONNX's tolerance`);
        if (!(result.ratio <= 1)) failures.push(`${name}: ${result.ratio} × our bound`);
      }
      console.log(
        `onnx test data on ${backendName}: ${run.length - failures.length} passed, ` +
          `${
            Object.keys(SKIPS).length
          } skipped (testdata_skips.json), ${failures.length} failed; ` +
          `worst error / ONNX's tolerance ${worst(onnx)}, / our bound ${worst(ours)}; ` +
          `ONNX's expected output / our bound ${worst(expected)}`,
      );
      assert.deepEqual(failures, []);
    },
  });
}
