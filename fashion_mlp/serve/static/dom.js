// Shared by the page's modules: the page state, element helpers, the API and number formats.

export const $ = (selector) => document.querySelector(selector);
export const state = { run: null, classes: [], runs: [], sort: { key: "test_accuracy", descending: true },
                       ticked: new Set(), job: null, source: null };

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child));
  return node;
}

export async function api(path, options = {}) {
  const response = await fetch(path, options);
  const body = (response.headers.get("content-type") || "").includes("json")
    ? await response.json() : await response.text();
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

export const sendJson = (path, method, body) =>
  api(path, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

export function notice(message) {
  const box = $("#notice");
  box.textContent = message || "";
  box.hidden = !message;
}

export const pct = (p) => `${(100 * p).toFixed(1)}\u00a0%`;  // never "72.5" above "%"
export const runUrl = (suffix = "", run = state.run) => `/api/runs/${encodeURIComponent(run)}${suffix}`;

// Make `run` the chosen run, its class names first: a view that draws with them (the map's
// legend, the probability bars) may start loading as soon as state.run changes.
export async function selectRun(run) {
  const classes = run ? (await api(runUrl("/metrics", run))).class_names : [];
  Object.assign(state, { run, classes });
}

// Probability bars: class name, bar, percentage; the most likely class stands out.
export function bars(container, classes, probabilities) {
  const best = probabilities.indexOf(Math.max(...probabilities));
  container.replaceChildren(...classes.flatMap((name, index) => [
    el("span", {}, name),
    el("div", { class: "track" }, el("div", { class: `fill${index === best ? " best" : ""}`,
                                              style: `width:${(100 * probabilities[index]).toFixed(1)}%` })),
    el("span", { class: "pct" }, pct(probabilities[index])),
  ]));
}

export function paintPixels(canvas, pixels) {
  const context = canvas.getContext("2d");
  const image = context.createImageData(28, 28);
  pixels.flat().forEach((value, index) => image.data.set([value, value, value, 255], index * 4));
  context.putImageData(image, 0, 0);
}
