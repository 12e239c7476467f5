// The Inside view's map of the test set: a dot per test image by class; the wheel zooms, a drag
// pans, hovering shows the image and its prediction, a click opens it; the drawing is a star.

import { $, api, el, pct, runUrl, state } from "./dom.js";
import { openImage } from "./testset.js";

const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                 "#7f7f7f", "#bcbd22", "#17becf"];  // matplotlib's tab10, as the report's map
const HOVER_PX = 8;  // the nearest dot within this many CSS pixels is under the pointer
const STAR_PX = 12;  // the drawing's star: its points' distance from its centre
const MARGIN_PX = STAR_PX + 4;  // room inside the edges for a whole star (its mitred tips, its
                                // stroke) placed on the map's edge, and for every dot
const view = { points: null, zoom: 1, x: 0, y: 0, drawing: null, drag: null };

// Fetch and draw the chosen run's map; true when it has one.
export async function loadMap() {
  view.points = null;
  $("#map-status").textContent = "computing the map (the first time takes seconds)…";
  try {
    const points = await api(runUrl("/inside/map"));
    Object.assign(view, { points, zoom: 1, x: 0, y: 0 });
    $("#map-status").textContent = `${points.count.toLocaleString()} test images by their layer ` +
      `${points.layer}; 10-NN accuracy on the map ${points.knn_accuracy.toFixed(3)}`;
    renderLegend();
    draw();
    return true;
  } catch (error) {
    $("#map-status").textContent = `no map: ${error.message}`;
    draw();
    return false;
  }
}

// Show the drawing on the map at `point` (the map's integer coordinates), or none.
export function placeDrawing(point) {
  view.drawing = point;
  draw();
}

function renderLegend() {
  $("#map-legend").replaceChildren(...state.classes.map((name, index) =>
    el("span", {}, el("i", { style: `background:${COLOURS[index % 10]}` }), name)));
}

// The map's unit square to canvas pixels (CSS pixels), inside the margin, under the zoom and pan.
function toScreen(x, y, size) {
  const span = size - 2 * MARGIN_PX;
  return [(MARGIN_PX + x * span) * view.zoom + view.x, (MARGIN_PX + y * span) * view.zoom + view.y];
}

function draw() {
  const canvas = $("#map");
  const size = canvas.clientWidth, ratio = window.devicePixelRatio || 1;
  canvas.width = canvas.height = Math.round(size * ratio);
  const context = canvas.getContext("2d");
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, size, size);
  const points = view.points;
  if (!points) return;
  const radius = Math.min(4, 1.2 * Math.sqrt(view.zoom));
  for (let i = 0; i < points.count; i++) {
    const [sx, sy] = toScreen(points.x[i] / points.scale, points.y[i] / points.scale, size);
    if (sx < -4 || sy < -4 || sx > size + 4 || sy > size + 4) continue;
    context.fillStyle = COLOURS[points.labels[i] % 10];
    context.fillRect(sx - radius, sy - radius, 2 * radius, 2 * radius);
  }
  if (view.drawing) drawStar(context, ...toScreen(view.drawing[0] / points.scale, view.drawing[1] / points.scale, size));
}

function drawStar(context, x, y) {
  context.beginPath();
  for (let k = 0; k < 10; k++) {
    const r = k % 2 ? 5 : STAR_PX, angle = -Math.PI / 2 + k * Math.PI / 5;
    context.lineTo(x + r * Math.cos(angle), y + r * Math.sin(angle));
  }
  context.closePath();
  Object.assign(context, { fillStyle: "#ffd43b", strokeStyle: "#1f2430", lineWidth: 2 });
  context.fill();
  context.stroke();
}

// The index of the test image whose dot is nearest (x, y) in CSS pixels, or -1.
function nearest(x, y) {
  const points = view.points, size = $("#map").clientWidth;
  let best = -1, bestDistance = HOVER_PX ** 2;
  for (let i = 0; points && i < points.count; i++) {
    const [sx, sy] = toScreen(points.x[i] / points.scale, points.y[i] / points.scale, size);
    const distance = (sx - x) ** 2 + (sy - y) ** 2;
    if (distance < bestDistance) { best = i; bestDistance = distance; }
  }
  return best;
}

function showTip(index, x, y) {
  const tip = $("#map-tip");
  tip.hidden = index < 0;
  if (index < 0) return;
  const points = view.points, names = state.classes, predicted = points.predicted[index];
  tip.replaceChildren(el("img", { class: "pixels", alt: `test image ${index}`, src: runUrl(`/test/images/${index}/png`) }),
    el("div", {}, `#${index}, is ${names[points.labels[index]]}`),
    el("div", { class: predicted === points.labels[index] ? "right" : "wrong" },
       `predicted ${names[predicted]} ${pct(points.confidence_permille[index] / 1000)}`));
  const wide = $("#map").clientWidth;
  tip.style.left = `${Math.min(x + 12, wide - 150)}px`;
  tip.style.top = `${y + 12}px`;
}

const local = (event) => {
  const box = $("#map").getBoundingClientRect();
  return [event.clientX - box.left, event.clientY - box.top];
};

export function setupMap() {
  const canvas = $("#map");
  canvas.addEventListener("wheel", (event) => {
    event.preventDefault();
    const [x, y] = local(event), factor = Math.exp(-event.deltaY / 300);
    const zoom = Math.max(1, Math.min(40, view.zoom * factor)), applied = zoom / view.zoom;
    Object.assign(view, { zoom, x: x - (x - view.x) * applied, y: y - (y - view.y) * applied });
    draw();
  }, { passive: false });
  canvas.addEventListener("pointerdown", (event) => {
    const [x, y] = local(event);
    view.drag = { x, y, startX: view.x, startY: view.y, moved: false };
    canvas.setPointerCapture(event.pointerId);
  });
  canvas.addEventListener("pointermove", (event) => {
    const [x, y] = local(event), drag = view.drag;
    if (drag && (drag.moved || Math.hypot(x - drag.x, y - drag.y) > 4)) {
      Object.assign(view, { x: drag.startX + x - drag.x, y: drag.startY + y - drag.y });
      drag.moved = true;
      $("#map-tip").hidden = true;
      draw();
    } else if (!drag) showTip(nearest(x, y), x, y);
  });
  canvas.addEventListener("pointerup", (event) => {
    const drag = view.drag;
    view.drag = null;
    const index = drag && !drag.moved ? nearest(...local(event)) : -1;
    if (index >= 0) openImage(index, state.classes);
  });
  canvas.addEventListener("pointerleave", () => { $("#map-tip").hidden = true; });
  $("#map-reset").addEventListener("click", () => { Object.assign(view, { zoom: 1, x: 0, y: 0 }); draw(); });
  window.addEventListener("resize", draw);
}
