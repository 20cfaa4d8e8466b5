/**
 * Kernel variants as data. Every backend lists, per operator, the kernels it
 * can run that operator with — `{ name, matches, prepare }` entries tried in
 * order, the most specialised first and a general one last — in one
 * {@link VariantTables} object. {@link defineBackend} picks the first entry
 * that matches a validated descriptor and puts its name on the prepared
 * kernel, so profiles and errors say which code ran; the conformance suite
 * checks that every entry is selected by at least one case.
 *
 * Names follow XNNPACK's `datatype-op-shape-isa` form, e.g.
 * `f32-dwconv-3x3-js`, `f32-gemm-1x1-wasmsimd` (see docs/contributing.md).
 *
 * @module
 */

import type { OpDescriptor, OpName } from "./descriptors.ts";
import { InvalidArgumentError, UnsupportedError } from "./errors.ts";
import type { WeightsFor } from "./weights.ts";

/** The descriptor type of operator `Op`, e.g. `DescriptorOf<"conv2d">` is `Conv2dDescriptor`. */
export type DescriptorOf<Op extends OpName> = Extract<OpDescriptor, { op: Op }>;

/**
 * One way a backend can run one operator.
 *
 * `K` is the backend's prepared-kernel type and `C` the backend state every
 * variant receives (its memory, device, compile cache; `undefined` when it
 * has none).
 */
export interface KernelVariant<D extends OpDescriptor, K, C = undefined> {
  /** Unique within the backend, e.g. `"f32-dwconv-3x3-js"`. */
  readonly name: string;
  /** Whether this variant can run `descriptor` (already validated by core). */
  matches(descriptor: D, context: C): boolean;
  /** Packs validated weights into this variant's kernel, once. */
  prepare(descriptor: D, weights: WeightsFor<D>, context: C): K | Promise<K>;
}

/**
 * A backend's variants for every operator, each list tried in order. The
 * mapped type makes a new operator a type error in every backend until it
 * has a list.
 */
export type VariantTables<K, C = undefined> = {
  readonly [Op in OpName]: readonly KernelVariant<DescriptorOf<Op>, K, C>[];
};

/**
 * The first variant of `tables` that matches `descriptor`. Throws
 * {@link UnsupportedError} naming the operator when none does (a backend's
 * last entry per operator normally matches everything).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chooseVariant, softmax, type VariantTables } from "@mobileops/core";
 * const none = { name: "none", matches: () => false, prepare: () => 0 };
 * const any = { name: "f32-softmax-toy", matches: () => true, prepare: () => 1 };
 * const tables = { softmax: [none, any] } as unknown as VariantTables<number>;
 * assert.equal(chooseVariant(tables, softmax(), undefined).name, "f32-softmax-toy");
 * ```
 */
export function chooseVariant<K, C>(
  tables: VariantTables<K, C>,
  descriptor: OpDescriptor,
  context: C,
): KernelVariant<OpDescriptor, K, C> {
  const list = tables[descriptor.op] as readonly KernelVariant<OpDescriptor, K, C>[];
  const variant = list.find((entry) => entry.matches(descriptor, context));
  if (variant === undefined) {
    throw new UnsupportedError(
      "descriptor",
      descriptor,
      `no kernel variant of this backend runs ${descriptor.op} with these parameters`,
    );
  }
  return variant;
}

/**
 * Every variant name of `tables`, operator by operator in table order.
 * Throws {@link InvalidArgumentError} when a name appears twice, since a
 * profile or an error could then not say which code ran.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { variantNames, type VariantTables } from "@mobileops/core";
 * const entry = (name: string) => ({ name, matches: () => true, prepare: () => 0 });
 * const tables = { add: [entry("f32-add-toy")], softmax: [entry("f32-softmax-toy")] };
 * assert.deepEqual(
 *   variantNames(tables as unknown as VariantTables<number>),
 *   ["f32-add-toy", "f32-softmax-toy"],
 * );
 * ```
 */
export function variantNames<K, C>(tables: VariantTables<K, C>): readonly string[] {
  const names: string[] = [];
  for (const [op, list] of Object.entries(tables)) {
    for (const { name } of list as readonly { name: string }[]) {
      if (names.includes(name)) {
        throw new InvalidArgumentError(`variants.${op}`, name, "names a variant twice");
      }
      names.push(name);
    }
  }
  return Object.freeze(names);
}
