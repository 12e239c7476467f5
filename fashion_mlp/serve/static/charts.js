// Line charts in SVG: one per quantity (loss, accuracy), train and validation as two series,
// on an axis whose ticks are round numbers.

const NS = "http://www.w3.org/2000/svg";
const STEPS = [1, 2, 2.5, 5, 10];  // tick steps times a power of ten

// About `count` round ticks spanning [low, high], and how many decimals their labels need. A
// single value gets a span of 5 % of its size each way (an accuracy of 90 % spans 85.5-94.5 %),
// kept within [floor, ceiling] (an accuracy of 100 % spans 95-100 %).
export function niceTicks(low, high, count = 4, { floor = -Infinity, ceiling = Infinity } = {}) {
  if (high - low < 1e-9) {
    const pad = Math.max(0.05 * Math.abs(low), 0.01);
    low = Math.max(low - pad, floor); high = Math.min(high + pad, ceiling);
  }
  const raw = (high - low) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = STEPS.map((factor) => factor * power).find((candidate) => candidate >= raw * 0.999);
  const first = Math.floor(low / step + 1e-9) * step;
  const ticks = [];
  for (let k = 0; first + (k - 1) * step < high - 1e-9; k++) ticks.push(Number((first + k * step).toPrecision(12)));
  let decimals = 0;  // as many as the step needs: 0.025 -> 3
  while (decimals < 12 && Math.abs(step * 10 ** decimals - Math.round(step * 10 ** decimals)) > 1e-6) decimals++;
  return { ticks, decimals };
}

const plain = (value, decimals) => value.toFixed(decimals);
const percent = (value, decimals) => `${(100 * value).toFixed(Math.max(0, decimals - 2))} %`;
export const FORMATS = { plain, percent };

export function lineChart(svg, series, title, { epochs = 0, format = "plain" } = {}) {
  const width = 480, height = 240, left = 52, right = 12, bottom = 30, top = 24 + 14 * series.length;
  const values = series.flatMap((line) => line.values.filter((v) => v != null));
  const count = Math.max(2, epochs, ...series.map((line) => line.values.length));
  svg.replaceChildren();
  const add = (tag, attributes, text) => {
    const node = document.createElementNS(NS, tag);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    if (text != null) node.textContent = text;
    svg.append(node);
    return node;
  };
  add("text", { x: left, y: 14, class: "title" }, title);
  if (!values.length) { add("text", { x: left, y: height / 2 }, "no epochs yet"); return; }
  const bounds = format === "percent" ? { floor: 0, ceiling: 1 } : {};
  const { ticks, decimals } = niceTicks(Math.min(...values), Math.max(...values), 4, bounds);
  const low = ticks[0], high = ticks[ticks.length - 1];
  const x = (i) => left + (i / (count - 1)) * (width - left - right);
  const y = (v) => top + (1 - (v - low) / (high - low)) * (height - top - bottom);
  for (const value of ticks) {
    add("line", { x1: left, x2: width - right, y1: y(value), y2: y(value), class: "grid" });
    add("text", { x: left - 6, y: y(value) + 4, "text-anchor": "end", class: "tick" }, FORMATS[format](value, decimals));
  }
  add("line", { x1: left, x2: width - right, y1: height - bottom, y2: height - bottom, class: "axis" });
  const every = Math.ceil(count / 10);
  for (let i = 0; i < count; i += every)
    add("text", { x: x(i), y: height - bottom + 16, "text-anchor": "middle" }, i + 1);
  add("text", { x: width - right, y: height - 2, "text-anchor": "end" }, "epoch");
  series.forEach((line, index) => {
    const points = line.values.map((v, i) => (v == null ? null : `${x(i)},${y(v)}`)).filter(Boolean);
    add("polyline", { points: points.join(" "), fill: "none", stroke: line.color, "stroke-width": 2,
                      "stroke-dasharray": line.dashed ? "5 4" : "none" });
    line.values.forEach((v, i) => v != null && add("circle", { cx: x(i), cy: y(v), r: 2.5, fill: line.color }));
    add("text", { x: width - right, y: 14 + 14 * index, "text-anchor": "end", style: `fill:${line.color}` },
        `── ${line.name}`);
  });
}

// A reliability diagram: per confidence bin, the accuracy of the model's own probabilities and
// of the calibrated ones (a calibrated model's bars reach the diagonal).
export function reliabilityChart(svg, raw, calibrated) {
  const width = 480, height = 270, left = 44, right = 12, top = 40, bottom = 34;
  const x = (v) => left + v * (width - left - right), y = (v) => top + (1 - v) * (height - top - bottom);
  const add = (tag, attributes, text) => {
    const node = document.createElementNS(NS, tag);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    if (text != null) node.textContent = text;
    svg.append(node);
  };
  svg.replaceChildren();
  for (const value of [0, 0.25, 0.5, 0.75, 1]) {
    add("line", { x1: left, x2: width - right, y1: y(value), y2: y(value), class: "grid" });
    add("text", { x: left - 6, y: y(value) + 4, "text-anchor": "end" }, value);
    add("text", { x: x(value), y: height - bottom + 16, "text-anchor": "middle" }, value);
  }
  const bins = raw.counts.length, step = 1 / bins;
  [[raw, "#fc8d62", "own"], [calibrated, "#3b5bdb", "calibrated"]].forEach(([found, color, name], series) => {
    found.counts.forEach((count, bin) => count && add("rect", {
      x: x(bin * step) + 1 + series * (x(step) - left - 2) / 2, width: (x(step) - left - 2) / 2,
      y: y(found.accuracy[bin]), height: y(0) - y(found.accuracy[bin]), fill: color }));
    add("text", { x: width - right, y: 14 + 14 * series, "text-anchor": "end", style: `fill:${color}` },
        `■ ${name} probabilities`);
  });
  add("line", { x1: x(0), y1: y(0), x2: x(1), y2: y(1), stroke: "#888", "stroke-dasharray": "5 4" });
  add("text", { x: left, y: 14, class: "title" }, "accuracy by confidence");
  add("text", { x: width - right, y: height - 2, "text-anchor": "end" }, "confidence");
}
