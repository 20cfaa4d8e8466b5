import assert from "node:assert/strict";
import { inferGeometry, opCost } from "@mobileops/core";
import {
  factorizationCosts,
  formatSummaryTable,
  mobilenetV1,
  PAPER_FIGURES,
  summary,
} from "./mod.ts";

Deno.test("summary reproduces every paper figure (or documents why not)", () => {
  for (const figure of PAPER_FIGURES) {
    const model = figure.build();
    const totals = summary(model).totals;
    const classifier = summary(model).rows.at(-1)!;
    assert.equal(classifier.name, "fc");
    const counted = totals.multiplyAdds - (figure.countsClassifier ? 0 : classifier.multiplyAdds);
    const label = `${model.name} (${figure.source})`;
    if (figure.discrepancy === undefined) {
      assert.equal(Math.round(counted / 1e6), figure.multiplyAddsM, label);
    } else {
      assert.ok(Math.abs(counted / 1e6 - figure.multiplyAddsM) < 1, label);
      assert.notEqual(Math.round(counted / 1e6), figure.multiplyAddsM, `${label}: now matches`);
    }
    if (figure.parametersM !== undefined) {
      assert.equal(Math.round(totals.parameters / 1e5) / 10, figure.parametersM, label);
    }
  }
});

Deno.test("ShuffleNet's Table 1 excludes the classifier, its width-scaled figures include it", () => {
  const withAndWithout = (name: string) => {
    const s = summary(PAPER_FIGURES.map((f) => f.build()).find((model) => model.name === name)!);
    const all = Math.round(s.totals.multiplyAdds / 1e6);
    return [all, Math.round((s.totals.multiplyAdds - s.rows.at(-1)!.multiplyAdds) / 1e6)];
  };
  // Table 1, g = 2 / 4 / 8: counting the classifier overshoots; leaving it out matches.
  assert.deepEqual(withAndWithout("shufflenet_v1_1.0x_g2_224"), [141, 140]);
  assert.deepEqual(withAndWithout("shufflenet_v1_1.0x_g4_224"), [134, 133]);
  assert.deepEqual(withAndWithout("shufflenet_v1_1.0x_g8_224"), [138, 137]);
  // 0.5× and 2×: only counting the classifier matches.
  assert.deepEqual(withAndWithout("shufflenet_v1_0.5x_g3_224"), [38, 37]);
  assert.deepEqual(withAndWithout("shufflenet_v1_2.0x_g3_224"), [524, 522]);
});

Deno.test("factorization costs: standard vs depthwise separable, 1×1 without and with groups", () => {
  const [standard, depthwise, pointwise, separable, dense1x1, grouped] = factorizationCosts();
  assert.deepEqual([standard.multiplyAdds, standard.parameters], [442_368, 108]);
  assert.deepEqual([depthwise.multiplyAdds, depthwise.parameters], [110_592, 27]);
  assert.deepEqual([pointwise.multiplyAdds, pointwise.parameters], [49_152, 12]);
  assert.deepEqual([separable.multiplyAdds, separable.parameters], [159_744, 39]);
  assert.deepEqual([dense1x1.multiplyAdds, dense1x1.parameters], [32_768, 8]);
  assert.deepEqual([grouped.multiplyAdds, grouped.parameters], [16_384, 4]);
});

Deno.test("summary rows follow the graph and add up to the totals", () => {
  const model = mobilenetV1({ alpha: 0.5, resolution: 128, classes: 10 });
  const s = summary(model);
  assert.equal(s.rows.length, model.graph.nodes.length);
  const shapes = new Map([["input", model.inputShape]]);
  for (const [i, node] of model.graph.nodes.entries()) {
    const inputs = node.inputs.map((name) => shapes.get(name)!);
    const cost = opCost(node.descriptor, inputs);
    shapes.set(node.name, inferGeometry(node.descriptor, inputs).outputShape);
    assert.equal(s.rows[i].name, node.name);
    assert.deepEqual(s.rows[i].outputShape, cost.outputShape);
    assert.equal(s.rows[i].multiplyAdds, cost.multiplyAdds);
    assert.equal(s.rows[i].parameters, cost.parameters);
  }
  assert.equal(s.rows[1].op, "conv2d depthwise 3×3/1");
  assert.equal(s.totals.parameters, s.rows.reduce((sum, row) => sum + row.parameters, 0));
  assert.ok(s.totals.plannedActivationBytes < s.totals.activationBytes);
  assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
  const table = formatSummaryTable(s);
  assert.equal(table.split("\n").length, s.rows.length + 3);
  assert.match(table.split("\n").at(-1)!, /^total/);
});
