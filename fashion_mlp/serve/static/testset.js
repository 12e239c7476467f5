// The Test set view: the confusion matrix (click a cell for its images), per-class scores, and
// a paged gallery of test images; a tile opens the image large with its probabilities.

import { reliabilityChart } from "./charts.js";
import { $, api, bars, el, pct, runUrl, state } from "./dom.js";

const PAGE = 48;  // tiles a page
const gallery = { query: "", title: "", offset: 0, asked: 0 };  // asked: the latest request

export async function loadTestSet() {
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
  loadCalibration(run);
  showGallery("mistakes=true", "Most confident mistakes");
}

// The reliability diagram of the run's test set, and what calibration changed.
async function loadCalibration(run) {
  const record = await api(runUrl("/calibration")).catch((error) => ({ how: error.message }));
  if (run !== state.run) return;
  const bins = record.reliability_test;
  $("#reliability").hidden = !bins;
  if (!bins) { $("#calibration-summary").textContent = `Not calibrated: ${record.how || "no calibration.json"}`; return; }
  reliabilityChart($("#reliability"), bins.raw, bins.calibrated);
  const test = record.scores.test;
  $("#calibration-summary").textContent = `Temperature ${record.temperature.toFixed(3)} fitted on ` +
    `${record.fitted_on.images.toLocaleString()} ${record.fitted_on.split} images: test ECE ` +
    `${pct(test.raw.ece)} → ${pct(test.calibrated.ece)}, NLL ${test.raw.nll.toFixed(3)} → ${test.calibrated.nll.toFixed(3)}.`;
}

function cellStyle(count, share, diagonal) {
  const color = diagonal ? `rgba(59,91,219,${0.12 + 0.88 * share})` : `rgba(252,141,98,${Math.min(1, 3 * share)})`;
  return `background:${count ? color : "#f8f9fa"};color:${share > 0.5 ? "#fff" : "inherit"}`;
}

function renderConfusion(summary) {
  const names = summary.class_names;
  const table = el("table", { class: "confusion" });
  table.append(el("tr", {}, el("th", {}, ""), ...names.map((name) => el("th", { class: "col" }, name))));
  summary.confusion_matrix.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    const tr = el("tr", {}, el("th", { class: "row" }, names[i]));
    row.forEach((count, j) => {
      const cell = el("td", { style: cellStyle(count, count / total, i === j), "data-true": i, "data-predicted": j,
                              title: `true ${names[i]}, predicted ${names[j]}: ${count}` }, count || "");
      cell.addEventListener("click", async () => {
        for (const other of table.querySelectorAll("td.selected")) other.classList.remove("selected");
        cell.classList.add("selected");
        await showGallery(`true=${i}&predicted=${j}`, `True ${names[i]}, predicted ${names[j]}`);
        bringIntoView($("#gallery-card"));
      });
      tr.append(cell);
    });
    table.append(tr);
  });
  $("#confusion").replaceChildren(table);
}

// Scroll to `card` when its top is not on screen (on a phone the gallery is far below).
function bringIntoView(card) {
  const top = card.getBoundingClientRect().top;
  if (top < 0 || top > window.innerHeight * 0.5) card.scrollIntoView({ behavior: "smooth", block: "start" });
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

async function showGallery(query, title, offset = 0) {
  const asked = ++gallery.asked;
  Object.assign(gallery, { query, title, offset });
  const result = await api(runUrl(`/test/images?${query}&sort=confidence&offset=${offset}&limit=${PAGE}`));
  if (asked !== gallery.asked) return;  // a later click's images are on their way
  const names = result.class_names;
  $("#gallery-title").textContent = `${title}: ${result.total} image${result.total === 1 ? "" : "s"}`;
  $("#gallery").replaceChildren(...result.items.map((item) => el("button", {
    class: "tile", type: "button", onclick: () => openImage(item.index, names),
    "aria-label": `open test image ${item.index}` },
    el("img", { class: "pixels", alt: `test image ${item.index}`, src: runUrl(`/test/images/${item.index}/png`) }),
    el("div", { class: item.label === item.predicted ? "right" : "wrong" }, `${names[item.predicted]} ${pct(item.confidence)}`),
    el("div", { class: "muted" }, `#${item.index}, is ${names[item.label]}`))));
  if (!result.items.length) $("#gallery").replaceChildren(el("p", { class: "muted" }, "No images here."));
  renderPager(result.total, offset);
}

function renderPager(total, offset) {
  const last = Math.min(total, offset + PAGE);
  $("#gallery-pager").hidden = total <= PAGE;
  $("#gallery-range").textContent = `${offset + 1}–${last} of ${total}`;
  $("#gallery-previous").disabled = offset === 0;
  $("#gallery-next").disabled = last >= total;
}

export async function openImage(index, names) {
  const image = await api(runUrl(`/test/images/${index}`));
  $("#image-title").textContent = `Test image #${index}: is ${names[image.label]}, ` +
    `predicted ${names[image.predicted]} ${pct(image.confidence)}`;
  $("#image-large").src = runUrl(`/test/images/${index}/png`);
  bars($("#image-bars"), names, image.probabilities);
  $("#image-dialog").showModal();
}

export function setupGallery() {
  const page = (step) => showGallery(gallery.query, gallery.title, Math.max(0, gallery.offset + step * PAGE));
  $("#gallery-previous").addEventListener("click", () => page(-1));
  $("#gallery-next").addEventListener("click", () => page(1));
  $("#image-close").addEventListener("click", () => $("#image-dialog").close());
  $("#image-dialog").addEventListener("click", (event) => {
    if (event.target === event.currentTarget) event.currentTarget.close();  // a click beside it
  });
}
