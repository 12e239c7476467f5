// The Predict view: a canvas to draw on (sent once it has ink, the latest drawing wins) and
// photos dropped, pasted or picked, each classified on its own.

import { $, api, bars, el, paintPixels, pct, runUrl, state } from "./dom.js";
import { setupPad } from "./pad.js";

const drawing = { dirty: false, busy: false, inked: false };

function predictBlobs(blobs) {
  const form = new FormData();
  for (const [blob, name] of blobs) form.append("files", blob, name);
  return api(`${runUrl("/predict")}?k=3`, { method: "POST", body: form });
}

export function setupCanvas() {
  const clearPad = setupPad($("#canvas"), $("#brush"), () => {
    Object.assign(drawing, { dirty: true, inked: true });
    sendDrawing();
  });
  const clear = () => {
    clearPad();
    Object.assign(drawing, { dirty: false, inked: false });
    $("#draw-top").textContent = "draw something";
    $("#draw-top").classList.add("muted");
    $("#draw-bars").replaceChildren();
    paintPixels($("#seen"), Array(28).fill(Array(28).fill(0)));
  };
  clear();
  $("#clear").addEventListener("click", clear);
}

// Classify the drawing again (another model was chosen), if there is one.
export function redraw() {
  drawing.dirty = drawing.inked;
  sendDrawing();
}

async function sendDrawing() {
  if (drawing.busy || !drawing.dirty || !drawing.inked || !state.run) return;
  drawing.busy = true;
  drawing.dirty = false;
  try {
    const blob = await new Promise((resolve) => $("#canvas").toBlob(resolve, "image/png"));
    const result = (await predictBlobs([[blob, "drawing.png"]])).results[0];
    paintPixels($("#seen"), result.pixels);
    $("#draw-top").textContent = `${result.top[0].class} ${pct(result.top[0].probability)}`;
    $("#draw-top").classList.remove("muted");
    bars($("#draw-bars"), state.classes, result.probabilities);
  } catch (error) {
    $("#draw-top").textContent = error.message.includes("no object") ? "draw something" : error.message;
  } finally {
    drawing.busy = false;
    if (drawing.dirty) sendDrawing();
  }
}

function photoCard(file) {
  return el("div", { class: "photo" }, el("img", { src: URL.createObjectURL(file), alt: file.name }),
            el("canvas", { class: "pixels", width: 28, height: 28 }),
            el("div", { class: "info" }, el("div", { class: "file" }, file.name || "pasted image"),
               el("div", { class: "muted" }, "classifying…")));
}

async function classify(card, file) {
  const info = card.querySelector(".info");
  const name = file.name || "pasted image";
  try {
    const result = (await predictBlobs([[file, file.name || "pasted.png"]])).results[0];
    paintPixels(card.querySelector("canvas"), result.pixels);
    const chart = el("div", { class: "bars" });
    bars(chart, state.classes, result.probabilities);
    info.replaceChildren(el("div", { class: "verdict" }, `${result.top[0].class} ${pct(result.top[0].probability)}`),
                         el("div", { class: "muted small file" }, name), chart);
    card.dataset.predicted = result.top[0].class;
  } catch (error) {
    info.replaceChildren(el("div", { class: "file" }, name), el("div", { class: "error" }, error.message));
  }
}

async function predictFiles(files) {
  const images = [...files].filter((file) => file.type.startsWith("image/") || !file.type);
  if (!images.length || !state.run) return;
  const cards = images.map(photoCard);
  $("#photo-results").prepend(...cards.slice().reverse());
  for (const [index, file] of images.entries()) await classify(cards[index], file);  // one bad file fails alone
}

export function setupPhotos(show) {
  const drop = $("#drop");
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    predictFiles(event.dataTransfer.files);
  });
  $("#files").addEventListener("change", (event) => { predictFiles(event.target.files); event.target.value = ""; });
  document.addEventListener("paste", (event) => {
    const files = [...event.clipboardData.items].filter((item) => item.kind === "file").map((item) => item.getAsFile());
    if (files.length) { show("predict"); predictFiles(files); }
  });
}
