// Runs: the model selector (sweep trials under their sweep, opening on the default or the best
// run), the Runs table with its actions (rename, tag, default, delete) and two runs compared.

import { lineChart } from "./charts.js";
import { $, api, el, notice, pct, selectRun, sendJson, state } from "./dom.js";

const label = (run) => run.title || run.name;
const byAccuracy = (a, b) => (b.test_accuracy ?? -1) - (a.test_accuracy ?? -1);

// The run the page opens on: the default run, else the finished run of best test accuracy.
export function openingRun(finished) {
  return finished.find((run) => run.default) || [...finished].sort(byAccuracy)[0];
}

function groups(finished) {
  const grouped = new Map([["runs", []], ["ensembles", []]]);
  for (const run of [...finished].sort(byAccuracy)) {
    const key = run.kind === "ensemble" ? "ensembles" : run.sweep ? `sweep ${run.sweep}` : "runs";
    if (!grouped.has(key)) grouped.set(key, []);
    grouped.get(key).push(run);
  }
  return [...grouped].filter(([, runs]) => runs.length);
}

function option(run) {
  const score = run.test_accuracy != null ? ` · ${pct(run.test_accuracy)}` : "";
  return el("option", { value: run.name }, `${run.default ? "★ " : ""}${label(run)}${score}`);
}

export async function loadRunChoices() {
  state.runs = await api("/api/runs");
  const finished = state.runs.filter((run) => run.status === "finished");
  if (!finished.length) {
    $("#run").replaceChildren();
    notice("No finished run yet: start one in the Train tab, or run `fashion-mlp train`.");
    state.run = null;
    return;
  }
  if (!finished.some((run) => run.name === state.run)) await selectRun(openingRun(finished).name);
  // The choices appear with the chosen run already selected, never the first one for a moment.
  $("#run").replaceChildren(...groups(finished).map(([name, runs]) =>
    el("optgroup", { label: name }, ...runs.map(option))));
  $("#run").value = state.run;
  notice("");
  describeRun();
}

export function describe(run) {
  if (run.kind === "ensemble") return `ensemble of ${run.members} runs`;
  const epochs = run.epochs_planned != null ? `${run.epochs ?? 0} of ${run.epochs_planned}` : run.epochs ?? "?";
  const base = `${run.architecture}, ${epochs} epochs`;
  return run.sweep ? `${base}, a trial of sweep ${run.sweep}` : base;
}

export function describeRun(name = state.run) {
  const run = state.runs.find((item) => item.name === name);
  $("#run-info").textContent = run ? describe(run) : "";
}

const COLUMNS = [["name", "run"], ["test_accuracy", "test accuracy", true], ["architecture", "model"],
  ["epochs", "epochs", true], ["train_seconds", "training s", true], ["status", "status"], ["date", "date"]];

function sortedRuns() {
  const { key, descending } = state.sort;
  return [...state.runs].sort((a, b) => {
    if (a[key] == null) return 1;
    if (b[key] == null) return -1;
    const order = a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : 0;
    return descending ? -order : order;
  });
}

function cell(run, key) {
  const value = run[key];
  if (key === "name") {
    const what = run.kind === "ensemble" ? `ensemble of ${run.members} runs` : run.sweep ? `sweep ${run.sweep}` : "";
    const about = [run.title ? run.name : "", what].filter(Boolean).join(" · ");
    return [el("div", { class: "run-name" }, label(run)), about ? el("div", { class: "muted small" }, about) : "",
      ...run.tags.map((tag) => el("span", { class: "tag" }, tag)), actions(run)];
  }
  if (run.kind === "ensemble" && key === "architecture") return `ensemble of ${run.members}`;
  if (run.kind === "ensemble" && ["epochs", "train_seconds"].includes(key) && !value) return "–";  // not trained itself
  if (key === "epochs" && run.epochs_planned != null) return `${value ?? 0} of ${run.epochs_planned}`;
  if (key === "status") return el("span", { class: `badge ${value}` }, value);
  if (value == null) return "";
  if (key === "test_accuracy") return pct(value);
  if (key === "train_seconds") return value.toFixed(1);
  return value;
}

async function act(work) {
  try {
    await work();
    await loadRunChoices();
    renderRuns();
  } catch (error) {
    notice(error.message);
  }
}

const url = (run) => `/api/runs/${encodeURIComponent(run.name)}`;

function actions(run) {
  const button = (text, onclick, attributes = {}) =>
    el("button", { type: "button", class: "small", onclick, ...attributes }, text);
  const rename = () => {
    const title = prompt(`A title for ${run.name} (empty: the folder name)`, run.title || "");
    if (title != null) act(() => sendJson(url(run), "PATCH", { title: title.trim() || null }));
  };
  const tag = () => {
    const tags = prompt(`Tags for ${label(run)}, separated by commas`, run.tags.join(", "));
    if (tags != null) act(() => sendJson(url(run), "PATCH", { tags: tags.split(",").map((t) => t.trim()).filter(Boolean) }));
  };
  const makeDefault = () => act(() => sendJson("/api/default-run", "PUT", { run: run.default ? null : run.name }));
  const remove = () => {
    if (confirm(`Delete ${label(run)} (${run.name}) and every file in its folder? This cannot be undone.`))
      act(() => api(url(run), { method: "DELETE" }));
  };
  const finished = run.status === "finished";
  return el("div", { class: "actions" },
    finished ? el("a", { href: `${url(run)}/report`, target: "_blank" }, "report") : "",
    button("rename", rename, { "data-action": "rename" }), button("tags", tag, { "data-action": "tags" }),
    finished ? button(run.default ? "★ default" : "make default", makeDefault,
                      { "data-action": "default", "aria-pressed": String(run.default) }) : "",
    button("delete", remove, { "data-action": "delete", class: "small danger",
      ...(run.training ? { disabled: "", title: "being trained: cancel its training first" } : {}) }));
}

export async function loadRuns() {
  state.runs = await api("/api/runs");
  renderRuns();
}

export function renderRuns() {
  const header = el("tr", {}, el("th", {}, ""));
  for (const [key, text, numeric] of COLUMNS) {
    const arrow = state.sort.key === key ? (state.sort.descending ? " ▼" : " ▲") : "";
    header.append(el("th", { class: `sortable${numeric ? " num" : ""}`, "data-key": key,
      onclick: () => { state.sort = { key, descending: state.sort.key === key ? !state.sort.descending : true };
                       renderRuns(); } }, text + arrow));
  }
  const rows = sortedRuns().map((run) => {
    const box = el("input", { type: "checkbox", "aria-label": `compare ${run.name}` });
    box.checked = state.ticked.has(run.name);
    box.disabled = run.status !== "finished";
    box.addEventListener("change", () => {
      box.checked ? state.ticked.add(run.name) : state.ticked.delete(run.name);
      $("#compare-button").disabled = state.ticked.size !== 2;
    });
    const row = el("tr", { class: run.name === state.run ? "current" : "", "data-run": run.name }, el("td", {}, box));
    for (const [key, , numeric] of COLUMNS)
      row.append(el("td", { class: numeric ? "num" : key }, ...[cell(run, key)].flat()));
    return row;
  });
  $("#runs-table").replaceChildren(el("thead", {}, header), el("tbody", {}, ...rows));
  for (const name of state.ticked) if (!state.runs.some((run) => run.name === name)) state.ticked.delete(name);
  $("#compare-button").disabled = state.ticked.size !== 2;
}

function shown(key, value) {
  if (value == null) return "";
  if (typeof value === "number" && key.includes("accuracy")) return pct(value);
  if (typeof value === "number" && !Number.isInteger(value)) return Number(value.toPrecision(4));
  return JSON.stringify(value).replace(/^"|"$/g, "");
}

export async function compareRuns() {
  const query = [...state.ticked].map((name) => `run=${encodeURIComponent(name)}`).join("&");
  const result = await api(`/api/compare?${query}`);
  const keys = Object.keys(result.rows[0]).filter((key) => key !== "run");
  $("#compare-table").replaceChildren(el("table", { class: "table" },
    el("thead", {}, el("tr", {}, el("th", {}, ""), ...result.runs.map((name) => el("th", {}, name)))),
    el("tbody", {}, ...keys.map((key) => el("tr", {}, el("th", {}, key),
      ...result.rows.map((row) => el("td", {}, shown(key, row[key]))))))));
  const colors = ["#1f77b4", "#d62728"];
  lineChart($("#compare-chart"), result.runs.map((name, index) => ({
    name: `${name.slice(-28)} val acc`, color: colors[index],
    values: result.histories[name].val_accuracy || result.histories[name].accuracy || [] })),
    "validation accuracy by epoch", { format: "percent" });
  $("#compare").hidden = false;
}
