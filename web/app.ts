/// <reference lib="dom" />
/**
 * The demo page (web/index.html): pick a backend, a network and an image;
 * see the top-5, the time per layer, and benchmark the network. The work is
 * done by `./lib.ts`; this module only wires it to the page. The page's
 * state is also written into `data-` attributes (`#status[data-state]`,
 * `#top5[data-top1]`, `#layers-summary[data-clock]`, the layer rows'
 * `data-variant` / `data-gflops`, the benchmark rows' `data-*`) for
 * `web/browser_check.ts`.
 *
 * @module
 */

import { type Backend, BackendUnavailableError } from "@mobileops/core";
import { type CompiledModel, compileGraph, type ModelProfile } from "@mobileops/graph";
import { decodeImage, ImageDecodeError, type RgbImage } from "@mobileops/image";
import {
  BACKEND_NAMES,
  type BackendName,
  backendUnavailable,
  createBackend,
} from "@mobileops/registry";
import { type CardModel, parseCard } from "../tools/fashion_mnist.ts";
import {
  benchmark,
  classify,
  loadNetwork,
  type Network,
  type NetworkChoice,
  networkChoices,
  profileLayers,
} from "./lib.ts";

const CARD_URL = new URL("/models/pretrained/fashion-mnist/card.json", location.href);
const SAMPLES_URL = new URL("samples/samples.json", CARD_URL);

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const statusLine = byId<HTMLParagraphElement>("status");
const backendsBox = byId<HTMLFieldSetElement>("backends");
const networkSelect = byId<HTMLSelectElement>("network");
const benchButton = byId<HTMLButtonElement>("run-bench");

/** What the page is working with; rebuilt when the backend or network changes. */
let backend: { key: string; instance: Backend } | undefined;
let network: Network | undefined;
let compiled: { key: string; model: CompiledModel } | undefined;
let image: { name: string; picture: RgbImage } | undefined;
/** Classifications shown so far: `#top5[data-run]`, so a test can wait for the next one. */
let classifications = 0;
let entries: CardModel[] = [];
let choices: NetworkChoice[] = [];
/** Serializes the page's work: a click while a run is going waits for it. */
let queue: Promise<unknown> = Promise.resolve();

function selectedBackend(): { name: BackendName; threads: number; key: string } {
  const checked = backendsBox.querySelector<HTMLInputElement>("input[name=backend]:checked");
  const name = (checked?.value ?? "js") as BackendName;
  const threads = Number(byId<HTMLSelectElement>("threads")?.value ?? 1);
  return { name, threads, key: name === "wasm" ? `wasm-${threads}t` : name };
}

async function currentBackend(): Promise<Backend> {
  const wanted = selectedBackend();
  if (backend?.key === wanted.key) return backend.instance;
  compiled?.model.dispose();
  compiled = undefined;
  backend?.instance.dispose();
  backend = undefined;
  const instance = await createBackend(
    wanted.name,
    wanted.name === "wasm" ? { wasm: { threads: wanted.threads } } : {},
  );
  backend = { key: wanted.key, instance };
  return instance;
}

async function currentNetwork(): Promise<Network> {
  const choice = choices.find((c) => c.id === networkSelect.value)!;
  if (network?.choice.id === choice.id) return network;
  compiled?.model.dispose();
  compiled = undefined;
  network = await loadNetwork(choice, entries, CARD_URL);
  return network;
}

async function currentCompiled(): Promise<CompiledModel> {
  const instance = await currentBackend();
  const net = await currentNetwork();
  const key = `${backend!.key}/${net.choice.id}`;
  if (compiled?.key === key) return compiled.model;
  compiled?.model.dispose();
  compiled = { key, model: await compileGraph(net.graph, instance) };
  return compiled.model;
}

/**
 * Why the wasm backend cannot use Worker threads here (a page that is not
 * cross-origin isolated has no SharedArrayBuffer), or undefined when it
 * can. Asked of a 2-thread backend, which then runs on 1 thread and says
 * why rather than failing.
 */
async function wasmThreadsUnavailable(): Promise<string | undefined> {
  try {
    using wasm = await createBackend("wasm", { wasm: { threads: 2 } });
    return wasm.capabilities.threadsUnavailable;
  } catch (error) {
    // The wasm row says why wasm itself cannot start.
    if (error instanceof BackendUnavailableError) return undefined;
    throw error;
  }
}

function describeBackend(instance: Backend): string {
  const { threads, adapter, softwareAdapter } = instance.capabilities;
  if (instance.name === "wasm") return `wasm, ${threads} thread${threads === 1 ? "" : "s"}`;
  if (adapter === undefined) return instance.name;
  // A CPU posing as a GPU: say so next to every time measured on it.
  return `${instance.name}, ${adapter}${softwareAdapter ? ": a software adapter on the CPU" : ""}`;
}

/** Jobs queued or running; the status says `busy` until none is left. */
let pending = 0;

/**
 * Runs `work` after whatever is running, showing its error in the status
 * line. The state turns `busy` at once (before the job starts), so that
 * whoever triggered it can wait for `done` or `error`.
 */
function enqueue(label: string, work: () => Promise<string>): Promise<unknown> {
  pending++;
  statusLine.dataset.state = "busy";
  queue = queue.then(async () => {
    statusLine.textContent = `${label}…`;
    let state: "done" | "error" = "done";
    try {
      statusLine.textContent = await work();
    } catch (error) {
      console.error(error);
      state = "error";
      statusLine.textContent = `${label} failed: ${(error as Error).name}: ${
        (error as Error).message
      }`;
    } finally {
      pending--;
      if (pending === 0 || state === "error") statusLine.dataset.state = state;
    }
  });
  return queue;
}

function showSeen(net: Network, picture: RgbImage): void {
  const canvas = byId<HTMLCanvasElement>("seen");
  const caption = byId<HTMLElement>("seen-caption");
  byId("input-description").textContent = `The network's input: ${net.inputDescription}.`;
  canvas.hidden = caption.hidden = net.seen === undefined;
  if (net.seen === undefined) return;
  const gray = net.seen(picture);
  const side = Math.sqrt(gray.pixels.length);
  const pixels = new ImageData(side, side);
  gray.pixels.forEach((v, p) => pixels.data.set([v, v, v, 255], 4 * p));
  canvas.width = canvas.height = side;
  canvas.getContext("2d")!.putImageData(pixels, 0, 0);
  caption.textContent = `what the network sees${gray.inverted ? " (inverted)" : ""}`;
}

function classifyNow(): Promise<unknown> {
  return image === undefined ? Promise.resolve() : enqueue("Classifying", classifyImage);
}

/** Classifies the current image on the current backend and network; shows the answer and the layer times. */
async function classifyImage(): Promise<string> {
  const { name: file, picture } = image!;
  const model = await currentCompiled();
  const net = network!;
  showSeen(net, picture);
  const input = net.input(picture);
  const { top5 } = await classify(model, input, net.labels);
  const list = byId<HTMLOListElement>("top5");
  // Random-weight networks have no class names: their classes are shown by index.
  const name = (ranked: (typeof top5)[number]) => ranked.label ?? `class ${ranked.index}`;
  list.dataset.top1 = name(top5[0]);
  list.dataset.file = file;
  list.dataset.run = String(++classifications);
  list.replaceChildren(...top5.map((ranked) => {
    const item = document.createElement("li");
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.width = `${Math.max(1, 12 * ranked.probability)}rem`;
    item.dataset.label = name(ranked);
    item.append(bar, `${name(ranked)} — ${(100 * ranked.probability).toFixed(1)} %`);
    return item;
  }));
  await showLayers(model, input);
  return `${file}: ${name(top5[0])} (${net.choice.id} on ${describeBackend(model.backend)})`;
}

/** What each clock of a profile measures, for the chart's summary line. */
const CLOCKS: Record<ModelProfile["clock"], string> = {
  device: "GPU timestamps",
  cpu: "the CPU clock around each kernel",
  enqueue: "the time to record each kernel, not to run it: this adapter has no timestamp-query",
};

/** How many profiled runs each layer's time is the median of. */
const PROFILE_RUNS = 5;

async function showLayers(model: CompiledModel, input: Float32Array): Promise<void> {
  using tensor = model.backend.upload(input, model.graph.inputShape);
  const profile = await profileLayers(model, tensor, PROFILE_RUNS);
  const longest = Math.max(...profile.layers.map((layer) => layer.ms));
  const summary = byId("layers-summary");
  summary.dataset.clock = profile.clock;
  summary.textContent = `${profile.layers.length} layers, ${profile.totalMs.toFixed(1)} ms in ` +
    `all: each layer the median of ${PROFILE_RUNS} runs, timed by ${CLOCKS[profile.clock]}`;
  byId("layers").replaceChildren(...profile.layers.map((layer) => {
    const row = document.createElement("div");
    // Coloured by the kernel's op word (f32-<op>-…): conv, gemm, dwconv, channel…
    row.className = `row kernel-${layer.variant.split("-")[1]}`;
    row.title = `${layer.op}, ${layer.variant}, ${layer.multiplyAdds} multiply-adds`;
    Object.assign(row.dataset, { variant: layer.variant, gflops: String(layer.gflops) });
    const cells = [
      layer.node,
      layer.variant,
      "",
      `${layer.ms.toFixed(layer.ms < 1 ? 3 : 1)} ms`,
      // No rate for pools, add, concat and shuffles (no multiply-adds), nor for a layer shorter
      // than the clock's tick (a browser's performance.now() ticks in 5 µs steps, or 100 µs).
      layer.multiplyAdds > 0 && layer.ms > 0 ? `${layer.gflops.toFixed(2)} GFLOP/s` : "",
    ].map((text) => {
      const cell = document.createElement("span");
      cell.textContent = text;
      return cell;
    });
    cells[2].className = "bar";
    cells[2].style.width = `${longest > 0 ? (100 * layer.ms) / longest : 0}%`;
    row.append(...cells);
    return row;
  }));
}

function runBenchmark(): Promise<unknown> {
  const runs = Number(byId<HTMLInputElement>("runs").value);
  return enqueue("Benchmarking", async () => {
    const instance = await currentBackend();
    const net = await currentNetwork();
    // A run's time does not depend on the values: without an image, a gray one.
    const input = image === undefined
      ? new Float32Array(net.graph.inputShape.reduce((a, b) => a * b, 1))
      : net.input(image.picture);
    const result = await benchmark(net.graph, instance, input, runs);
    const row = document.createElement("tr");
    Object.assign(row.dataset, {
      network: net.choice.id,
      backend: backend!.key,
      firstRunMs: String(result.firstRunMs),
      medianMs: String(result.medianMs),
    });
    const ms = (value: number) => `${value.toFixed(1)} ms`;
    for (
      const cell of [
        net.choice.id,
        describeBackend(instance),
        ms(result.compileMs),
        ms(result.firstRunMs),
        ms(result.medianMs),
        String(runs),
      ]
    ) {
      const td = document.createElement("td");
      td.textContent = cell;
      row.append(td);
    }
    byId("bench-table").querySelector("tbody")!.append(row);
    return `${net.choice.id} on ${describeBackend(instance)}: median ${ms(result.medianMs)}`;
  });
}

/** PNG and JPEG as `@mobileops/image` decodes them (as the command-line demo does); others by the browser. */
async function decode(file: Blob): Promise<RgbImage> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  try {
    return decodeImage(bytes);
  } catch (error) {
    if (!(error instanceof ImageDecodeError)) throw error;
  }
  const bitmap = await createImageBitmap(file);
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext("2d")!;
  context.drawImage(bitmap, 0, 0);
  const rgba = context.getImageData(0, 0, bitmap.width, bitmap.height).data;
  const data = new Uint8Array(bitmap.width * bitmap.height * 3);
  for (let p = 0; p < data.length / 3; p++) data.set(rgba.subarray(4 * p, 4 * p + 3), 3 * p);
  return { width: bitmap.width, height: bitmap.height, data };
}

/** Shows and classifies an image; `file` may still be loading (a sample being fetched). */
function useImage(name: string, file: Promise<Blob>): Promise<unknown> {
  return enqueue("Decoding", async () => {
    const blob = await file;
    image = { name, picture: await decode(blob) };
    const original = byId<HTMLImageElement>("original");
    URL.revokeObjectURL(original.src);
    original.src = URL.createObjectURL(blob);
    return await classifyImage();
  });
}

async function setUpBackends(): Promise<void> {
  const threadsReason = await wasmThreadsUnavailable();
  const rows = await Promise.all(BACKEND_NAMES.map(async (name) => {
    const reason = await backendUnavailable(name, name === "wasm" ? { threads: 1 } : undefined);
    const label = document.createElement("label");
    const radio = document.createElement("input");
    radio.type = "radio";
    radio.name = "backend";
    radio.value = name;
    radio.id = `backend-${name}`;
    radio.disabled = reason !== undefined;
    label.append(radio, ` ${name}`);
    if (reason !== undefined) {
      label.className = "unavailable";
      const why = document.createElement("span");
      why.className = "reason";
      why.textContent = reason;
      label.append(why);
    }
    if (name === "wasm" && reason === undefined) {
      const threads = document.createElement("select");
      threads.id = "threads";
      const most = threadsReason === undefined ? Math.max(1, navigator.hardwareConcurrency) : 1;
      for (let n = 1; n <= most; n++) {
        threads.add(new Option(`${n} thread${n === 1 ? "" : "s"}`, String(n)));
      }
      threads.value = String(most);
      label.append(" ", threads);
      if (threadsReason !== undefined) {
        const why = document.createElement("span");
        why.className = "reason";
        why.textContent = `threads: ${threadsReason}`;
        label.append(why);
      }
      threads.addEventListener("change", () => {
        radio.checked = true;
        classifyNow();
      });
    }
    radio.addEventListener("change", () => classifyNow());
    return label;
  }));
  const legend = backendsBox.querySelector("legend")!;
  backendsBox.replaceChildren(legend, ...rows);
  // The registry's order is fastest first, so the first that starts is the default.
  backendsBox.querySelector<HTMLInputElement>("input[name=backend]:not(:disabled)")!.checked = true;
}

async function setUpNetworks(): Promise<void> {
  entries = parseCard(await (await fetch(CARD_URL)).json());
  choices = networkChoices(entries);
  networkSelect.replaceChildren(...choices.map((c) => new Option(c.label, c.id)));
  networkSelect.disabled = false;
  networkSelect.addEventListener("change", () => classifyNow());
}

async function setUpSamples(): Promise<void> {
  const { samples } = await (await fetch(SAMPLES_URL)).json() as {
    samples: { file: string; className: string }[];
  };
  byId("samples").replaceChildren(...samples.map(({ file, className }) => {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.sample = file;
    button.title = `${className} (${file})`;
    const thumbnail = document.createElement("img");
    thumbnail.src = new URL(file, SAMPLES_URL).href;
    thumbnail.alt = className;
    button.append(thumbnail);
    button.addEventListener("click", () => {
      useImage(file, fetch(new URL(file, SAMPLES_URL)).then((response) => response.blob()));
    });
    return button;
  }));
}

function setUpDrop(): void {
  const drop = byId<HTMLLabelElement>("drop");
  const input = byId<HTMLInputElement>("file");
  input.addEventListener("change", () => {
    const file = input.files?.[0];
    if (file) useImage(file.name, Promise.resolve(file));
  });
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    const file = event.dataTransfer?.files[0];
    if (file) useImage(file.name, Promise.resolve(file));
  });
}

enqueue("Starting", async () => {
  await Promise.all([setUpBackends(), setUpNetworks(), setUpSamples()]);
  setUpDrop();
  benchButton.disabled = false;
  benchButton.addEventListener("click", runBenchmark);
  return `Ready${crossOriginIsolated ? "" : " (not cross-origin isolated: wasm runs 1 thread)"}`;
});
