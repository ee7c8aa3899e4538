/**
 * A run's detail in the main area: overview, params, metrics with a chart per
 * metric, tags, artifacts (images and text open in a JupyterLab viewer tab,
 * every file has a download link) and the lineage code.
 */
import { ServerConnection } from '@jupyterlab/services';
import { Widget } from '@lumino/widgets';

import {
  IArtifactList,
  ILineage,
  IMetricHistory,
  artifactUrl,
  requestAPI
} from './api';
import { lineChart } from './chart';
import { errorAlert, h } from './dom';
import {
  IRun,
  artifactMimeType,
  formatDuration,
  formatNumber,
  formatTime,
  runDuration
} from './format';

/** Chart points per metric: enough for a 320 px wide line. */
const MAX_POINTS = 500;

function keyValueTable(
  label: string,
  entries: Array<[string, string]>
): HTMLElement {
  if (!entries.length) {
    return h('p', { class: 'jp-nbtrack-empty' }, `No ${label.toLowerCase()}.`);
  }
  return h(
    'table',
    { class: 'jp-nbtrack-kv', 'aria-label': label },
    h(
      'tbody',
      {},
      ...entries.map(([k, v]) =>
        h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, v))
      )
    )
  );
}

function formatSize(bytes: number | null): string {
  if (bytes === null) {
    return '';
  }
  const units = ['B', 'KB', 'MB', 'GB'];
  let size = bytes;
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit++;
  }
  return `${unit ? size.toFixed(1) : size} ${units[unit]}`;
}

/** The detail view of one run. */
export class RunDetail extends Widget {
  constructor(
    readonly runId: string,
    private readonly serverSettings: ServerConnection.ISettings = ServerConnection.makeSettings(),
    private readonly openLineage:
      | ((run: IRun, lineage: ILineage, as: 'notebook' | 'script') => void)
      | null = null,
    private readonly openArtifact: ((path: string) => void) | null = null
  ) {
    super();
    this.id = `nbtrack-run-${runId}`;
    this.addClass('jp-nbtrack-RunDetail');
    this.title.label = `Run ${runId.slice(0, 8)}`;
    this.title.closable = true;
    this.title.caption = `nbtrack run ${runId}`;
    void this.load();
  }

  /** Fetch everything and draw; a RUNNING run is fetched again every few seconds. */
  async load(): Promise<void> {
    let run: IRun;
    try {
      run = await requestAPI<IRun>(`runs/${this.runId}`, this.serverSettings);
    } catch (error) {
      this.node.replaceChildren(errorAlert(error));
      return;
    }
    if (this.isDisposed) {
      return;
    }
    this.title.label = `Run ${run.info.run_name || this.runId.slice(0, 8)}`;
    const metricKeys = Object.keys(run.metrics).sort();
    const [histories, artifacts, lineage] = await Promise.all([
      Promise.all(
        metricKeys.map(key =>
          requestAPI<IMetricHistory>(
            `runs/${this.runId}/metrics/${encodeURIComponent(key)}?max_points=${MAX_POINTS}`,
            this.serverSettings
          ).catch(() => null)
        )
      ),
      requestAPI<IArtifactList>(
        `runs/${this.runId}/artifacts`,
        this.serverSettings
      ).catch(() => null),
      requestAPI<ILineage>(
        `runs/${this.runId}/lineage`,
        this.serverSettings
      ).catch(() => null)
    ]);
    if (this.isDisposed) {
      return;
    }
    this.render(run, histories, artifacts, lineage);
    if (run.info.status === 'RUNNING') {
      this.timer = window.setTimeout(() => void this.load(), 3000);
    }
  }

  dispose(): void {
    window.clearTimeout(this.timer);
    super.dispose();
  }

  private render(
    run: IRun,
    histories: Array<IMetricHistory | null>,
    artifacts: IArtifactList | null,
    lineage: ILineage | null
  ): void {
    const info = run.info;
    const userTags = Object.entries(run.tags)
      .filter(([k]) => !k.startsWith('nbtrack.') && !k.startsWith('mlflow.'))
      .sort();
    const systemTags = Object.entries(run.tags)
      .filter(([k]) => k.startsWith('nbtrack.') || k.startsWith('mlflow.'))
      .sort();
    const metricKeys = Object.keys(run.metrics).sort();
    // Every metric's latest value in a table; a chart for each with a history.
    const charts = histories.flatMap((history, i) =>
      history && history.points.length > 1
        ? [
            h(
              'figure',
              { class: 'jp-nbtrack-metric' },
              h(
                'figcaption',
                {},
                h('strong', {}, metricKeys[i]),
                ` · ${history.total} points${history.downsampled ? ` (${history.points.length} shown)` : ''}`
              ),
              lineChart(metricKeys[i], [
                { name: metricKeys[i], points: history.points }
              ])
            )
          ]
        : []
    );
    const metrics = h(
      'div',
      {},
      keyValueTable(
        'Metrics',
        metricKeys.map(k => [k, formatNumber(run.metrics[k])])
      ),
      charts.length
        ? h('div', { class: 'jp-nbtrack-metrics' }, ...charts)
        : null
    );
    const parts: Array<HTMLElement | null> = [
      h('h2', {}, `Run ${info.run_name}`),
      keyValueTable('Overview', [
        ['Status', info.status],
        ['Run id', info.run_id],
        ['Experiment id', info.experiment_id],
        ['Start', formatTime(info.start_time)],
        ['End', formatTime(info.end_time)],
        ['Duration', formatDuration(runDuration(run))],
        ['User', info.user_id],
        ['Artifact URI', info.artifact_uri]
      ]),
      h('h3', {}, 'Params'),
      keyValueTable('Params', Object.entries(run.params).sort()),
      h('h3', {}, 'Metrics'),
      metrics,
      h('h3', {}, 'Tags'),
      keyValueTable('Tags', userTags),
      systemTags.length
        ? h(
            'details',
            {},
            h('summary', {}, `System tags (${systemTags.length})`),
            keyValueTable('System tags', systemTags)
          )
        : null,
      h('h3', {}, 'Artifacts'),
      this.artifactList(artifacts),
      h('h3', {}, 'Lineage'),
      lineage && lineage.script.trim()
        ? h(
            'div',
            {},
            h(
              'p',
              { class: 'jp-nbtrack-empty' },
              `${lineage.executions.length} cell execution${lineage.executions.length === 1 ? '' : 's'} ran in the kernel for this run.`
            ),
            this.openLineage
              ? this.button('Open as notebook', () =>
                  this.openLineage?.(run, lineage, 'notebook')
                )
              : null,
            this.openLineage
              ? this.button('Open as script', () =>
                  this.openLineage?.(run, lineage, 'script')
                )
              : null,
            h(
              'pre',
              { class: 'jp-nbtrack-code', 'aria-label': 'Lineage code' },
              lineage.script
            )
          )
        : h('p', { class: 'jp-nbtrack-empty' }, 'No lineage recorded.')
    ];
    this.node.replaceChildren(
      ...parts.filter((p): p is HTMLElement => p !== null)
    );
  }

  private artifactList(list: IArtifactList | null): HTMLElement {
    if (!list || !list.files.length) {
      return h('p', { class: 'jp-nbtrack-empty' }, 'No artifacts.');
    }
    const items = list.files.map(file => this.artifactItem(file));
    return h(
      'ul',
      { class: 'jp-nbtrack-artifacts', 'aria-label': 'Artifacts' },
      ...items
    );
  }

  private artifactItem(file: IArtifactList['files'][number]): HTMLElement {
    const name = file.path.split('/').pop() ?? file.path;
    if (!file.is_dir) {
      const mimeType = this.openArtifact ? artifactMimeType(file.path) : null;
      const download = h(
        'a',
        {
          href: artifactUrl(this.runId, file.path, this.serverSettings),
          target: '_blank',
          rel: 'noopener',
          download: name,
          'aria-label': mimeType ? `Download ${name}` : undefined,
          title: `Download ${file.path}`
        },
        mimeType ? '⤓' : name
      );
      const open = mimeType
        ? this.button(
            `Open ${name}`,
            () => this.openArtifact?.(file.path),
            name
          )
        : null;
      if (open) {
        open.classList.replace('jp-nbtrack-Sidebar-button', 'jp-nbtrack-link');
        open.title = `Open ${file.path} in a JupyterLab tab (read-only)`;
      }
      return h(
        'li',
        {},
        open ?? download,
        h(
          'span',
          { class: 'jp-nbtrack-empty' },
          ` ${formatSize(file.file_size)} `
        ),
        open ? download : null
      );
    }
    // Folders open on demand: one request per level.
    const inner = h('div', {});
    const details = h('details', {}, h('summary', {}, `${name}/`), inner);
    details.addEventListener('toggle', () => {
      if (!details.open || inner.childElementCount) {
        return;
      }
      const query = `path=${encodeURIComponent(file.path)}`;
      void requestAPI<IArtifactList>(
        `runs/${this.runId}/artifacts?${query}`,
        this.serverSettings
      )
        .then(sub => inner.replaceChildren(this.artifactList(sub)))
        .catch((error: Error) =>
          inner.replaceChildren(h('p', { role: 'alert' }, error.message))
        );
    });
    return h('li', {}, details);
  }

  /** A small button named `label` (shown as `text`, default the label). */
  private button(
    label: string,
    onClick: () => void,
    text = label
  ): HTMLButtonElement {
    const button = h(
      'button',
      { class: 'jp-nbtrack-Sidebar-button', 'aria-label': label },
      text
    );
    button.addEventListener('click', onClick);
    return button;
  }

  private timer = 0;
}
