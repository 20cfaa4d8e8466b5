import assert from "node:assert/strict";
import {
  assembleModule,
  decodeLeb128,
  FunctionBuilder,
  relaxedSimdSupported,
  signedLeb128,
  simdSupported,
  unsignedLeb128,
} from "./assembler.ts";

Deno.test("unsigned LEB128 round-trips edge values and uses the fewest bytes", () => {
  const values = [0, 1, 63, 64, 127, 128, 255, 16383, 16384, 2 ** 21 - 1, 2 ** 28, 2 ** 32 - 1];
  for (const value of values) {
    const bytes = unsignedLeb128(value, []);
    assert.equal(bytes.length, Math.max(1, Math.ceil(Math.log2(value + 1) / 7)), `${value}`);
    assert.deepEqual(decodeLeb128(bytes, 0, false), { value, next: bytes.length });
  }
  assert.throws(() => unsignedLeb128(-1, []), RangeError);
  assert.throws(() => unsignedLeb128(2 ** 32, []), RangeError);
});

Deno.test("signed LEB128 round-trips around every 7-bit boundary", () => {
  for (let bits = 0; bits <= 32; bits++) {
    for (const value of [2 ** bits - 1, 2 ** bits, -(2 ** bits), -(2 ** bits) - 1]) {
      const bytes = signedLeb128(value, []);
      assert.deepEqual(decodeLeb128(bytes, 0, true), { value, next: bytes.length }, `${value}`);
    }
  }
  assert.deepEqual(signedLeb128(-1, []), [0x7f]);
  assert.deepEqual(signedLeb128(64, []), [0xc0, 0x00]);
});

Deno.test("a module with a loop validates and runs", () => {
  // sum(n) = 0 + 1 + … + (n − 1), with a block/loop/br_if and locals.
  const sum = new FunctionBuilder("sum", ["i32"], ["i32"]);
  const i = sum.local("i32");
  const total = sum.local("i32");
  sum.block().loop()
    .localGet(i).localGet(0).i32GeS().brIf(1)
    .localGet(total).localGet(i).i32Add().localSet(total)
    .localGet(i).i32Const(1).i32Add().localSet(i)
    .br(0)
    .end().end()
    .localGet(total);
  const bytes = assembleModule([sum]);
  assert.ok(WebAssembly.validate(bytes));
  const run = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.sum as (
    n: number,
  ) => number;
  assert.equal(run(10), 45);
  assert.equal(run(0), 0);
});

Deno.test("SIMD f32x4 add, lane store and splat over an imported memory", () => {
  assert.ok(simdSupported());
  const memory = new WebAssembly.Memory({ initial: 1 });
  const f = new FunctionBuilder("addPlusHalf", ["i32", "i32", "i32"]);
  f.localGet(2)
    .localGet(0).v128Load().localGet(1).v128Load(16).f32x4Add()
    .f32Const(0.5).f32x4Splat().f32x4Add()
    .v128Store();
  const g = new FunctionBuilder("storeLane2", ["i32", "i32"]);
  g.localGet(1).localGet(0).v128Load().v128Store32Lane(2, 4);
  const module = new WebAssembly.Module(
    assembleModule([f, g], { initialPages: 1, shared: false }),
  );
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
  const view = new Float32Array(memory.buffer);
  view.set([1, 2, 3, 4, 10, 20, 30, 40]);
  (exports.addPlusHalf as (a: number, b: number, c: number) => void)(0, 0, 64);
  assert.deepEqual([...view.subarray(16, 20)], [11.5, 22.5, 33.5, 44.5]);
  (exports.storeLane2 as (a: number, b: number) => void)(0, 128);
  assert.deepEqual([...view.subarray(32, 34)], [0, 3]);
});

Deno.test("i8x16.shuffle picks bytes of a‖b and refuses bad lane lists", () => {
  const memory = new WebAssembly.Memory({ initial: 1 });
  // f32 lanes [a1, b0, b3, a2] as byte indices.
  const bytes = [1, 4, 7, 2].flatMap((lane) => [0, 1, 2, 3].map((byte) => 4 * lane + byte));
  const f = new FunctionBuilder("run", []);
  f.i32Const(32).i32Const(0).v128Load().i32Const(16).v128Load().i8x16Shuffle(bytes).v128Store();
  assert.deepEqual(new FunctionBuilder("g", []).i8x16Shuffle(bytes).body, [0xfd, 0x0d, ...bytes]);
  const exports = new WebAssembly.Instance(
    new WebAssembly.Module(assembleModule([f], { initialPages: 1, shared: false })),
    { env: { memory } },
  ).exports;
  const view = new Float32Array(memory.buffer);
  view.set([1, 2, 3, 4, 10, 20, 30, 40]);
  (exports.run as () => void)();
  assert.deepEqual([...view.subarray(8, 12)], [2, 10, 40, 3]);
  assert.throws(() => new FunctionBuilder("f", []).i8x16Shuffle([0, 1]), RangeError);
  assert.throws(() => new FunctionBuilder("f", []).i8x16Shuffle(Array(16).fill(32)), RangeError);
});

Deno.test("a shared memory import validates and instantiates", () => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 4, shared: true });
  const f = new FunctionBuilder("pages", [], ["i32"]).memorySize();
  const bytes = assembleModule([f], { initialPages: 1, maximumPages: 4, shared: true });
  const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } })
    .exports;
  assert.equal((exports.pages as () => number)(), 1);
});

Deno.test("relaxed_madd encodes as 0xfd 0x85 0x02 and computes a·b + c", () => {
  const f = new FunctionBuilder("madd", ["v128", "v128", "v128"], ["v128"]);
  f.localGet(0).localGet(1).localGet(2).f32x4RelaxedMadd();
  assert.deepEqual(f.body.slice(-3), [0xfd, 0x85, 0x02]);
  const supported = relaxedSimdSupported();
  assert.equal(WebAssembly.validate(assembleModule([f])), supported);
  if (!supported) return;
  const memory = new WebAssembly.Memory({ initial: 1 });
  const g = new FunctionBuilder("run", []);
  g.i32Const(48)
    .i32Const(0).v128Load().i32Const(16).v128Load().i32Const(32).v128Load()
    .f32x4RelaxedMadd().v128Store();
  const bytes = assembleModule([g], { initialPages: 1, shared: false });
  const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } })
    .exports;
  const view = new Float32Array(memory.buffer);
  view.set([1, 2, 3, 4, 2, 2, 2, 2, 0.5, 0.5, 0.5, 0.5]);
  (exports.run as () => void)();
  assert.deepEqual([...view.subarray(12, 16)], [2.5, 4.5, 6.5, 8.5]);
});

Deno.test("i32.const takes [−2³¹, 2³²) and refuses anything that would be truncated", () => {
  for (const value of [-(2 ** 31), -1, 0, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1]) {
    const f = new FunctionBuilder("c", [], ["i32"]).i32Const(value);
    const run = new WebAssembly.Instance(new WebAssembly.Module(assembleModule([f]))).exports
      .c as () => number;
    assert.equal(run(), value | 0, `${value}`);
  }
  for (const value of [2 ** 32, -(2 ** 31) - 1, 4096 * 2 ** 30, 0.5, NaN]) {
    assert.throws(() => new FunctionBuilder("c", []).i32Const(value), RangeError, `${value}`);
  }
});

Deno.test("pmax / pmin keep a NaN only in their first operand; f32x4.ne marks NaN lanes", () => {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const op = (name: string, emit: (f: FunctionBuilder) => void) => {
    const f = new FunctionBuilder(name, []);
    f.i32Const(32).i32Const(0).v128Load().i32Const(16).v128Load();
    emit(f);
    return f.v128Store();
  };
  const functions = [
    op("pmax", (f) => f.f32x4Pmax()),
    op("pmin", (f) => f.f32x4Pmin()),
    op("ne", (f) => f.f32x4Ne()),
    op("or", (f) => f.v128Or()),
  ];
  const exports = new WebAssembly.Instance(
    new WebAssembly.Module(assembleModule(functions, { initialPages: 1, shared: false })),
    { env: { memory } },
  ).exports;
  const view = new Float32Array(memory.buffer);
  const bits = new Uint32Array(memory.buffer);
  const result = (name: string, a: number[], b: number[]) => {
    view.set([...a, ...b]);
    (exports[name] as () => void)();
    return [...view.subarray(8, 12)];
  };
  assert.deepEqual(result("pmax", [NaN, 1, -Infinity, 2], [1, NaN, 0, 3]), [NaN, 1, 0, 3]);
  assert.deepEqual(result("pmin", [NaN, 1, Infinity, 2], [6, NaN, 6, 1]), [NaN, 1, 6, 1]);
  result("ne", [NaN, 1, Infinity, 2], [NaN, 1, Infinity, 3]);
  assert.deepEqual([...bits.subarray(8, 12)], [0xffffffff, 0, 0, 0xffffffff]);
  // Or-ing an all-ones lane into any value gives NaN (all-ones is a NaN's bit pattern).
  bits.set([0xffffffff, 0, 0, 0], 4);
  view.set([1, 2, 3, 4]);
  (exports.or as () => void)();
  assert.deepEqual([...view.subarray(8, 12)], [NaN, 2, 3, 4]);
});
