/**
 * A small typed WebAssembly assembler: LEB128, the instructions the kernel
 * generators need (core, SIMD128 and relaxed SIMD), and the module sections
 * for a module of functions that import one linear memory.
 *
 * Kernels are emitted at run time from TypeScript, so every layer gets code
 * with its shape baked in and no toolchain is needed to build the backend.
 *
 * @module
 */

/** A value type. */
export type ValType = "i32" | "i64" | "f32" | "f64" | "v128";

const VAL_TYPE_CODES: Record<ValType, number> = {
  i32: 0x7f,
  i64: 0x7e,
  f32: 0x7d,
  f64: 0x7c,
  v128: 0x7b,
};

/**
 * Appends `value` as unsigned LEB128 to `out`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unsignedLeb128 } from "./assembler.ts";
 * const out: number[] = [];
 * unsignedLeb128(624485, out);
 * assert(out.join() === [0xe5, 0x8e, 0x26].join());
 * ```
 */
export function unsignedLeb128(value: number, out: number[]): number[] {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`unsigned LEB128 value out of u32 range: ${value}`);
  }
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/**
 * Appends `value` as signed LEB128 to `out` (any safe integer; i32 constants use it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { signedLeb128 } from "./assembler.ts";
 * assert(signedLeb128(-123456, []).join() === [0xc0, 0xbb, 0x78].join());
 * ```
 */
export function signedLeb128(value: number, out: number[]): number[] {
  if (!Number.isSafeInteger(value)) throw new RangeError(`signed LEB128 value: ${value}`);
  for (;;) {
    const byte = ((value % 128) + 128) % 128;
    value = Math.floor(value / 128);
    const signBitSet = (byte & 0x40) !== 0;
    if ((value === 0 && !signBitSet) || (value === -1 && signBitSet)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/**
 * Decodes a LEB128 number from `bytes` at `offset`; the inverse of
 * {@link unsignedLeb128} and {@link signedLeb128}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeLeb128, signedLeb128 } from "./assembler.ts";
 * assert(decodeLeb128(signedLeb128(-5, []), 0, true).value === -5);
 * ```
 */
export function decodeLeb128(
  bytes: ArrayLike<number>,
  offset: number,
  signed: boolean,
): { value: number; next: number } {
  let value = 0;
  let scale = 1;
  let byte: number;
  do {
    byte = bytes[offset++];
    value += (byte & 0x7f) * scale;
    scale *= 128;
  } while (byte & 0x80);
  if (signed && byte & 0x40) value -= scale;
  return { value, next: offset };
}

function utf8Name(name: string, out: number[]): void {
  const bytes = new TextEncoder().encode(name);
  unsignedLeb128(bytes.length, out);
  out.push(...bytes);
}

/** Natural alignment (log2 bytes) of the memory accesses below. */
const ALIGN_32 = 2;
const ALIGN_128 = 4;

/**
 * One function under construction: parameters, locals and a body emitted by
 * the typed instruction methods (each returns `this`, so calls chain).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FunctionBuilder, assembleModule } from "./assembler.ts";
 * const add = new FunctionBuilder("add", ["i32", "i32"], ["i32"]);
 * add.localGet(0).localGet(1).i32Add();
 * const { exports } = new WebAssembly.Instance(new WebAssembly.Module(assembleModule([add])));
 * assert((exports.add as (a: number, b: number) => number)(2, 3) === 5);
 * ```
 */
export class FunctionBuilder {
  readonly name: string;
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
  readonly locals: ValType[] = [];
  readonly body: number[] = [];

  constructor(name: string, params: readonly ValType[], results: readonly ValType[] = []) {
    this.name = name;
    this.params = params;
    this.results = results;
  }

  /** Declares a local and returns its index. */
  local(type: ValType): number {
    this.locals.push(type);
    return this.params.length + this.locals.length - 1;
  }

  #op(...bytes: number[]): this {
    for (const byte of bytes) this.body.push(byte);
    return this;
  }

  #simd(opcode: number): this {
    this.body.push(0xfd);
    unsignedLeb128(opcode, this.body);
    return this;
  }

  #memarg(align: number, offset: number): this {
    unsignedLeb128(align, this.body);
    unsignedLeb128(offset, this.body);
    return this;
  }

  // Control.
  block(): this {
    return this.#op(0x02, 0x40);
  }
  loop(): this {
    return this.#op(0x03, 0x40);
  }
  if(): this {
    return this.#op(0x04, 0x40);
  }
  else(): this {
    return this.#op(0x05);
  }
  end(): this {
    return this.#op(0x0b);
  }
  br(depth: number): this {
    this.#op(0x0c);
    unsignedLeb128(depth, this.body);
    return this;
  }
  brIf(depth: number): this {
    this.#op(0x0d);
    unsignedLeb128(depth, this.body);
    return this;
  }
  return(): this {
    return this.#op(0x0f);
  }
  drop(): this {
    return this.#op(0x1a);
  }
  select(): this {
    return this.#op(0x1b);
  }

  // Locals.
  localGet(index: number): this {
    this.#op(0x20);
    unsignedLeb128(index, this.body);
    return this;
  }
  localSet(index: number): this {
    this.#op(0x21);
    unsignedLeb128(index, this.body);
    return this;
  }
  localTee(index: number): this {
    this.#op(0x22);
    unsignedLeb128(index, this.body);
    return this;
  }

  // Memory.
  i32Load(offset = 0): this {
    return this.#op(0x28).#memarg(ALIGN_32, offset);
  }
  i32Store(offset = 0): this {
    return this.#op(0x36).#memarg(ALIGN_32, offset);
  }
  f32Load(offset = 0): this {
    return this.#op(0x2a).#memarg(ALIGN_32, offset);
  }
  f32Store(offset = 0): this {
    return this.#op(0x38).#memarg(ALIGN_32, offset);
  }
  memoryGrow(): this {
    return this.#op(0x40, 0x00);
  }
  memorySize(): this {
    return this.#op(0x3f, 0x00);
  }

  // i32.
  /**
   * Pushes an i32 constant: any integer in [−2³¹, 2³²) (values from 2³¹ up are
   * the same bits read unsigned). Anything else throws `RangeError` instead of
   * being truncated, so a generator whose offset arithmetic overflows fails
   * loudly when it is built, never with a silently wrong address.
   */
  i32Const(value: number): this {
    if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 32) {
      throw new RangeError(`i32.const value out of 32-bit range: ${value}`);
    }
    this.#op(0x41);
    signedLeb128(value | 0, this.body);
    return this;
  }
  i32Eqz(): this {
    return this.#op(0x45);
  }
  i32Eq(): this {
    return this.#op(0x46);
  }
  i32Ne(): this {
    return this.#op(0x47);
  }
  i32LtS(): this {
    return this.#op(0x48);
  }
  i32LtU(): this {
    return this.#op(0x49);
  }
  i32GtS(): this {
    return this.#op(0x4a);
  }
  i32GtU(): this {
    return this.#op(0x4b);
  }
  i32LeS(): this {
    return this.#op(0x4c);
  }
  i32LeU(): this {
    return this.#op(0x4d);
  }
  i32GeS(): this {
    return this.#op(0x4e);
  }
  i32GeU(): this {
    return this.#op(0x4f);
  }
  i32Add(): this {
    return this.#op(0x6a);
  }
  i32Sub(): this {
    return this.#op(0x6b);
  }
  i32Mul(): this {
    return this.#op(0x6c);
  }
  i32DivU(): this {
    return this.#op(0x6e);
  }
  i32RemU(): this {
    return this.#op(0x70);
  }
  i32And(): this {
    return this.#op(0x71);
  }
  i32Or(): this {
    return this.#op(0x72);
  }
  i32Shl(): this {
    return this.#op(0x74);
  }
  i32ShrU(): this {
    return this.#op(0x76);
  }

  // f32.
  f32Const(value: number): this {
    this.#op(0x43);
    const bytes = new Uint8Array(new Float32Array([value]).buffer);
    this.body.push(...bytes);
    return this;
  }
  f32Add(): this {
    return this.#op(0x92);
  }
  f32Sub(): this {
    return this.#op(0x93);
  }
  f32Mul(): this {
    return this.#op(0x94);
  }
  f32Div(): this {
    return this.#op(0x95);
  }
  f32Min(): this {
    return this.#op(0x96);
  }
  f32Max(): this {
    return this.#op(0x97);
  }
  f32ConvertI32U(): this {
    return this.#op(0xb3);
  }

  // SIMD128.
  v128Load(offset = 0): this {
    return this.#simd(0x00).#memarg(ALIGN_128, offset);
  }
  v128Load32Splat(offset = 0): this {
    return this.#simd(0x09).#memarg(ALIGN_32, offset);
  }
  v128Store(offset = 0): this {
    return this.#simd(0x0b).#memarg(ALIGN_128, offset);
  }
  /** Stores lane `lane` of an f32x4/i32x4: `[address, vector] →`. */
  v128Store32Lane(lane: number, offset = 0): this {
    this.#simd(0x5a).#memarg(ALIGN_32, offset);
    this.body.push(lane);
    return this;
  }
  /**
   * `[a, b] → c`, byte `k` of `c` being byte `lanes[k]` of the 32-byte
   * concatenation `a‖b` (0–15 from `a`, 16–31 from `b`).
   */
  i8x16Shuffle(lanes: readonly number[]): this {
    if (
      lanes.length !== 16 || lanes.some((lane) => !Number.isInteger(lane) || lane < 0 || lane > 31)
    ) {
      throw new RangeError(`i8x16.shuffle lanes must be 16 integers in [0, 31], got [${lanes}]`);
    }
    this.#simd(0x0d);
    this.body.push(...lanes);
    return this;
  }
  f32x4Const(values: readonly [number, number, number, number]): this {
    this.#simd(0x0c);
    this.body.push(...new Uint8Array(new Float32Array(values).buffer));
    return this;
  }
  f32x4Splat(): this {
    return this.#simd(0x13);
  }
  f32x4ExtractLane(lane: number): this {
    this.#simd(0x1f);
    this.body.push(lane);
    return this;
  }
  f32x4ReplaceLane(lane: number): this {
    this.#simd(0x20);
    this.body.push(lane);
    return this;
  }
  /** Lane-wise `a ≠ b` as all-ones / all-zero lanes: `x ≠ x` marks NaN lanes. */
  f32x4Ne(): this {
    return this.#simd(0x42);
  }
  v128Or(): this {
    return this.#simd(0x50);
  }
  f32x4Add(): this {
    return this.#simd(0xe4);
  }
  f32x4Sub(): this {
    return this.#simd(0xe5);
  }
  f32x4Mul(): this {
    return this.#simd(0xe6);
  }
  f32x4Div(): this {
    return this.#simd(0xe7);
  }
  /** IEEE minimum: NaN if either lane is NaN. */
  f32x4Min(): this {
    return this.#simd(0xe8);
  }
  /**
   * IEEE maximum: NaN if either lane is NaN. V8 lowers it to about eight
   * instructions; `pool.ts` gets the same NaN rule from `pmax` and a mask.
   */
  f32x4Max(): this {
    return this.#simd(0xe9);
  }
  /**
   * Pseudo-minimum `b < a ? b : a` (one `minps`): a NaN in either lane
   * makes the comparison false, so the result is `a` — NaN only when `a` is.
   */
  f32x4Pmin(): this {
    return this.#simd(0xea);
  }
  /**
   * Pseudo-maximum `a < b ? b : a` (one `maxps`): with a NaN in either lane
   * the result is `a`, so only a NaN in `a` survives.
   */
  f32x4Pmax(): this {
    return this.#simd(0xeb);
  }

  // Relaxed SIMD.
  /** `[a, b, c] → a·b + c`, fused or not as the engine chooses. */
  f32x4RelaxedMadd(): this {
    return this.#simd(0x105);
  }
}

/** The memory a module imports as `env.memory`. */
export interface MemoryImport {
  /** Initial size in 64 KiB pages. */
  readonly initialPages: number;
  /** Maximum size in pages (required when shared). */
  readonly maximumPages?: number;
  readonly shared: boolean;
}

function section(id: number, content: number[], out: number[]): void {
  out.push(id);
  unsignedLeb128(content.length, out);
  for (const byte of content) out.push(byte);
}

/**
 * Assembles functions (all exported by name) into a module's bytes; with
 * `memory`, the module imports it as `env.memory`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FunctionBuilder, assembleModule } from "./assembler.ts";
 * const f = new FunctionBuilder("seven", [], ["i32"]).i32Const(7);
 * assert(WebAssembly.validate(assembleModule([f])));
 * ```
 */
export function assembleModule(
  functions: readonly FunctionBuilder[],
  memory?: MemoryImport,
): Uint8Array<ArrayBuffer> {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const typeKeys: string[] = [];
  const typeIndex = functions.map((f) => {
    const key = `${f.params.join(",")}->${f.results.join(",")}`;
    let index = typeKeys.indexOf(key);
    if (index < 0) index = typeKeys.push(key) - 1;
    return index;
  });

  const types: number[] = [];
  unsignedLeb128(typeKeys.length, types);
  for (const key of typeKeys) {
    const [params, results] = key.split("->").map((list) =>
      list === "" ? [] : list.split(",") as ValType[]
    );
    types.push(0x60);
    unsignedLeb128(params.length, types);
    for (const t of params) types.push(VAL_TYPE_CODES[t]);
    unsignedLeb128(results.length, types);
    for (const t of results) types.push(VAL_TYPE_CODES[t]);
  }
  section(1, types, out);

  if (memory !== undefined) {
    const imports: number[] = [];
    unsignedLeb128(1, imports);
    utf8Name("env", imports);
    utf8Name("memory", imports);
    imports.push(0x02);
    const hasMaximum = memory.maximumPages !== undefined;
    imports.push((hasMaximum ? 0x01 : 0x00) | (memory.shared ? 0x02 : 0x00));
    unsignedLeb128(memory.initialPages, imports);
    if (hasMaximum) unsignedLeb128(memory.maximumPages!, imports);
    section(2, imports, out);
  }

  const declarations: number[] = [];
  unsignedLeb128(functions.length, declarations);
  for (const index of typeIndex) unsignedLeb128(index, declarations);
  section(3, declarations, out);

  const exports: number[] = [];
  unsignedLeb128(functions.length, exports);
  functions.forEach((f, i) => {
    utf8Name(f.name, exports);
    exports.push(0x00);
    unsignedLeb128(i, exports);
  });
  section(7, exports, out);

  const code: number[] = [];
  unsignedLeb128(functions.length, code);
  for (const f of functions) {
    const body: number[] = [];
    const runs: [number, ValType][] = [];
    for (const t of f.locals) {
      const last = runs[runs.length - 1];
      if (last !== undefined && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    unsignedLeb128(runs.length, body);
    for (const [count, t] of runs) {
      unsignedLeb128(count, body);
      body.push(VAL_TYPE_CODES[t]);
    }
    for (const byte of f.body) body.push(byte);
    body.push(0x0b);
    unsignedLeb128(body.length, code);
    for (const byte of body) code.push(byte);
  }
  section(10, code, out);
  return new Uint8Array(out);
}

/**
 * Whether this engine accepts relaxed SIMD (`f32x4.relaxed_madd`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { relaxedSimdSupported } from "./assembler.ts";
 * assert(typeof relaxedSimdSupported() === "boolean");
 * ```
 */
export function relaxedSimdSupported(): boolean {
  return WebAssembly.validate(assembleModule([fmaProbe(true)]));
}

/**
 * Whether this engine accepts SIMD128.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { simdSupported } from "./assembler.ts";
 * assert(simdSupported());
 * ```
 */
export function simdSupported(): boolean {
  return WebAssembly.validate(assembleModule([fmaProbe(false)]));
}

function fmaProbe(fused: boolean): FunctionBuilder {
  const f = new FunctionBuilder("probe", ["v128", "v128", "v128"], ["v128"]);
  if (fused) return f.localGet(0).localGet(1).localGet(2).f32x4RelaxedMadd();
  return f.localGet(0).localGet(1).f32x4Mul().localGet(2).f32x4Add();
}
