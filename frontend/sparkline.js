// A small inline SVG of recent round-trip times: one mark per check, newest on
// the right. A dot is an answer (higher is slower); a cross on the baseline is a
// failed check, and the line breaks there, so a flapping backend reads as gaps
// and a slow one as a climb, without relying on colour.

const NS = 'http://www.w3.org/2000/svg';
const WIDTH = 300;
const HEIGHT = 40;
const PAD = 4;
// The vertical scale never shrinks below this, so a few milliseconds of jitter
// on a fast backend stays a flat line instead of filling the chart.
const FLOOR_MS = 50;

function element(name, attributes) {
  const node = document.createElementNS(NS, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

export function median(values) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** A one-line summary of the samples, for the caption and the image's label. */
export function summarize(samples) {
  const times = samples.filter((s) => s.ms !== null).map((s) => s.ms);
  const failed = samples.length - times.length;
  if (samples.length === 0) return 'No checks yet.';
  const parts = [];
  if (times.length) {
    parts.push(`last ${Math.round(times.at(-1))} ms`, `median ${Math.round(median(times))} ms`,
      `max ${Math.round(Math.max(...times))} ms`);
  }
  parts.push(`${failed} of ${samples.length} failed`);
  return parts.join(', ');
}

/** Redraw `svg` for `samples` ({ms: number|null}), `capacity` slots wide. */
export function drawSparkline(svg, samples, capacity) {
  svg.replaceChildren();
  svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
  svg.dataset.samples = String(samples.length);

  const baseline = HEIGHT - PAD;
  svg.append(element('line', { class: 'spark-base', x1: PAD, y1: baseline, x2: WIDTH - PAD, y2: baseline }));

  const top = Math.max(FLOOR_MS, ...samples.filter((s) => s.ms !== null).map((s) => s.ms));
  const step = (WIDTH - 2 * PAD) / Math.max(capacity - 1, 1);
  const x = (i) => WIDTH - PAD - (samples.length - 1 - i) * step;
  const y = (ms) => baseline - (ms / top) * (HEIGHT - 2 * PAD);

  // The line, broken at each failure.
  let run = [];
  const flush = () => {
    if (run.length > 1) svg.append(element('polyline', { class: 'spark-line', points: run.join(' ') }));
    run = [];
  };
  samples.forEach((sample, i) => {
    if (sample.ms === null) flush();
    else run.push(`${x(i).toFixed(1)},${y(sample.ms).toFixed(1)}`);
  });
  flush();

  samples.forEach((sample, i) => {
    if (sample.ms === null) {
      const cx = x(i);
      const d = `M${cx - 3},${baseline - 3}L${cx + 3},${baseline + 3}M${cx - 3},${baseline + 3}L${cx + 3},${baseline - 3}`;
      svg.append(element('path', { class: 'spark-point spark-fail', d }));
    } else {
      svg.append(element('circle', { class: 'spark-point spark-ok', cx: x(i).toFixed(1), cy: y(sample.ms).toFixed(1), r: 2.5 }));
    }
  });

  const checks = samples.length === 1 ? 'check' : `${samples.length} checks`;
  svg.setAttribute('aria-label', `Round-trip times of the last ${checks}: ${summarize(samples)}`);
}
