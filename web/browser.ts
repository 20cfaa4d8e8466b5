/**
 * Headless Chromium for the browser checks, the browser benchmark and the
 * screenshot: builds web/dist, serves it (web/serve.ts) on a free port and
 * launches Debian's Chromium through `playwright-core`, with the flags that
 * give it a WebGPU adapter here (SwiftShader, Chromium's software Vulkan:
 * see docs/web.md).
 *
 * @module
 */

import type { Browser, Page } from "npm:playwright-core@1.65.1";
import { buildWeb } from "./build.ts";
import { serveWeb } from "./serve.ts";

/** Where Debian's `chromium` package installs the browser; `CHROMIUM` overrides it. */
export const CHROMIUM_PATH: string = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";

/**
 * Chromium's flags: `--no-sandbox` because CI runs as root;
 * `--enable-unsafe-webgpu` because headless Chromium on Linux offers no
 * adapter without it (with it: SwiftShader's, `vendor: google,
 * architecture: swiftshader`); no background networking, since nothing
 * outside the machine can be reached.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--enable-unsafe-webgpu",
];

/** Options of {@link startWebSession}. */
export interface WebSessionOptions {
  /** Serve with the cross-origin isolation headers (default true). */
  readonly isolated?: boolean;
  /** Launch with `--enable-unsafe-webgpu` (default true): without it, no adapter here. */
  readonly webgpu?: boolean;
}

/** A running server and browser; `close()` stops both. */
export interface WebSession extends AsyncDisposable {
  /** The page's URL, e.g. `http://127.0.0.1:41234/`. */
  readonly url: string;
  /** The browser. */
  readonly browser: Browser;
  /** A new page with its console errors forwarded to `errors`. */
  newPage(): Promise<Page>;
  /** Every uncaught page error and `console.error` seen so far, as text. */
  readonly errors: string[];
  /** Closes the browser and stops the server. */
  close(): Promise<void>;
}

/**
 * Builds the page, serves it and launches Chromium. Throws
 * `Deno.errors.NotFound` naming {@link CHROMIUM_PATH} when Chromium is not
 * installed (`apt-get install chromium`).
 *
 * @example
 * ```ts ignore
 * import { startWebSession } from "./browser.ts";
 * await using session = await startWebSession();
 * const page = await session.newPage();
 * await page.goto(session.url);
 * ```
 */
export async function startWebSession(options: WebSessionOptions = {}): Promise<WebSession> {
  try {
    await Deno.stat(CHROMIUM_PATH);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new Deno.errors.NotFound(
      `${CHROMIUM_PATH}: no Chromium here (apt-get install chromium, or set CHROMIUM)`,
    );
  }
  // Loaded here, not at the top: playwright-core reads the home directory as it loads, and
  // importing this module (for its types) must not need --allow-sys.
  const { chromium } = await import("npm:playwright-core@1.65.1");
  await buildWeb();
  const server = serveWeb({ port: 0, isolated: options.isolated ?? true });
  let browser: Browser;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS.filter((arg) =>
        options.webgpu !== false || arg !== "--enable-unsafe-webgpu"
      ),
    });
  } catch (error) {
    await server.shutdown();
    throw error;
  }
  const errors: string[] = [];
  const close = async () => {
    await browser.close();
    await server.shutdown();
  };
  return {
    url: `http://127.0.0.1:${server.addr.port}/`,
    browser,
    errors,
    async newPage() {
      const page = await browser.newPage();
      page.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
      page.on("console", (message) => {
        if (message.type() === "error") errors.push(`console.error: ${message.text()}`);
      });
      return page;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
