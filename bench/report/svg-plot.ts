/**
 * A latency-by-percentile chart as a standalone SVG, in the style of
 * HdrHistogram's plotter: the x axis is log-scaled in 1/(1-p) so 90%, 99%,
 * 99.9%... sit one step apart and the tail gets as much room as the median.
 * Pure: series in, SVG text out.
 */
import { NS_PER_MS } from "../lib/clock.ts";
import type { Histogram } from "../lib/latency-histogram.ts";

export interface PlotSeries {
  label: string;
  histogram: Histogram;
}

const WIDTH = 800;
const HEIGHT = 480;
const MARGIN = { left: 70, right: 20, top: 40, bottom: 60 };
const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"];

/** x position, in decades of 1/(1-p): 0 = 0%, 1 = 90%, 2 = 99%, ... */
function decadesOf(percentile: number): number {
  return Math.log10(1 / (1 - percentile / 100));
}

/** Points (decades, ms) from p0 up to the last percentile the sample count resolves. */
export function percentileCurve(histogram: Histogram, maxDecades: number): [number, number][] {
  const points: [number, number][] = [];
  for (let x = 0; x <= maxDecades + 1e-9; x += 0.05) {
    const percentile = 100 * (1 - 10 ** -x);
    points.push([x, histogram.getValueAtPercentile(percentile) / NS_PER_MS]);
  }
  return points;
}

/** A round step giving about `count` ticks over [0, max]. */
function niceStep(max: number, count: number): number {
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const normalized = raw / magnitude;
  const nice = normalized <= 1 ? 1 : normalized <= 2 ? 2 : normalized <= 5 ? 5 : 10;
  return nice * magnitude;
}

function escapeXml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

export function renderPercentilePlot(title: string, series: PlotSeries[]): string {
  const populated = series.filter((s) => s.histogram.totalCount > 0);
  const samples = Math.max(10, ...populated.map((s) => s.histogram.totalCount));
  // Beyond 1/count the percentiles only repeat the max.
  const maxDecades = Math.min(6, Math.max(1, Math.floor(Math.log10(samples))));
  const curves = populated.map((s) => percentileCurve(s.histogram, maxDecades));
  const maxMs = Math.max(0.001, ...populated.map((s) => s.histogram.maxValue / NS_PER_MS));
  const yStep = niceStep(maxMs, 6);
  const yMax = Math.ceil(maxMs / yStep) * yStep;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const px = (decades: number) => MARGIN.left + (decades / maxDecades) * plotW;
  const py = (valueMs: number) => MARGIN.top + plotH - (valueMs / yMax) * plotH;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
  ];
  for (let v = 0; v <= yMax + yStep / 2; v += yStep) {
    const y = py(v).toFixed(1);
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y}" y2="${y}" stroke="#ddd"/>`,
      `<text x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${Number(v.toPrecision(6))}</text>`,
    );
  }
  for (let d = 0; d <= maxDecades; d++) {
    const x = px(d).toFixed(1);
    const label = d === 0 ? "0%" : `${(100 * (1 - 10 ** -d)).toFixed(Math.max(0, d - 2))}%`;
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#ddd"/>`,
      `<text x="${x}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${label}</text>`,
    );
  }
  parts.push(
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 16}" text-anchor="middle">percentile</text>`,
    `<text transform="translate(18 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">latency (ms)</text>`,
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
  );
  curves.forEach((points, i) => {
    const color = COLORS[i % COLORS.length];
    const path = points.map(([d, v]) => `${px(d).toFixed(1)},${py(v).toFixed(1)}`).join(" ");
    const legendY = MARGIN.top + 16 + i * 16;
    parts.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2" points="${path}"/>`,
      `<line x1="${MARGIN.left + 10}" x2="${MARGIN.left + 30}" y1="${legendY}" y2="${legendY}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${MARGIN.left + 36}" y="${legendY}" dominant-baseline="middle">${escapeXml(populated[i]?.label ?? "")}</text>`,
    );
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

export { decadesOf };
