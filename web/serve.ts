/**
 * Serves the built page (web/dist, made by `web/build.ts`) and the repository
 * files it reads (models/pretrained/fashion-mnist: the card, the ONNX
 * networks, the samples), with the headers that make the page cross-origin
 * isolated, so that `SharedArrayBuffer` exists and the wasm backend can run
 * Worker threads:
 *
 * ```sh
 * deno task web                  # builds, then serves http://localhost:8000/
 * deno run --allow-read --allow-net web/serve.ts --port 8080
 * deno run --allow-read --allow-net web/serve.ts --not-isolated   # as a plain static server
 * ```
 *
 * @module
 */

import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { InvalidArgumentError } from "@mobileops/core";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DIST = join(ROOT, "web", "dist");
/** The only repository folder served besides the page: the trained networks and their samples. */
const SHARED = "/models/pretrained/fashion-mnist/";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".png": "image/png",
  ".onnx": "application/octet-stream",
  ".map": "application/json",
  ".txt": "text/plain; charset=utf-8",
};

/**
 * Cross-origin isolation (COOP + COEP) enables `SharedArrayBuffer`; CORP lets
 * an isolated page load these same-origin files in workers too.
 */
const ISOLATION = {
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-embedder-policy": "require-corp",
  "cross-origin-resource-policy": "same-origin",
};

/** Options of {@link serveWeb}. */
export interface ServeOptions {
  /** TCP port; 0 picks a free one. Default 8000. */
  readonly port?: number;
  /** Interface to listen on. Default `127.0.0.1`. */
  readonly hostname?: string;
  /**
   * Send the cross-origin isolation headers (default true). Without them the
   * page works with wasm on 1 thread, as it would from any static server.
   */
  readonly isolated?: boolean;
}

/** Where a URL path is on disk, or undefined when it is outside what is served. */
function fileFor(pathname: string): string | undefined {
  const path = normalize(decodeURIComponent(pathname));
  if (path.includes("\0") || path.split("/").includes("..")) return undefined;
  if (path.startsWith(SHARED)) return join(ROOT, path);
  return join(DIST, path.endsWith("/") ? `${path}index.html` : path);
}

/**
 * Answers one request as the server does: GET and HEAD of files under
 * web/dist and models/pretrained/fashion-mnist, with the isolation headers;
 * 404 for anything else there is, 405 for other methods.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { handleRequest } from "./serve.ts";
 * const card = await handleRequest(new Request("http://x/models/pretrained/fashion-mnist/card.json"));
 * assert.equal(card.headers.get("cross-origin-embedder-policy"), "require-corp");
 * assert.equal((await card.json()).models.length, 7);
 * const outside = await handleRequest(new Request("http://x/models/pretrained/fashion-mnist/../../../deno.json"));
 * assert.equal(outside.status, 404);
 * ```
 */
export async function handleRequest(request: Request): Promise<Response> {
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("method not allowed", { status: 405, headers: ISOLATION });
  }
  const file = fileFor(new URL(request.url).pathname);
  if (file === undefined) return new Response("not found", { status: 404, headers: ISOLATION });
  try {
    const body = await Deno.readFile(file);
    return new Response(request.method === "HEAD" ? null : body, {
      headers: {
        ...ISOLATION,
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
        "cache-control": "no-store",
      },
    });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound || error instanceof Deno.errors.IsADirectory)) {
      throw error;
    }
    return new Response("not found", { status: 404, headers: ISOLATION });
  }
}

async function withoutIsolation(request: Request): Promise<Response> {
  const response = await handleRequest(request);
  for (const header of Object.keys(ISOLATION)) response.headers.delete(header);
  return response;
}

/**
 * Starts the server ({@link handleRequest} for every request); returns
 * Deno's `HttpServer` (its `addr.port` is the port, `shutdown()` stops it).
 *
 * @example
 * ```ts ignore
 * // Needs --allow-net, which the main test run does not grant.
 * import { serveWeb } from "./serve.ts";
 * const server = serveWeb({ port: 0 });
 * console.log(`http://127.0.0.1:${server.addr.port}/`);
 * await server.shutdown();
 * ```
 */
export function serveWeb(options: ServeOptions = {}): Deno.HttpServer<Deno.NetAddr> {
  const port = options.port ?? 8000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError("options.port", port, "must be an integer from 0 to 65535");
  }
  return Deno.serve(
    { port, hostname: options.hostname ?? "127.0.0.1", onListen: () => {} },
    options.isolated === false ? withoutIsolation : handleRequest,
  );
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { port: { type: "string" }, "not-isolated": { type: "boolean", default: false } },
  });
  const port = values.port === undefined ? 8000 : Number(values.port);
  const server = serveWeb({ port, isolated: !values["not-isolated"] });
  console.log(`mobileops demo: http://localhost:${server.addr.port}/ (built by web/build.ts)`);
  await server.finished;
}
