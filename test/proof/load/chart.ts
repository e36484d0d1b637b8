// The memory-over-time chart of the load run, as an SVG line chart.
//
// Written by hand rather than with a charting library: the chart is a few polylines, axes and
// labels over at most a few hundred points, the project has no charting dependency, and the
// libraries that render SVG outside a browser (Vega, Chart.js with a canvas, D3 with a DOM)
// would bring a DOM or native canvas into the dev dependencies for this one picture.

/** One line of the chart: points as [minutes since start, MiB]. */
export interface Series {
  readonly label: string;
  readonly colour: string;
  readonly points: readonly (readonly [number, number])[];
}

const WIDTH = 800;
const HEIGHT = 420;
const MARGIN = { left: 64, right: 24, top: 48, bottom: 72 };

/** An SVG document: the series over time, with axes, ticks, a title and a legend. */
export function memoryChart(options: {
  readonly title: string;
  readonly series: readonly Series[];
  /** A dashed vertical line, e.g. where the last run was issued. */
  readonly marker?: { readonly x: number; readonly label: string };
}): string {
  const all = options.series.flatMap((series) => series.points);
  const maxX = Math.max(1, ...all.map(([x]) => x));
  const maxY = niceCeiling(Math.max(1, ...all.map(([, y]) => y)));
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const sx = (x: number): number => MARGIN.left + (x / maxX) * plotW;
  const sy = (y: number): number => MARGIN.top + plotH - (y / maxY) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${String(WIDTH)}" height="${String(HEIGHT)}" viewBox="0 0 ${String(WIDTH)} ${String(HEIGHT)}" font-family="sans-serif" font-size="12">`,
    `<rect width="${String(WIDTH)}" height="${String(HEIGHT)}" fill="white"/>`,
    `<text x="${String(WIDTH / 2)}" y="24" text-anchor="middle" font-size="15">${escape(options.title)}</text>`,
  ];
  for (let i = 0; i <= 5; i += 1) {
    const y = (maxY * i) / 5;
    parts.push(
      `<line x1="${fmt(sx(0))}" y1="${fmt(sy(y))}" x2="${fmt(sx(maxX))}" y2="${fmt(sy(y))}" stroke="#ddd"/>`,
      `<text x="${fmt(sx(0) - 8)}" y="${fmt(sy(y) + 4)}" text-anchor="end">${fmt(y)}</text>`,
    );
  }
  for (let minute = 0; minute <= Math.floor(maxX); minute += 1) {
    parts.push(
      `<line x1="${fmt(sx(minute))}" y1="${fmt(sy(0))}" x2="${fmt(sx(minute))}" y2="${fmt(sy(0) + 5)}" stroke="#333"/>`,
      `<text x="${fmt(sx(minute))}" y="${fmt(sy(0) + 20)}" text-anchor="middle">${String(minute)}</text>`,
    );
  }
  parts.push(
    `<line x1="${fmt(sx(0))}" y1="${fmt(sy(0))}" x2="${fmt(sx(maxX))}" y2="${fmt(sy(0))}" stroke="#333"/>`,
    `<line x1="${fmt(sx(0))}" y1="${fmt(sy(0))}" x2="${fmt(sx(0))}" y2="${fmt(sy(maxY))}" stroke="#333"/>`,
    `<text x="${fmt(sx(maxX / 2))}" y="${fmt(sy(0) + 40)}" text-anchor="middle">minutes since the first run was issued</text>`,
    `<text transform="translate(18 ${fmt(sy(maxY / 2))}) rotate(-90)" text-anchor="middle">MiB</text>`,
  );
  if (options.marker !== undefined) {
    const x = fmt(sx(options.marker.x));
    parts.push(
      `<line x1="${x}" y1="${fmt(sy(0))}" x2="${x}" y2="${fmt(sy(maxY))}" stroke="#888" stroke-dasharray="4 4"/>`,
      `<text x="${x}" y="${fmt(sy(maxY) - 6)}" text-anchor="middle" fill="#555">${escape(options.marker.label)}</text>`,
    );
  }
  for (const [index, series] of options.series.entries()) {
    const points = series.points.map(([x, y]) => `${fmt(sx(x))},${fmt(sy(y))}`).join(' ');
    const legendX = MARGIN.left + index * 220;
    parts.push(
      `<polyline fill="none" stroke="${series.colour}" stroke-width="2" points="${points}"/>`,
      `<line x1="${String(legendX)}" y1="${String(HEIGHT - 12)}" x2="${String(legendX + 24)}" y2="${String(HEIGHT - 12)}" stroke="${series.colour}" stroke-width="2"/>`,
      `<text x="${String(legendX + 30)}" y="${String(HEIGHT - 8)}">${escape(series.label)}</text>`,
    );
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** The next of 1, 2, 5 × 10ⁿ at or above `value`, so the axis ticks are round. */
function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 5, 10].find((m) => m * power >= value) ?? 10;
  return step * power;
}

function fmt(value: number): string {
  return String(Math.round(value * 10) / 10);
}

function escape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
