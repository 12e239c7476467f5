// The Inside view: as you draw, each hidden layer's units light up and the attributions cover
// the strokes; hovering a first-layer unit shows its weights and how your drawing excites it.

import { $, api, el, pct, runUrl, sendJson, state } from "./dom.js";
import { loadMap, placeDrawing } from "./map.js";
import { padPixels, setupPad } from "./pad.js";

const DEBOUNCE_MS = 50;  // the endpoint answers in milliseconds: follow the strokes closely
const inside = { run: null, weights: null, explained: null, timer: 0, busy: false, dirty: false, mapped: false };

// Red for positive, blue for negative, white at 0; `value` in -1..1.
export function diverging(value) {
  const v = Math.max(-1, Math.min(1, value)), fade = Math.round(255 * (1 - Math.abs(v)));
  return v >= 0 ? [255, fade, fade] : [fade, fade, 255];
}

const largest = (values) => Math.max(1e-9, ...values.map(Math.abs));

export function setupInside() {
  const clearPad = setupPad($("#inside-canvas"), $("#inside-brush"), () => {
    inside.dirty = true;
    clearTimeout(inside.timer);
    inside.timer = setTimeout(sendDrawing, DEBOUNCE_MS);
  });
  const clear = () => {
    clearPad();
    Object.assign(inside, { dirty: false, explained: null });
    $("#inside-heat").getContext("2d").clearRect(0, 0, 28, 28);
    $("#inside-verdict").textContent = "draw something";
    renderLayers(null);
    placeDrawing(null);
  };
  clear();
  $("#inside-clear").addEventListener("click", clear);
}

// Load what the view needs for the chosen run: its weights and its map (once per run).
export async function loadInside() {
  if (!state.run || inside.run === state.run) return;
  const run = (inside.run = state.run);
  inside.weights = null;
  inside.mapped = false;
  api(runUrl("/inside/weights?limit=4096")).then((weights) => {
    if (run === state.run) inside.weights = weights;
  }).catch((error) => { if (run === state.run) inside.weights = { error: error.message }; });
  inside.mapped = await loadMap();
  if (inside.explained) { inside.dirty = true; sendDrawing(); }
}

async function sendDrawing() {
  if (inside.busy || !inside.dirty || !state.run) return;
  Object.assign(inside, { busy: true, dirty: false });
  try {
    const query = inside.mapped ? "?map=true" : "";
    const response = await sendJson(runUrl(`/inside/explain/pixels${query}`), "POST",
                                     { images: [padPixels($("#inside-canvas"))] });
    showExplanation(response.results[0], response.classes);
  } catch (error) {
    $("#inside-verdict").textContent = error.message;
  } finally {
    inside.busy = false;
    if (inside.dirty) sendDrawing();
  }
}

function showExplanation(result, classes) {
  inside.explained = result;
  const top = result.predicted.index;
  $("#inside-verdict").textContent = `${classes[top]} ${pct(result.probabilities[top])}`;
  paintHeat(result.attributions);
  renderLayers(result);
  placeDrawing(result.map_point || null);
}

// The attributions over the drawing: red pixels raised the predicted class, blue ones lowered it.
function paintHeat(attributions) {
  const context = $("#inside-heat").getContext("2d");
  const image = context.createImageData(28, 28);
  const scale = largest(attributions.flat());
  attributions.flat().forEach((value, index) => {
    image.data.set([...diverging(value / scale), Math.round(230 * Math.min(1, Math.abs(value) / scale))], index * 4);
  });
  context.putImageData(image, 0, 0);
}

function renderLayers(result) {
  const box = $("#inside-layers");
  if (!result) { box.replaceChildren(el("p", { class: "muted" }, "Draw to see the hidden units.")); return; }
  if (!result.activations) { box.replaceChildren(el("p", { class: "muted" }, "The hidden layers of this model cannot be read.")); return; }
  box.replaceChildren(...Object.entries(result.activations).map(([name, values], layer) => {
    const scale = largest(values);
    const cells = values.map((value, unit) => el("span", {
      class: `unit${layer === 0 ? " first" : ""}`, "data-unit": unit, tabindex: layer === 0 ? 0 : -1,
      title: `${name} unit ${unit}: ${value.toFixed(3)}`, style: `background:rgb(${diverging(value / scale)})` }));
    if (layer === 0) for (const cell of cells) {
      for (const kind of ["pointerenter", "focus"]) cell.addEventListener(kind, () => showUnit(Number(cell.dataset.unit)));
    }
    return el("div", { class: "layer" }, el("div", { class: "muted small" }, `${name}: ${values.length} units`),
              el("div", { class: "units" }, ...cells));
  }));
}

// A first-layer unit's weight image and how strongly the drawing excites it.
function showUnit(unit) {
  const info = $("#unit-info");
  const weights = inside.weights;
  if (!weights || weights.error) {
    info.replaceChildren(el("p", { class: "muted" }, weights ? weights.error : "loading the weights…"));
    return;
  }
  const values = Object.values(inside.explained.activations)[0];
  const rank = values.filter((other) => other > values[unit]).length + 1;
  const canvas = el("canvas", { class: "pixels weight", width: 28, height: 28, "aria-label": `weights of unit ${unit}` });
  const row = weights.listed.indexOf(unit);
  paintWeights(canvas, weights.images[row]);
  info.replaceChildren(canvas, el("div", {},
    el("div", { class: "verdict" }, `${weights.layer} unit ${unit}`),
    el("div", {}, `your drawing: ${values[unit].toFixed(3)} (${rank} of ${values.length})`),
    el("div", { class: "muted small" }, `importance rank ${weights.order.indexOf(unit) + 1}; ` +
       "red pixels excite it, blue ones inhibit it")));
}

function paintWeights(canvas, flat) {
  const context = canvas.getContext("2d");
  const image = context.createImageData(28, 28);
  const scale = largest(flat);
  flat.forEach((value, index) => image.data.set([...diverging(value / scale), 255], index * 4));
  context.putImageData(image, 0, 0);
}
