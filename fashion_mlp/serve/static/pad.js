// A drawing pad shared by the Predict and Inside views: white strokes on black, a dot where the
// pointer goes down and a line as it moves; `onInk` runs after every stroke segment.

export function setupPad(canvas, brush, onInk) {
  const context = canvas.getContext("2d");
  let active = false, last = null;
  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * canvas.width / box.width,
            (event.clientY - box.top) * canvas.height / box.height];
  };
  const ink = (to) => {
    context.fillStyle = context.strokeStyle = "#fff";
    context.lineCap = context.lineJoin = "round";
    context.lineWidth = Number(brush.value);
    context.beginPath();
    if (to) { context.moveTo(...last); context.lineTo(...to); context.stroke(); last = to; }
    else { context.arc(...last, context.lineWidth / 2, 0, 2 * Math.PI); context.fill(); }
    onInk();
  };
  canvas.addEventListener("pointerdown", (event) => {
    canvas.setPointerCapture(event.pointerId);
    active = true;
    last = point(event);
    ink(null);
  });
  canvas.addEventListener("pointermove", (event) => { if (active) ink(point(event)); });
  const end = () => { active = false; };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  return () => {  // clears the pad
    context.fillStyle = "#000";
    context.fillRect(0, 0, canvas.width, canvas.height);
  };
}

// The pad's drawing as the model's input: 28x28 grey levels (0-255), rows of columns.
export function padPixels(canvas) {
  const small = document.createElement("canvas");
  small.width = small.height = 28;
  const context = small.getContext("2d");
  context.imageSmoothingQuality = "high";
  context.drawImage(canvas, 0, 0, 28, 28);
  const data = context.getImageData(0, 0, 28, 28).data;
  return Array.from({ length: 28 }, (_, row) =>
    Array.from({ length: 28 }, (_, column) => data[4 * (28 * row + column)]));
}
