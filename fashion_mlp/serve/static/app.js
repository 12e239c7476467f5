// fashion-mlp's web page: plain JavaScript modules, no build step, no CDN; talks to /api only.
// This module starts the page and switches its views; each view has its own module.

import { $, notice, selectRun } from "./dom.js";
import { redraw, setupCanvas, setupPhotos } from "./predict.js";
import { loadInside, setupInside } from "./inside.js";
import { setupMap } from "./map.js";
import { compareRuns, describeRun, loadRunChoices, loadRuns } from "./runs.js";
import { loadTestSet, setupGallery } from "./testset.js";
import { loadJobs, loadPresets, setupTraining } from "./train.js";

const VIEWS = ["predict", "inside", "test", "runs", "train"];

function show(view) {
  for (const button of document.querySelectorAll("#tabs button"))
    button.classList.toggle("active", button.dataset.view === view);
  for (const section of document.querySelectorAll(".view"))
    section.hidden = section.id !== `view-${view}`;
  history.replaceState(null, "", `#${view}`);
  if (view === "inside") loadInside();
  if (view === "test") loadTestSet();
  if (view === "runs") loadRuns().catch((error) => notice(error.message));
  if (view === "train") loadJobs().catch((error) => notice(error.message));
}

async function choose(run) {
  $("#run").value = run;
  describeRun(run);  // at once; the views follow once the run's class names are in
  await selectRun(run);
  if (!$("#view-test").hidden) loadTestSet();
  if (!$("#view-inside").hidden) loadInside();
  redraw();
}

async function start() {
  for (const button of document.querySelectorAll("#tabs button"))
    button.addEventListener("click", () => show(button.dataset.view));
  $("#run").addEventListener("change", (event) => choose(event.target.value));
  document.addEventListener("click", async (event) => {  // "use this model" links of trainings
    const link = event.target.closest("a.use-run");
    if (!link) return;
    event.preventDefault();
    await loadRunChoices();
    await choose(link.dataset.run);
    show("predict");
  });
  $("#compare-button").addEventListener("click", () => compareRuns().catch((error) => notice(error.message)));
  setupTraining(loadRunChoices);
  setupCanvas();
  setupInside();
  setupMap();
  setupPhotos(show);
  setupGallery();
  try {
    await Promise.all([loadRunChoices(), loadPresets()]);
  } catch (error) {
    notice(error.message);
  }
  const view = location.hash.slice(1);
  show(VIEWS.includes(view) ? view : "predict");
}

start();
