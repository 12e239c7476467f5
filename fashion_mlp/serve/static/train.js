// The Train view: the form (a preset and what to change in it), the followed training's live
// progress and loss and accuracy charts, and this server's trainings.

import { lineChart } from "./charts.js";
import { $, api, el, pct, sendJson, state } from "./dom.js";

const ENDED = ["finished", "failed", "cancelled"];
const EVENTS = ["queued", "start", "run", "epoch_begin", "step", "epoch", ...ENDED];
let onFinished = () => {};

export async function loadPresets() {
  const presets = await api("/api/presets");
  $("#preset").replaceChildren(...Object.keys(presets).map((name) => el("option", { value: name }, name)));
  $("#preset").value = "smoke" in presets ? "smoke" : Object.keys(presets)[0];
}

const SETTINGS = {  // form field -> [config table, key, parse]
  hidden: ["model", "hidden", (text) => text.split(/[\s,]+/).map(Number)],
  activation: ["model", "activation", String],
  dropout: ["model", "dropout", Number],
  optimizer: ["optimizer", "optimizer", String],
  learning_rate: ["optimizer", "learning_rate", Number],
  schedule: ["optimizer", "schedule", String],
  weight_decay: ["optimizer", "weight_decay", Number],
  epochs: ["training", "epochs", Number],
  batch_size: ["training", "batch_size", Number],
  seed: ["training", "seed", Number],
};

export function trainingRequest(form) {
  const data = new FormData(form);
  const value = (key) => (data.get(key) || "").trim();
  const overrides = {};
  for (const [field, [table, key, parse]] of Object.entries(SETTINGS))
    if (value(field)) (overrides[table] ||= {})[key] = parse(value(field));
  return { preset: value("preset"), name: value("name") || null, overrides };
}

async function startTraining(event) {
  event.preventDefault();
  $("#train-error").hidden = true;
  try {
    follow(await sendJson("/api/trainings", "POST", trainingRequest(event.target)));
    loadJobs();
  } catch (error) {
    $("#train-error").textContent = error.message;
    $("#train-error").hidden = false;
  }
}

function apply(job, data) {
  if (data.type === "start") job.epochs = data.epochs;
  if (data.type === "run") job.run = data.run;
  if (data.type === "epoch_begin") Object.assign(job, { epoch: data.epoch, step: 0 });
  if (data.type === "step") Object.assign(job, { step: data.step, steps: data.steps, logs: data.logs });
  if (data.type === "epoch") {
    Object.assign(job, { epoch: data.epoch, done: data.epoch, step: job.steps, logs: data.logs });
    for (const [key, value] of Object.entries(data.logs)) (job.history[key] ||= []).push(value);
  }
  if (["start", "run", "epoch_begin"].includes(data.type) && job.status === "queued") job.status = "running";
  if (ENDED.includes(data.type)) Object.assign(job, { status: data.type, error: data.error, test_accuracy: data.test_accuracy });
}

// Follow a training's events (all of them from the first: a finished one is replayed).
function follow(job) {
  if (state.source) state.source.close();
  state.job = { ...job, history: {}, done: 0 };
  renderJob();
  const source = new EventSource(`/api/trainings/${job.id}/events`);
  state.source = source;
  const handle = (event) => {
    const data = JSON.parse(event.data);
    apply(state.job, data);
    if (ENDED.includes(data.type)) {
      source.close();
      loadJobs();
      if (data.type === "finished") onFinished();
    }
    renderJob();
  };
  for (const type of EVENTS) source.addEventListener(type, handle);
}

function jobLine(job) {
  const logs = job.logs || {};
  const epochs = job.epochs || "?";
  const parts = [job.run || job.name];
  if (job.status === "cancelled") parts.push(`cancelled after ${job.done || 0} of ${epochs} epochs`);
  else parts.push(`epoch ${job.epoch || 0}/${epochs}`);
  if (job.steps && job.status === "running") parts.push(`step ${job.step || 0}/${job.steps}`);
  if (logs.loss != null) parts.push(`loss ${logs.loss.toFixed(4)}`);
  if (job.status === "finished" && job.test_accuracy != null) parts.push(`test accuracy ${pct(job.test_accuracy)}`);
  if (job.error) parts.push(job.error);
  return parts.join(" · ");
}

function runLinks(job) {
  if (job.status !== "finished" || !job.run) return [];
  const use = el("a", { href: "#predict", "data-run": job.run, class: "use-run" }, "use this model");
  return [" · ", use, " · ", el("a", { href: `/api/runs/${encodeURIComponent(job.run)}/report`, target: "_blank" }, "report")];
}

function renderJob() {
  const job = state.job;
  if (!job) return;
  $("#job-status").textContent = job.status;
  $("#job-status").className = `badge ${job.status}`;
  const share = job.epochs ? ((job.epoch || 0) - 1 + (job.steps ? (job.step || 0) / job.steps : 0)) / job.epochs : 0;
  $("#step-bar").style.width = `${Math.max(0, Math.min(1, job.status === "finished" ? 1 : share)) * 100}%`;
  $("#job-line").replaceChildren(jobLine(job), ...runLinks(job));
  $("#train-charts").hidden = false;
  const h = job.history;
  const chart = (svg, key, title, format) => lineChart(svg, [
    { name: "train", color: "#1f77b4", values: h[key] || [] },
    { name: "validation", color: "#d62728", values: h[`val_${key}`] || [], dashed: true },
  ], title, { epochs: job.epochs || 0, format });
  chart($("#loss-chart"), "loss", "loss by epoch", "plain");
  chart($("#accuracy-chart"), "accuracy", "accuracy by epoch", "percent");
  $("#cancel").disabled = !["queued", "running"].includes(job.status);
}

function jobRow(job) {
  const run = job.run && job.status === "finished"
    ? el("a", { href: "#predict", "data-run": job.run, class: "use-run" }, job.run) : job.run || "";
  return el("tr", {}, el("td", {}, new Date(job.created * 1000).toLocaleTimeString()), el("td", {}, job.name),
    el("td", {}, el("span", { class: `badge ${job.status}` }, job.status)), el("td", { class: "num" }, job.epochs),
    el("td", { class: "num" }, job.test_accuracy != null ? pct(job.test_accuracy) : ""), el("td", {}, run));
}

export async function loadJobs() {
  const jobs = await api("/api/trainings");
  const header = el("tr", {}, ...["started", "name", "status", "epochs", "test accuracy", "run"].map((h) => el("th", {}, h)));
  $("#jobs-table").replaceChildren(el("thead", {}, header), el("tbody", {}, ...jobs.slice().reverse().map(jobRow)));
  $("#jobs-card").hidden = !jobs.length;
  if (!state.job && jobs.length)  // after a reload: the live training, else the latest one
    follow(jobs.find((job) => ["queued", "running"].includes(job.status)) || jobs[jobs.length - 1]);
}

export function setupTraining(finished) {
  onFinished = finished;
  $("#train-form").addEventListener("submit", startTraining);
  $("#cancel").addEventListener("click", () => state.job && api(`/api/trainings/${state.job.id}`, { method: "DELETE" }));
}
