/** A small SVG line chart of one metric's (server-thinned) history. */
import { s } from './dom';
import { formatNumber, linePath } from './format';

const WIDTH = 320;
const HEIGHT = 120;
const LEFT = 52;
const BOTTOM = 18;

/** The chart of `points` (`[step, timestamp, value]`), labelled with its extremes. */
export function lineChart(
  key: string,
  points: Array<[number, number, number | string]>
): SVGElement {
  const plotW = WIDTH - LEFT - 4;
  const plotH = HEIGHT - BOTTOM - 4;
  const geometry = linePath(points, plotW, plotH);
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
    s('rect', { class: 'jp-nbtrack-chart-frame', x: 0, y: 0, width: plotW, height: plotH }),
    s('path', { class: 'jp-nbtrack-chart-line', d: geometry.path })
  );
  if (geometry.plotted === 1) {
    const [x, y] = geometry.path.slice(1).split(',').map(Number);
    plot.append(s('circle', { class: 'jp-nbtrack-chart-dot', cx: x, cy: y, r: 3 }));
  }
  const text = (x: number, y: number, anchor: string, label: string): SVGElement => {
    const t = s('text', { x, y, 'text-anchor': anchor, class: 'jp-nbtrack-chart-label' });
    t.textContent = label;
    return t;
  };
  if (geometry.plotted) {
    svg.append(
      text(LEFT - 4, 12, 'end', formatNumber(geometry.yMax)),
      text(LEFT - 4, plotH + 4, 'end', formatNumber(geometry.yMin)),
      text(LEFT, HEIGHT - 4, 'start', `step ${geometry.xMin}`),
      text(WIDTH - 4, HEIGHT - 4, 'end', `${geometry.xMax}`)
    );
  } else {
    svg.append(text(WIDTH / 2, HEIGHT / 2, 'middle', 'no finite values'));
  }
  svg.append(plot);
  return svg;
}
