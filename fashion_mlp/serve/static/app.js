// fashion-mlp's web page: plain JavaScript, no build step, no CDN; talks to /api only.
"use strict";

const $ = (selector) => document.querySelector(selector);
const state = { run: null, classes: [], runs: [], sort: { key: "date", descending: true },
                ticked: new Set(), job: null, source: null };

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child));
  return node;
}

async function api(path, options = {}) {
  const response = await fetch(path, options);
  const body = (response.headers.get("content-type") || "").includes("json")
    ? await response.json() : await response.text();
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

function notice(message) {
  const box = $("#notice");
  box.textContent = message || "";
  box.hidden = !message;
}

const pct = (p) => `${(100 * p).toFixed(1)} %`;
const runUrl = (suffix = "") => `/api/runs/${encodeURIComponent(state.run)}${suffix}`;

// ---------- views ----------
function show(view) {
  for (const button of document.querySelectorAll("#tabs button"))
    button.classList.toggle("active", button.dataset.view === view);
  for (const section of document.querySelectorAll(".view"))
    section.hidden = section.id !== `view-${view}`;
  location.hash = view;
  if (view === "test") loadTestSet();
  if (view === "runs") loadRuns();
  if (view === "train") loadJobs();
}

// ---------- runs ----------
async function loadRunChoices() {
  state.runs = await api("/api/runs?sort=date&descending=true");
  const finished = state.runs.filter((run) => run.status === "finished");
  const select = $("#run");
  const previous = state.run;
  select.replaceChildren(...finished.map((run) => el("option", { value: run.name },
    `${run.name}${run.test_accuracy != null ? ` (${pct(run.test_accuracy)})` : ""}`)));
  if (!finished.length) {
    notice("No finished run yet: start one in the Train tab, or run `fashion-mlp train`.");
    state.run = null;
    return;
  }
  notice("");
  state.run = finished.some((run) => run.name === previous) ? previous : finished[0].name;
  select.value = state.run;
  describeRun();
}

function describeRun() {
  const run = state.runs.find((item) => item.name === state.run);
  $("#run-info").textContent = run ? `${run.architecture}, ${run.epochs ?? "?"} epochs` : "";
}

const RUN_COLUMNS = [["name", "run"], ["date", "date"], ["architecture", "model"],
  ["epochs", "epochs", true], ["test_accuracy", "test accuracy", true],
  ["train_seconds", "training s", true], ["status", "status"]];

function sortedRuns() {
  const { key, descending } = state.sort;
  const rows = [...state.runs];
  rows.sort((a, b) => {
    if (a[key] == null) return 1;
    if (b[key] == null) return -1;
    const order = a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : 0;
    return descending ? -order : order;
  });
  return rows;
}

function format(key, value) {
  if (value == null) return "";
  if (key === "test_accuracy") return pct(value);
  if (key === "train_seconds") return value.toFixed(1);
  return value;
}

async function loadRuns() {
  state.runs = await api("/api/runs");
  renderRuns();
}

function renderRuns() {
  const table = $("#runs-table");
  const header = el("tr", {}, el("th", {}, ""));
  for (const [key, label, numeric] of RUN_COLUMNS) {
    const arrow = state.sort.key === key ? (state.sort.descending ? " ▼" : " ▲") : "";
    header.append(el("th", { class: `sortable${numeric ? " num" : ""}`, "data-key": key,
      onclick: () => { state.sort = { key, descending: state.sort.key === key ? !state.sort.descending : true };
                       renderRuns(); } }, label + arrow));
  }
  header.append(el("th", {}, ""));
  const rows = sortedRuns().map((run) => {
    const box = el("input", { type: "checkbox", "aria-label": `compare ${run.name}` });
    box.checked = state.ticked.has(run.name);
    box.disabled = run.status !== "finished";
    box.addEventListener("change", () => {
      box.checked ? state.ticked.add(run.name) : state.ticked.delete(run.name);
      $("#compare-button").disabled = state.ticked.size !== 2;
    });
    const row = el("tr", { class: run.name === state.run ? "current" : "" }, el("td", {}, box));
    for (const [key, , numeric] of RUN_COLUMNS)
      row.append(el("td", { class: numeric ? "num" : "" }, format(key, run[key])));
    row.append(el("td", {}, run.status === "finished"
      ? el("a", { href: `/api/runs/${encodeURIComponent(run.name)}/report`, target: "_blank" }, "report")
      : ""));
    return row;
  });
  table.replaceChildren(el("thead", {}, header), el("tbody", {}, ...rows));
  $("#compare-button").disabled = state.ticked.size !== 2;
}

function shown(key, value) {
  if (value == null) return "";
  if (typeof value === "number" && key.includes("accuracy")) return pct(value);
  if (typeof value === "number" && !Number.isInteger(value)) return Number(value.toPrecision(4));
  return JSON.stringify(value).replace(/^"|"$/g, "");
}

async function compareRuns() {
  const query = [...state.ticked].map((name) => `run=${encodeURIComponent(name)}`).join("&");
  const result = await api(`/api/compare?${query}`);
  const keys = Object.keys(result.rows[0]).filter((key) => key !== "run");
  const table = el("table", { class: "table" },
    el("thead", {}, el("tr", {}, el("th", {}, ""), ...result.runs.map((name) => el("th", {}, name)))),
    el("tbody", {}, ...keys.map((key) => el("tr", {}, el("th", {}, key),
      ...result.rows.map((row) => el("td", {}, shown(key, row[key])))))));
  $("#compare-table").replaceChildren(table);
  const colors = ["#1f77b4", "#d62728"];
  lineChart($("#compare-chart"), result.runs.map((name, index) => ({
    name: `${name.slice(-28)} val acc`, color: colors[index],
    values: result.histories[name].val_accuracy || result.histories[name].accuracy || [] })),
    "validation accuracy by epoch");
  $("#compare").hidden = false;
}

// ---------- charts ----------
function lineChart(svg, series, title, epochs = 0) {
  const width = 480, height = 260, left = 44, right = 12, bottom = 30;
  const top = 30 + 14 * series.length;  // the legend sits above the plot, never on a line
  const all = series.flatMap((line) => line.values.filter((v) => v != null));
  const count = Math.max(2, epochs, ...series.map((line) => line.values.length));
  svg.replaceChildren();
  const ns = "http://www.w3.org/2000/svg";
  const add = (tag, attributes, text) => {
    const node = document.createElementNS(ns, tag);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    if (text != null) node.textContent = text;
    svg.append(node);
    return node;
  };
  add("text", { x: left, y: 14 }, title);
  if (!all.length) { add("text", { x: left, y: height / 2 }, "no epochs yet"); return; }
  let low = Math.min(...all), high = Math.max(...all);
  if (high - low < 1e-6) { low -= 0.5; high += 0.5; }
  const x = (i) => left + (i / (count - 1)) * (width - left - right);
  const y = (v) => top + (1 - (v - low) / (high - low)) * (height - top - bottom);
  for (let k = 0; k <= 4; k++) {
    const value = low + (k / 4) * (high - low);
    add("line", { x1: left, x2: width - right, y1: y(value), y2: y(value), class: "grid" });
    add("text", { x: left - 6, y: y(value) + 4, "text-anchor": "end" }, value.toFixed(3));
  }
  add("line", { x1: left, x2: width - right, y1: height - bottom, y2: height - bottom, class: "axis" });
  for (let i = 0; i < count; i++)
    if (count <= 12 || i % Math.ceil(count / 12) === 0)
      add("text", { x: x(i), y: height - bottom + 16, "text-anchor": "middle" }, i + 1);
  series.forEach((line, index) => {
    const points = line.values.map((v, i) => (v == null ? null : `${x(i)},${y(v)}`)).filter(Boolean);
    add("polyline", { points: points.join(" "), fill: "none", stroke: line.color, "stroke-width": 2,
                      "stroke-dasharray": line.dashed ? "5 4" : "none" });
    line.values.forEach((v, i) => v != null && add("circle", { cx: x(i), cy: y(v), r: 2.5, fill: line.color }));
    add("text", { x: width - right, y: 14 + 14 * index, "text-anchor": "end", style: `fill:${line.color}` },
        `── ${line.name}`);
  });
}

// ---------- predictions ----------
function bars(container, classes, probabilities) {
  const best = probabilities.indexOf(Math.max(...probabilities));
  container.replaceChildren(...classes.flatMap((name, index) => [
    el("span", {}, name),
    el("div", { class: "track" }, el("div", { class: `fill${index === best ? " best" : ""}`,
                                              style: `width:${(100 * probabilities[index]).toFixed(1)}%` })),
    el("span", { class: "pct" }, pct(probabilities[index])),
  ]));
}

function paintPixels(canvas, pixels) {
  const context = canvas.getContext("2d");
  const image = context.createImageData(28, 28);
  pixels.flat().forEach((value, index) => {
    image.data.set([value, value, value, 255], index * 4);
  });
  context.putImageData(image, 0, 0);
}

async function predictBlobs(blobs) {
  const form = new FormData();
  for (const [blob, name] of blobs) form.append("files", blob, name);
  return api(`${runUrl("/predict")}?k=3`, { method: "POST", body: form });
}

// Drawing: strokes on a black canvas, sent as a PNG; one request in flight, the latest wins.
const drawing = { active: false, dirty: false, busy: false, last: null };

function setupCanvas() {
  const canvas = $("#canvas");
  const context = canvas.getContext("2d");
  const clear = () => {
    context.fillStyle = "#000";
    context.fillRect(0, 0, canvas.width, canvas.height);
    drawing.dirty = false;
    $("#draw-top").textContent = "draw something";
    $("#draw-bars").replaceChildren();
    paintPixels($("#seen"), Array(28).fill(Array(28).fill(0)));
  };
  clear();
  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * canvas.width / box.width,
            (event.clientY - box.top) * canvas.height / box.height];
  };
  canvas.addEventListener("pointerdown", (event) => {
    canvas.setPointerCapture(event.pointerId);
    drawing.active = true;
    drawing.last = point(event);
    stroke(point(event));
  });
  canvas.addEventListener("pointermove", (event) => { if (drawing.active) stroke(point(event)); });
  const end = () => { drawing.active = false; sendDrawing(); };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  function stroke(to) {
    context.strokeStyle = "#fff";
    context.lineCap = context.lineJoin = "round";
    context.lineWidth = Number($("#brush").value);
    context.beginPath();
    context.moveTo(...drawing.last);
    context.lineTo(...to);
    context.stroke();
    drawing.last = to;
    drawing.dirty = true;
    sendDrawing();
  }
  $("#clear").addEventListener("click", clear);
}

async function sendDrawing() {
  if (drawing.busy || !drawing.dirty || !state.run) return;
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

async function predictFiles(files) {
  const images = [...files].filter((file) => file.type.startsWith("image/") || !file.type);
  if (!images.length || !state.run) return;
  const box = $("#photo-results");
  const cards = images.map((file) => {
    const card = el("div", { class: "photo" }, el("img", { src: URL.createObjectURL(file), alt: file.name }),
                    el("canvas", { class: "pixels", width: 28, height: 28, style: "width:84px;height:84px" }),
                    el("div", {}, el("div", { class: "name" }, file.name || "pasted image"),
                       el("div", { class: "muted" }, "classifying…")));
    box.prepend(card);
    return card;
  });
  for (const [index, file] of images.entries()) {  // one request each: one bad file fails alone
    const card = cards[index];
    const info = card.lastChild;
    try {
      const result = (await predictBlobs([[file, file.name || "pasted.png"]])).results[0];
      paintPixels(card.querySelector("canvas"), result.pixels);
      const chart = el("div", { class: "bars" });
      bars(chart, state.classes, result.probabilities);
      info.replaceChildren(el("div", { class: "name" }, `${result.top[0].class} ${pct(result.top[0].probability)}`),
                           el("div", { class: "muted small" }, file.name || "pasted image"), chart);
      card.dataset.predicted = result.top[0].class;
    } catch (error) {
      info.replaceChildren(el("div", { class: "name" }, file.name || "pasted image"),
                           el("div", { class: "error" }, error.message));
    }
  }
}

function setupPhotos() {
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

// ---------- test set ----------
async function loadTestSet() {
  if (!state.run) return;
  const run = state.run;
  let summary;
  try {
    summary = await api(runUrl("/test"));
  } catch (error) {
    $("#confusion").replaceChildren(el("p", { class: "error" }, error.message));
    return;
  }
  if (run !== state.run) return;
  state.classes = summary.class_names;
  $("#test-summary").textContent =
    `${summary.num_test.toLocaleString()} test images, accuracy ${pct(summary.test_accuracy)}, ` +
    `loss ${summary.test_loss.toFixed(3)}`;
  renderConfusion(summary);
  renderScores(summary);
  showGallery(runUrl("/test/mistakes?limit=32"), "Most confident mistakes");
}

function renderConfusion(summary) {
  const names = summary.class_names;
  const matrix = summary.confusion_matrix;
  const table = el("table", { class: "confusion" });
  table.append(el("tr", {}, el("th", {}, ""), ...names.map((name) => el("th", { class: "col" }, name))));
  matrix.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    const tr = el("tr", {}, el("th", { style: "text-align:right" }, names[i]));
    row.forEach((count, j) => {
      const share = count / total;
      const color = i === j ? `rgba(59,91,219,${0.12 + 0.88 * share})` : `rgba(252,141,98,${Math.min(1, 3 * share)})`;
      const cell = el("td", { style: `background:${count ? color : "#f8f9fa"};color:${share > 0.5 ? "#fff" : "inherit"}`,
                              title: `true ${names[i]}, predicted ${names[j]}: ${count}`,
                              "data-true": i, "data-predicted": j }, count || "");
      cell.addEventListener("click", () => {
        for (const other of table.querySelectorAll("td.selected")) other.classList.remove("selected");
        cell.classList.add("selected");
        showGallery(runUrl(`/test/confusion/${i}/${j}?limit=48`),
                    `True ${names[i]}, predicted ${names[j]}`);
      });
      tr.append(cell);
    });
    table.append(tr);
  });
  $("#confusion").replaceChildren(table);
}

function renderScores(summary) {
  const rows = summary.per_class.map((score) => el("tr", {}, el("td", {}, score.class),
    ...["precision", "recall", "f1"].map((key) => el("td", {},
      el("span", { class: "score", style: `width:${Math.round(40 * score[key])}px` }), score[key].toFixed(3))),
    el("td", { class: "num" }, score.support)));
  $("#scores").replaceChildren(el("table", { class: "table" },
    el("thead", {}, el("tr", {}, ...["class", "precision", "recall", "F1", "images"].map((h) => el("th", {}, h)))),
    el("tbody", {}, ...rows)));
}

async function showGallery(url, title) {
  const result = await api(url);
  const names = result.class_names;
  $("#gallery-title").textContent = `${title}: ${result.total} image${result.total === 1 ? "" : "s"}`;
  $("#gallery").replaceChildren(...result.items.map((item) => el("div", { class: "tile" },
    el("img", { class: "pixels", alt: `test image ${item.index}`,
                src: runUrl(`/test/images/${item.index}/png`) }),
    el("div", { class: item.label === item.predicted ? "right" : "wrong" },
       `${names[item.predicted]} ${pct(item.confidence)}`),
    el("div", { class: "muted" }, `#${item.index}, is ${names[item.label]}`))));
  if (!result.items.length) $("#gallery").replaceChildren(el("p", { class: "muted" }, "No images here."));
}

// ---------- training ----------
async function loadPresets() {
  const presets = await api("/api/presets");
  $("#preset").replaceChildren(...Object.keys(presets).map((name) => el("option", { value: name }, name)));
  $("#preset").value = "smoke" in presets ? "smoke" : Object.keys(presets)[0];
}

function trainingRequest(form) {
  const data = new FormData(form);
  const value = (key) => (data.get(key) || "").trim();
  const overrides = { model: {}, optimizer: {}, training: {} };
  if (value("hidden")) overrides.model.hidden = value("hidden").split(/[\s,]+/).map(Number);
  if (value("activation")) overrides.model.activation = value("activation");
  if (value("optimizer")) overrides.optimizer.optimizer = value("optimizer");
  if (value("learning_rate")) overrides.optimizer.learning_rate = Number(value("learning_rate"));
  for (const key of ["epochs", "batch_size", "seed"])
    if (value(key)) overrides.training[key] = Number(value(key));
  for (const key of Object.keys(overrides)) if (!Object.keys(overrides[key]).length) delete overrides[key];
  return { preset: value("preset"), name: value("name") || null, overrides };
}

async function startTraining(event) {
  event.preventDefault();
  $("#train-error").hidden = true;
  try {
    const job = await api("/api/trainings", { method: "POST", headers: { "content-type": "application/json" },
                                              body: JSON.stringify(trainingRequest(event.target)) });
    follow(job);
    loadJobs();
  } catch (error) {
    $("#train-error").textContent = error.message;
    $("#train-error").hidden = false;
  }
}

function follow(job) {
  if (state.source) state.source.close();
  state.job = { ...job, history: {}, epochs: job.epochs };
  renderJob();
  const source = new EventSource(`/api/trainings/${job.id}/events`);
  state.source = source;
  const handle = (event) => {
    const data = JSON.parse(event.data);
    const current = state.job;
    if (data.type === "start") current.epochs = data.epochs;
    if (data.type === "run") current.run = data.run;
    if (data.type === "epoch_begin") { current.epoch = data.epoch; current.step = 0; }
    if (data.type === "step") { current.step = data.step; current.steps = data.steps; current.logs = data.logs; }
    if (data.type === "epoch") {
      current.epoch = data.epoch;
      current.step = current.steps;
      for (const [key, value] of Object.entries(data.logs)) (current.history[key] ||= []).push(value);
    }
    if (["queued", "start", "run", "epoch_begin"].includes(data.type) && current.status === "queued" && data.type !== "queued")
      current.status = "running";
    if (["finished", "failed", "cancelled"].includes(data.type)) {
      current.status = data.type;
      current.error = data.error;
      current.test_accuracy = data.test_accuracy;
      source.close();
      loadJobs();
      if (data.type === "finished") loadRunChoices();
    }
    renderJob();
  };
  for (const type of ["queued", "start", "run", "epoch_begin", "step", "epoch", "finished", "failed", "cancelled"])
    source.addEventListener(type, handle);
}

function renderJob() {
  const job = state.job;
  if (!job) return;
  const status = $("#job-status");
  status.textContent = job.status;
  status.className = `badge ${job.status}`;
  const epochs = job.epochs || "?";
  const share = job.epochs ? ((job.epoch || 0) - 1 + (job.steps ? (job.step || 0) / job.steps : 0)) / job.epochs : 0;
  $("#step-bar").style.width = `${Math.max(0, Math.min(1, job.status === "finished" ? 1 : share)) * 100}%`;
  const logs = job.logs || {};
  const parts = [`${job.run || job.name}`, `epoch ${job.epoch || 0}/${epochs}`];
  if (job.steps) parts.push(`step ${job.step || 0}/${job.steps}`);
  if (logs.loss != null) parts.push(`loss ${logs.loss.toFixed(4)}`);
  if (job.status === "finished" && job.test_accuracy != null) parts.push(`test accuracy ${pct(job.test_accuracy)}`);
  if (job.error) parts.push(job.error);
  $("#job-line").textContent = parts.join(" · ");
  const h = job.history;
  lineChart($("#train-chart"), [
    { name: "accuracy", color: "#1f77b4", values: h.accuracy || [] },
    { name: "val accuracy", color: "#d62728", values: h.val_accuracy || [] },
  ], "accuracy by epoch", job.epochs || 0);
  $("#cancel").disabled = !["queued", "running"].includes(job.status);
}

async function loadJobs() {
  const jobs = await api("/api/trainings");
  const header = el("tr", {}, ...["started", "name", "status", "epochs", "test accuracy", "run"].map((h) => el("th", {}, h)));
  const rows = jobs.slice().reverse().map((job) => el("tr", {},
    el("td", {}, new Date(job.created * 1000).toLocaleTimeString()), el("td", {}, job.name),
    el("td", {}, el("span", { class: `badge ${job.status}` }, job.status)), el("td", { class: "num" }, job.epochs),
    el("td", { class: "num" }, job.test_accuracy != null ? pct(job.test_accuracy) : ""),
    el("td", {}, job.run || "")));
  $("#jobs-table").replaceChildren(el("thead", {}, header), el("tbody", {}, ...rows));
  if (!state.job) {
    const live = jobs.find((job) => ["queued", "running"].includes(job.status));
    if (live) follow(live);
  }
}

async function loadClasses() {
  if (state.run) state.classes = (await api(runUrl("/metrics"))).class_names;
}

// ---------- start ----------
async function start() {
  for (const button of document.querySelectorAll("#tabs button"))
    button.addEventListener("click", () => show(button.dataset.view));
  $("#run").addEventListener("change", async (event) => {
    state.run = event.target.value;
    describeRun();
    await loadClasses();
    if (!$("#view-test").hidden) loadTestSet();
    drawing.dirty = true;
    sendDrawing();
  });
  $("#compare-button").addEventListener("click", () => compareRuns().catch((error) => notice(error.message)));
  $("#train-form").addEventListener("submit", startTraining);
  $("#cancel").addEventListener("click", () => state.job && api(`/api/trainings/${state.job.id}`, { method: "DELETE" }));
  setupCanvas();
  setupPhotos();
  try {
    await Promise.all([loadRunChoices(), loadPresets()]);
    await loadClasses();
  } catch (error) {
    notice(error.message);
  }
  const view = location.hash.slice(1);
  show(["predict", "test", "runs", "train"].includes(view) ? view : "predict");
}

start();
