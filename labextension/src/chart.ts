/** Small SVG line charts of metric histories (thinned in the server). */
import { s } from './dom';
import {
  IExtent,
  MetricPoint,
  formatNumber,
  linePath,
  seriesExtent
} from './format';

const WIDTH = 320;
const HEIGHT = 120;
const LEFT = 52;
const BOTTOM = 18;

/** Series colours: theme variables, so both themes keep them readable. */
export const SERIES_COLORS = [
  'var(--jp-brand-color1)',
  'var(--jp-warn-color1)',
  'var(--jp-success-color1)',
  'var(--jp-error-color1)',
  'var(--jp-accent-color1)',
  'var(--jp-ui-font-color2)'
];

/** One series of a chart. */
export interface ISeries {
  name: string;
  points: MetricPoint[];
}

/** A chart of one or more series on shared scales, labelled with its extremes. */
export function lineChart(key: string, series: ISeries[]): SVGElement {
  const plotW = WIDTH - LEFT - 4;
  const plotH = HEIGHT - BOTTOM - 4;
  const extent: IExtent | null = seriesExtent(series.map(x => x.points));
  const svg = s('svg', {
    class: 'jp-nbtrack-chart',
    width: WIDTH,
    height: HEIGHT,
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: 'img',
    'aria-label': `${key} over steps`
  });
  const plot = s('g', { transform: `translate(${LEFT},4)` });
  plot.append(
    s('rect', {
      class: 'jp-nbtrack-chart-frame',
      x: 0,
      y: 0,
      width: plotW,
      height: plotH
    })
  );
  series.forEach((one, i) => {
    const geometry = linePath(one.points, plotW, plotH, 4, extent);
    const color = SERIES_COLORS[i % SERIES_COLORS.length];
    const line = s('path', {
      class: 'jp-nbtrack-chart-line',
      d: geometry.path,
      style: `stroke: ${color}`
    });
    const title = s('title');
    title.textContent = one.name;
    line.append(title);
    plot.append(line);
    if (geometry.plotted === 1) {
      const [x, y] = geometry.path.slice(1).split(',').map(Number);
      plot.append(
        s('circle', {
          class: 'jp-nbtrack-chart-dot',
          cx: x,
          cy: y,
          r: 3,
          style: `fill: ${color}`
        })
      );
    }
  });
  const text = (
    x: number,
    y: number,
    anchor: string,
    label: string
  ): SVGElement => {
    const t = s('text', {
      x,
      y,
      'text-anchor': anchor,
      class: 'jp-nbtrack-chart-label'
    });
    t.textContent = label;
    return t;
  };
  if (extent) {
    svg.append(
      text(LEFT - 4, 12, 'end', formatNumber(extent.yMax)),
      text(LEFT - 4, plotH + 4, 'end', formatNumber(extent.yMin)),
      text(LEFT, HEIGHT - 4, 'start', `step ${extent.xMin}`),
      text(WIDTH - 4, HEIGHT - 4, 'end', `${extent.xMax}`)
    );
  } else {
    svg.append(text(WIDTH / 2, HEIGHT / 2, 'middle', 'no finite values'));
  }
  svg.append(plot);
  return svg;
}
