/**
 * Pure helpers of the nbtrack panels: query strings, sort toggling, column
 * choice, formatting and chart geometry. Nothing here touches the DOM or
 * JupyterLab, so jest tests it in plain node.
 */

/** A run as `GET /nbtrack/api/runs` returns it (see nbtrack/server/openapi.yaml). */
export interface IRun {
  info: {
    run_id: string;
    run_name: string;
    experiment_id: string;
    status: string;
    start_time: number;
    end_time: number | null;
    lifecycle_stage: string;
    user_id: string;
    artifact_uri: string;
  };
  params: Record<string, string>;
  /** Latest value per key; NaN and infinities arrive as strings. */
  metrics: Record<string, number | string>;
  tags: Record<string, string>;
}

/** One sort: a search-grammar key and its direction. */
export interface ISort {
  key: string;
  ascending: boolean;
}

/** What the runs table asks the server for. */
export interface IRunsQuery {
  experimentId: string;
  filter: string;
  sort: ISort | null;
  maxResults: number;
  pageToken?: string | null;
}

/** The fixed columns, each with the search-grammar key it sorts by (null: not sortable). */
export const FIXED_COLUMNS: ReadonlyArray<{
  id: string;
  label: string;
  orderKey: string | null;
}> = [
  { id: 'status', label: 'Status', orderKey: 'attributes.status' },
  { id: 'name', label: 'Name', orderKey: 'attributes.run_name' },
  { id: 'start', label: 'Start', orderKey: 'attributes.start_time' },
  { id: 'duration', label: 'Duration', orderKey: null }
];

/** The default order: newest first, as MLflow's UI shows runs. */
export const DEFAULT_SORT: ISort = {
  key: 'attributes.start_time',
  ascending: false
};

/** Backquote a param/metric key when the grammar needs it (`metrics.\`f1 score\``). */
export function quoteKey(
  kind: 'params' | 'metrics' | 'tags',
  key: string
): string {
  return /^[A-Za-z_][A-Za-z0-9_.]*$/.test(key)
    ? `${kind}.${key}`
    : `${kind}.\`${key}\``;
}

/** The `order_by` value of a sort, as the server's `order_by` parameter takes it. */
export function orderByValue(sort: ISort): string {
  return `${sort.key} ${sort.ascending ? 'ASC' : 'DESC'}`;
}

/** The query string (without `?`) of `GET runs` for a query. */
export function runsQueryString(query: IRunsQuery): string {
  const params = new URLSearchParams();
  params.set('experiment_id', query.experimentId);
  if (query.filter.trim()) {
    params.set('filter', query.filter.trim());
  }
  if (query.sort) {
    params.append('order_by', orderByValue(query.sort));
  }
  params.set('max_results', String(query.maxResults));
  if (query.pageToken) {
    params.set('page_token', query.pageToken);
  }
  return params.toString();
}

/** A header click: the same key flips direction, a new key starts ascending. */
export function nextSort(current: ISort | null, key: string): ISort {
  if (current && current.key === key) {
    return { key, ascending: !current.ascending };
  }
  return { key, ascending: true };
}

/** The `aria-sort` value of a column under the current sort. */
export function ariaSort(current: ISort | null, key: string | null): string {
  if (!current || !key || current.key !== key) {
    return 'none';
  }
  return current.ascending ? 'ascending' : 'descending';
}

/**
 * The param and metric columns: the configured ones (`params.x`, `metrics.y`)
 * if any, else the first few keys the runs have, metrics first.
 */
export function chooseColumns(
  runs: IRun[],
  configured: string[],
  perKind = 3
): string[] {
  const wanted = configured.filter(c => /^(params|metrics)\..+/.test(c));
  if (wanted.length) {
    return wanted;
  }
  const keys = (kind: 'params' | 'metrics'): string[] => {
    const seen = new Set<string>();
    for (const run of runs) {
      Object.keys(run[kind]).forEach(k => seen.add(k));
    }
    return [...seen]
      .sort()
      .slice(0, perKind)
      .map(k => `${kind}.${k}`);
  };
  return [...keys('metrics'), ...keys('params')];
}

/** A column id (`metrics.rmse`) split into its kind and key. */
export function splitColumn(column: string): {
  kind: 'params' | 'metrics';
  key: string;
} {
  const dot = column.indexOf('.');
  return {
    kind: column.slice(0, dot) === 'metrics' ? 'metrics' : 'params',
    key: column.slice(dot + 1)
  };
}

/** The cell text of a param/metric column for a run ('' when the run lacks it). */
export function columnValue(run: IRun, column: string): string {
  const { kind, key } = splitColumn(column);
  const value = run[kind][key];
  if (value === undefined) {
    return '';
  }
  return kind === 'metrics' ? formatNumber(value) : String(value);
}

/** A metric value with at most 4 significant decimals; NaN/inf strings unchanged. */
export function formatNumber(value: number | string): string {
  if (typeof value === 'string') {
    return value;
  }
  if (Number.isInteger(value)) {
    return String(value);
  }
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) {
    return value.toExponential(3);
  }
  return String(Number(value.toPrecision(4)));
}

/** A duration in ms as `850 ms`, `12.3 s`, `4m 05s` or `2h 03m`. */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) {
    return '';
  }
  if (ms < 1000) {
    return `${Math.round(ms)} ms`;
  }
  const s = ms / 1000;
  if (s < 60) {
    return `${s.toFixed(1)} s`;
  }
  const total = Math.round(s);
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (total < 3600) {
    return `${Math.floor(total / 60)}m ${pad(total % 60)}s`;
  }
  return `${Math.floor(total / 3600)}h ${pad(Math.floor((total % 3600) / 60))}m`;
}

/** A run's duration: end - start, or now - start while it runs. */
export function runDuration(
  run: IRun,
  now: number = Date.now()
): number | null {
  const { start_time: start, end_time: end, status } = run.info;
  if (!start) {
    return null;
  }
  if (end) {
    return end - start;
  }
  return status === 'RUNNING' ? now - start : null;
}

/** A timestamp (ms) as local `YYYY-MM-DD HH:MM:SS`. */
export function formatTime(ms: number | null): string {
  if (!ms) {
    return '';
  }
  const d = new Date(ms);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

/** A compact start time for narrow tables: `HH:MM:SS` today, else `MM-DD HH:MM`. */
export function formatShortTime(
  ms: number | null,
  now: number = Date.now()
): string {
  if (!ms) {
    return '';
  }
  const full = formatTime(ms);
  return full.slice(0, 10) === formatTime(now).slice(0, 10)
    ? full.slice(11)
    : full.slice(5, 16);
}

/** Whether any run is still running (the table then refreshes itself). */
export function anyRunning(runs: IRun[]): boolean {
  return runs.some(r => r.info.status === 'RUNNING');
}

/** Whether a notebook's cells already load nbtrack's magics. */
export function loadsNbtrack(sources: string[]): boolean {
  return sources.some(src =>
    src
      .split('\n')
      .some(line => /^\s*%(load_ext|reload_ext)\s+nbtrack\b/.test(line))
  );
}

/** The geometry of a line chart: an SVG path and the axes' extremes. */
export interface IChartGeometry {
  path: string;
  xMin: number;
  xMax: number;
  yMin: number;
  yMax: number;
  /** How many points were plotted (non-finite values are skipped). */
  plotted: number;
}

/** `[step, timestamp, value]` as the metric history API returns it. */
export type MetricPoint = [number, number, number | string];

/** The bounds of a chart: the extremes of every finite point of every series. */
export interface IExtent {
  xMin: number;
  xMax: number;
  yMin: number;
  yMax: number;
}

function finitePoints(points: MetricPoint[]): Array<[number, number]> {
  return points
    .map(([step, , value]): [number, number] => [
      step,
      typeof value === 'number' ? value : NaN
    ])
    .filter(([, v]) => Number.isFinite(v));
}

/** The common extent of several series (null when none has a finite point). */
export function seriesExtent(series: MetricPoint[][]): IExtent | null {
  const all = series.flatMap(finitePoints);
  if (!all.length) {
    return null;
  }
  const xs = all.map(p => p[0]);
  const ys = all.map(p => p[1]);
  return {
    xMin: Math.min(...xs),
    xMax: Math.max(...xs),
    yMin: Math.min(...ys),
    yMax: Math.max(...ys)
  };
}

/**
 * The SVG path of `[step, timestamp, value]` points in a `width` × `height`
 * box with `pad` pixels of margin; y grows upwards. `extent` shares the
 * scales of several series (default: this series' own extremes).
 */
export function linePath(
  points: MetricPoint[],
  width: number,
  height: number,
  pad = 4,
  extent: IExtent | null = null
): IChartGeometry {
  const finite = finitePoints(points);
  const bounds = extent ?? seriesExtent([points]);
  if (!finite.length || !bounds) {
    return { path: '', xMin: 0, xMax: 0, yMin: 0, yMax: 0, plotted: 0 };
  }
  const { xMin, xMax, yMin, yMax } = bounds;
  const sx = (x: number): number =>
    pad +
    (xMax === xMin
      ? (width - 2 * pad) / 2
      : ((x - xMin) / (xMax - xMin)) * (width - 2 * pad));
  const sy = (y: number): number =>
    height -
    pad -
    (yMax === yMin
      ? (height - 2 * pad) / 2
      : ((y - yMin) / (yMax - yMin)) * (height - 2 * pad));
  const path = finite
    .map(
      ([x, y], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`
    )
    .join(' ');
  return { path, xMin, xMax, yMin, yMax, plotted: finite.length };
}

/**
 * The `notebook-filter` endpoint for a notebook (`path` relative to the served
 * folder): the server builds the filter, since it knows the folder's absolute
 * path the kernel may have tagged, and quotes it with the one helper the CLI
 * and the API use.
 */
export function notebookFilterEndpoint(path: string): string {
  return `notebook-filter?path=${encodeURIComponent(path)}`;
}

/** The URL path (under the server's base URL) of an artifact's bytes. */
export function artifactPath(runId: string, path: string): string {
  return `nbtrack/api/runs/${runId}/artifact?path=${encodeURIComponent(path)}`;
}

/** Image artifacts by extension: sent to the viewer as base64, as notebooks send images. */
const IMAGE_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  bmp: 'image/bmp',
  svg: 'image/svg+xml'
};

/** Text artifacts by extension, with the MIME type whose JupyterLab renderer shows them. */
const TEXT_TYPES: Record<string, string> = {
  json: 'application/json',
  md: 'text/markdown',
  txt: 'text/plain',
  log: 'text/plain',
  yaml: 'text/plain',
  yml: 'text/plain',
  csv: 'text/plain',
  tsv: 'text/plain',
  py: 'text/plain',
  toml: 'text/plain',
  cfg: 'text/plain',
  ini: 'text/plain',
  // Shown as source: an artifact's HTML is not run inside JupyterLab's page.
  html: 'text/plain'
};

/**
 * The MIME type an artifact opens as in JupyterLab's viewers, by its name;
 * null for files that are only downloaded (pickles, parquet…).
 */
export function artifactMimeType(path: string): string | null {
  const name = path.split('/').pop() ?? path;
  if (name === 'MLmodel' || name === 'MLproject') {
    return 'text/plain';
  }
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
  return IMAGE_TYPES[ext] ?? TEXT_TYPES[ext] ?? null;
}

/** A run's lineage as an nbformat 4 notebook: one code cell per execution, in order. */
export function lineageNotebook(
  runName: string,
  executions: Array<{ source: string; execution_count: number | null }>
): Record<string, unknown> {
  // nbformat 4.5 wants a cell id: unique within the notebook is enough.
  const cell = (source: string, i: number): Record<string, unknown> => ({
    id: `lineage-${i}`,
    cell_type: 'code',
    execution_count: null,
    metadata: {},
    outputs: [],
    source
  });
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: {
        name: 'python3',
        display_name: 'Python 3',
        language: 'python'
      },
      nbtrack: { lineage_of: runName }
    },
    cells: executions.map((e, i) => cell(e.source, i))
  };
}

/** `models:/name/version`, `models:/name/3` or `name/3` → name and version; null otherwise. */
export function parseModelVersion(
  text: string
): { name: string; version: number } | null {
  const match = /^(?:models:\/)?(.+)\/(\d+)$/.exec(text.trim());
  return match ? { name: match[1], version: Number(match[2]) } : null;
}
