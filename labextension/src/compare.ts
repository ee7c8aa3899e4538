/**
 * Several runs side by side in the main area: overview, params (those that
 * differ highlighted), latest metrics, and one chart per metric with a line per run.
 */
import { ServerConnection } from '@jupyterlab/services';
import { Widget } from '@lumino/widgets';

import { IMetricHistory, requestAPI } from './api';
import { ISeries, SERIES_COLORS, lineChart } from './chart';
import { errorAlert, h } from './dom';
import {
  IRun,
  formatDuration,
  formatNumber,
  formatTime,
  runDuration
} from './format';

/** `GET compare?run_ids=…`. */
interface ICompare {
  runs: IRun[];
  param_keys: string[];
  params_differ: string[];
  metric_keys: string[];
}

/** Charts drawn at most (one request per run and metric). */
const MAX_CHARTS = 8;
const MAX_POINTS = 300;

/** The comparison of a few runs. */
export class RunsCompare extends Widget {
  constructor(
    readonly runIds: string[],
    private readonly serverSettings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {
    super();
    this.id = `nbtrack-compare-${runIds.map(id => id.slice(0, 6)).join('-')}`;
    this.addClass('jp-nbtrack-RunDetail');
    this.title.label = `Compare ${runIds.length} runs`;
    this.title.closable = true;
    void this.load();
  }

  private async load(): Promise<void> {
    let body: ICompare;
    try {
      body = await requestAPI<ICompare>(
        `compare?run_ids=${this.runIds.join(',')}`,
        this.serverSettings
      );
    } catch (error) {
      this.node.replaceChildren(errorAlert(error));
      return;
    }
    const chartKeys = body.metric_keys.slice(0, MAX_CHARTS);
    const histories = await Promise.all(
      chartKeys.map(key =>
        Promise.all(
          body.runs.map(run =>
            requestAPI<IMetricHistory>(
              `runs/${run.info.run_id}/metrics/${encodeURIComponent(key)}?max_points=${MAX_POINTS}`,
              this.serverSettings
            ).catch(() => null)
          )
        )
      )
    );
    if (!this.isDisposed) {
      this.render(body, chartKeys, histories);
    }
  }

  private render(
    body: ICompare,
    chartKeys: string[],
    histories: Array<Array<IMetricHistory | null>>
  ): void {
    const runs = body.runs;
    const differ = new Set(body.params_differ);
    const row = (label: string, cells: string[], cls?: string): HTMLElement =>
      h(
        'tr',
        {},
        h('th', { scope: 'row' }, label),
        ...cells.map(text => h('td', { class: cls }, text))
      );
    const swatch = (i: number): HTMLElement =>
      h('span', {
        class: 'jp-nbtrack-swatch',
        style: `background: ${SERIES_COLORS[i % SERIES_COLORS.length]}`
      });
    const table = h(
      'table',
      { class: 'jp-nbtrack-kv', 'aria-label': 'Compared runs' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, 'Run'),
          ...runs.map((run, i) =>
            h('th', { scope: 'col' }, swatch(i), ` ${run.info.run_name}`)
          )
        )
      ),
      h(
        'tbody',
        {},
        row(
          'Status',
          runs.map(r => r.info.status)
        ),
        row(
          'Start',
          runs.map(r => formatTime(r.info.start_time))
        ),
        row(
          'Duration',
          runs.map(r => formatDuration(runDuration(r)))
        ),
        ...body.param_keys.map(key =>
          row(
            `params.${key}`,
            runs.map(r => r.params[key] ?? ''),
            differ.has(key) ? 'jp-nbtrack-diff' : undefined
          )
        ),
        ...body.metric_keys.map(key =>
          row(
            `metrics.${key}`,
            runs.map(r =>
              key in r.metrics ? formatNumber(r.metrics[key]) : ''
            )
          )
        )
      )
    );
    const charts = chartKeys.map((key, k) => {
      const series: ISeries[] = [];
      histories[k].forEach((history, i) => {
        series.push({
          name: runs[i].info.run_name,
          points: history?.points ?? []
        });
      });
      return h(
        'figure',
        { class: 'jp-nbtrack-metric' },
        h('figcaption', {}, h('strong', {}, key)),
        lineChart(key, series)
      );
    });
    this.node.replaceChildren(
      h('h2', {}, `Compare ${runs.length} runs`),
      h(
        'p',
        { class: 'jp-nbtrack-empty' },
        `Params that differ are highlighted (${differ.size}).`
      ),
      h('div', { class: 'jp-nbtrack-wide' }, table),
      h('h3', {}, 'Metrics'),
      charts.length
        ? h('div', { class: 'jp-nbtrack-metrics' }, ...charts)
        : h('p', { class: 'jp-nbtrack-empty' }, 'No metrics.')
    );
  }
}
