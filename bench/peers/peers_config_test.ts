import assert from "node:assert/strict";

/** The fields of a deno.json (the root, a workspace member, peers.json) that these tests read. */
interface DenoConfig {
  readonly name?: string;
  readonly exports?: string | Readonly<Record<string, string>>;
  readonly workspace?: readonly string[];
  readonly imports?: Readonly<Record<string, string>>;
  readonly fmt?: unknown;
  readonly lint?: unknown;
}

const root = new URL("../../", import.meta.url);

async function readJson<T>(url: URL): Promise<T> {
  return JSON.parse(await Deno.readTextFile(url));
}

Deno.test("peers.json maps every export of every workspace member, and nothing else", async () => {
  const workspace = await readJson<DenoConfig>(new URL("deno.json", root));
  const expected: Record<string, string> = {};
  for (const member of workspace.workspace ?? []) {
    const memberUrl = new URL(`${member}/`, root);
    const config = await readJson<DenoConfig>(new URL("deno.json", memberUrl));
    assert(config.name !== undefined && config.exports !== undefined, member);
    const exports = typeof config.exports === "string" ? { ".": config.exports } : config.exports;
    for (const [subpath, target] of Object.entries(exports)) {
      const specifier = subpath === "." ? config.name : `${config.name}${subpath.slice(1)}`;
      expected[specifier] = `../../${new URL(target, memberUrl).href.slice(root.href.length)}`;
    }
  }
  const peers = await readJson<DenoConfig>(new URL("peers.json", import.meta.url));
  assert.deepEqual(peers.imports, expected);
});

Deno.test("peers.json formats and lints like the root configuration", async () => {
  const workspace = await readJson<DenoConfig>(new URL("deno.json", root));
  const peers = await readJson<DenoConfig>(new URL("peers.json", import.meta.url));
  assert.deepEqual(peers.fmt, workspace.fmt);
  assert.deepEqual(peers.lint, workspace.lint);
});

Deno.test("the root lockfile holds none of the peers' npm packages", async () => {
  const lock = await readJson<{ npm?: Record<string, unknown> }>(new URL("deno.lock", root));
  const peerPackages = Object.keys(lock.npm ?? {}).filter((key) =>
    /^(@tensorflow\/|onnxruntime-)/.test(key)
  );
  assert.deepEqual(peerPackages, []);
});
