// The fuzzer's slice for CI: a few hundred fuzz cases per backend
// configuration, through the same code path as `deno task fuzz`, must all
// pass; and the command's flags are strict.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  failureLine,
  FUZZ_CONFIGURATIONS,
  fuzzConfiguration,
  main,
  parseFuzzArgs,
} from "./fuzz.ts";

/** Cases per configuration: about a second on the scalar js backend. */
const SLICE_CASES = 300;
const SLICE_SEED = 1;

for (const configuration of FUZZ_CONFIGURATIONS) {
  Deno.test(`fuzz slice: ${configuration.label}, ${SLICE_CASES} cases`, async () => {
    const { summary, failures } = await fuzzConfiguration(configuration, {
      seed: SLICE_SEED,
      indices: Array.from({ length: SLICE_CASES }, (_, i) => i),
    });
    if (summary.skipped !== undefined) {
      console.log(`fuzz slice: ${configuration.label} skipped: ${summary.skipped}`);
      return;
    }
    assert.equal(summary.cases, SLICE_CASES);
    assert.deepEqual(failures.map(failureLine), []);
    assert(summary.worstRatio <= 1, `worst ratio ${summary.worstRatio}`);
  });
}

Deno.test("fuzz flags: strict numbers, known flags and names, --case alone", () => {
  for (
    const args of [
      ["--cases", "ten"],
      ["--cases", "0"],
      ["--cases", "1e3"],
      ["--cases", "0x10"],
      ["--cases", "12.0"],
      ["--seed=-1"],
      ["--seed", String(2 ** 32)],
      ["--case", "3", "--cases", "10"],
      ["--backend", "gpu"],
    ]
  ) {
    assert.throws(
      () => parseFuzzArgs(args),
      /^InvalidArgumentError: --(cases|seed|case|backend) = "/,
    );
  }
  assert.throws(() => parseFuzzArgs(["--fast"]), { code: "ERR_PARSE_ARGS_UNKNOWN_OPTION" });
  assert.throws(() => parseFuzzArgs(["10"]), { code: "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL" });
  assert.throws(() => parseFuzzArgs(["--seed"]), { code: "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" });
  assert.deepEqual(parseFuzzArgs(["--seed", "0", "--case", "4294967295", "--json"]), {
    cases: 1000,
    seed: 0,
    case: 2 ** 32 - 1,
    backends: [],
    json: true,
    help: false,
  });
});

Deno.test("fuzz command: --case reruns one case; bad flags exit 2 with the usage", async () => {
  const out: string[] = [];
  const err: string[] = [];
  const print = (line: string) => out.push(line);
  const printError = (line: string) => err.push(line);
  assert.equal(
    await main(["--seed", "3", "--case", "17", "--backend", "js"], print, printError),
    0,
  );
  assert.match(out.join("\n"), /^fuzz seed 3, case 17:\n/);
  assert.match(out.join("\n"), /^js\s+1\s+0\s/m);
  assert.equal(await main(["--cases", "abc"], print, printError), 2);
  assert.match(
    err.join("\n"),
    /^--cases = "abc": must be an integer from 1 to 10000000\n\nusage: deno task fuzz /,
  );
});

Deno.test("fuzz command: --json prints one document; the process exits 0", async () => {
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-env",
      fileURLToPath(new URL("./fuzz.ts", import.meta.url)),
      "--cases",
      "4",
      "--seed",
      "9",
      "--backend",
      "js",
      "--json",
    ],
    stderr: "inherit",
  }).output();
  assert.equal(code, 0);
  const report = JSON.parse(new TextDecoder().decode(stdout));
  assert.deepEqual(report.indices, { from: 0, to: 3 });
  assert.equal(report.summaries.length, 1);
  assert.equal(report.summaries[0].configuration, "js");
  assert.equal(report.summaries[0].cases, 4);
  assert.deepEqual(report.failures, []);
});
