/**
 * The left-sidebar panel: experiments, then the chosen experiment's runs,
 * sorted and filtered in the server, refreshed while runs are RUNNING.
 */
import { ServerConnection } from '@jupyterlab/services';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { ApiError, IExperiment, requestAPI } from './api';
import { h } from './dom';
import { ModelsView } from './models';
import { ModelServing } from './serving';
import {
  DEFAULT_SORT,
  FIXED_COLUMNS,
  IRun,
  ISort,
  anyRunning,
  ariaSort,
  chooseColumns,
  columnValue,
  formatDuration,
  formatShortTime,
  formatTime,
  nextSort,
  quoteKey,
  runDuration,
  runsQueryString,
  splitColumn
} from './format';

/** The sidebar's settings (schema/plugin.json). */
export interface ISidebarSettings {
  /** Seconds between refreshes while a shown run is RUNNING (0: never). */
  refreshInterval: number;
  /** Seconds between refreshes otherwise, while the panel is visible (0: never). */
  idleRefreshInterval: number;
  /** Param/metric columns (`metrics.rmse`, `params.alpha`); empty: the first few found. */
  defaultColumns: string[];
  /** Runs per page. */
  pageSize: number;
}

export const DEFAULT_SETTINGS: ISidebarSettings = {
  refreshInterval: 2,
  idleRefreshInterval: 2,
  defaultColumns: [],
  pageSize: 100
};

/** The shortest pause between the end of one refresh and the next request. */
const MIN_GAP_MS = 250;

/** The experiment choice that searches every experiment. */
const ALL = '*';

/**
 * The runs sidebar. `openRun` shows a run's detail in the main area,
 * `openCompare` several runs side by side; the Models tab serves versions
 * through `serving` and the `serve` command.
 */
export class RunsSidebar extends Widget {
  constructor(
    private readonly openRun: (runId: string) => void,
    private readonly openCompare: (runIds: string[]) => void,
    serving: ModelServing,
    serve: (name: string, version: number) => Promise<unknown>,
    private readonly serverSettings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {
    super();
    this.id = 'nbtrack-sidebar';
    this.addClass('jp-nbtrack-Sidebar');
    this.title.caption = 'nbtrack: experiments and runs';

    this.experimentSelect = h('select', { 'aria-label': 'Experiment' });
    this.experimentSelect.addEventListener('change', () => {
      this.experimentId = this.experimentSelect.value;
      this.sort = DEFAULT_SORT;
      this.selected.clear();
      void this.loadRuns();
    });
    const refresh = h(
      'button',
      {
        class: 'jp-nbtrack-Sidebar-button',
        'aria-label': 'Refresh',
        title: 'Refresh'
      },
      '↻'
    );
    refresh.addEventListener('click', () => void this.refresh());

    this.filterInput = h('input', {
      type: 'search',
      'aria-label': 'Filter runs',
      placeholder: "metrics.rmse < 0.8 and params.model = 'rf'",
      spellcheck: 'false'
    });
    this.filterInput.addEventListener('keydown', event => {
      if (event.key === 'Enter') {
        this.filter = this.filterInput.value;
        void this.loadRuns();
      }
    });
    this.errorBox = h('div', {
      class: 'jp-nbtrack-Sidebar-error',
      role: 'alert',
      hidden: true
    });
    this.status = h('div', {
      class: 'jp-nbtrack-Sidebar-status',
      'aria-live': 'polite'
    });
    this.table = h('table', {
      class: 'jp-nbtrack-Sidebar-table',
      'aria-label': 'Experiment runs'
    });
    this.more = h(
      'button',
      { class: 'jp-nbtrack-Sidebar-button', hidden: true },
      'Load more'
    );
    this.more.addEventListener('click', () => void this.loadRuns(true));
    this.compare = h(
      'button',
      { class: 'jp-nbtrack-Sidebar-button', disabled: true },
      'Compare'
    );
    this.compare.addEventListener('click', () => {
      const ids = this.runs
        .map(r => r.info.run_id)
        .filter(id => this.selected.has(id));
      if (ids.length >= 2) {
        this.openCompare(ids);
      }
    });

    this.models = new ModelsView(openRun, serverSettings, serving, serve);
    this.runsView = h(
      'div',
      {
        class: 'jp-nbtrack-Sidebar-view',
        role: 'tabpanel',
        'aria-label': 'Runs'
      },
      h(
        'label',
        { class: 'jp-nbtrack-Sidebar-row' },
        'Experiment ',
        this.experimentSelect
      ),
      h('div', { class: 'jp-nbtrack-Sidebar-row' }, this.filterInput),
      this.errorBox,
      h('div', { class: 'jp-nbtrack-Sidebar-scroll' }, this.table),
      h(
        'div',
        { class: 'jp-nbtrack-Sidebar-actions' },
        this.compare,
        this.more
      ),
      this.status
    );
    this.modelsView = h(
      'div',
      {
        class: 'jp-nbtrack-Sidebar-view',
        role: 'tabpanel',
        'aria-label': 'Models',
        hidden: true
      },
      this.models.node
    );
    const tab = (label: string, selected: boolean): HTMLButtonElement => {
      const button = h(
        'button',
        { role: 'tab', 'aria-selected': String(selected) },
        label
      );
      button.addEventListener('click', () => this.showView(label === 'Models'));
      return button;
    };
    this.tabs = [tab('Runs', true), tab('Models', false)];
    this.node.append(
      h(
        'div',
        { class: 'jp-nbtrack-Sidebar-header' },
        h('h2', {}, 'nbtrack'),
        h(
          'div',
          { role: 'tablist', class: 'jp-nbtrack-Sidebar-tabs' },
          ...this.tabs
        ),
        refresh
      ),
      this.runsView,
      this.modelsView
    );
  }

  /** Apply new settings (the table redraws with the new columns). */
  configure(settings: ISidebarSettings): void {
    this.settings = settings;
    if (this.loaded) {
      this.renderTable();
      this.schedule();
    }
  }

  /** Show the runs matching `filter` in every experiment (e.g. one notebook's runs). */
  showFilter(filter: string): void {
    this.filter = filter;
    this.filterInput.value = filter;
    this.experimentId = ALL;
    this.selected.clear();
    if (this.loaded) {
      void this.loadExperiments();
    }
  }

  /** Reload what is shown: experiments and runs, or models. */
  async refresh(): Promise<void> {
    if (this.modelsView.hidden) {
      await this.loadExperiments();
    } else {
      await this.models.load();
    }
  }

  private showView(models: boolean): void {
    this.runsView.hidden = models;
    this.modelsView.hidden = !models;
    this.tabs[0].setAttribute('aria-selected', String(!models));
    this.tabs[1].setAttribute('aria-selected', String(models));
    if (models) {
      void this.models.load();
    }
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (!this.loaded) {
      this.loaded = true;
      void this.loadExperiments();
    } else {
      void this.loadRuns();
    }
  }

  protected onBeforeHide(msg: Message): void {
    super.onBeforeHide(msg);
    window.clearTimeout(this.timer);
  }

  dispose(): void {
    window.clearTimeout(this.timer);
    this.pending?.abort();
    super.dispose();
  }

  /**
   * List the experiments, then load the runs. ``quiet`` (a periodic refresh)
   * leaves the picker alone when no experiment came or went, so an open
   * dropdown stays open, and a new experiment joins "All experiments".
   */
  private async loadExperiments(quiet = false): Promise<void> {
    let found: IExperiment[];
    try {
      const body = await requestAPI<{ experiments: IExperiment[] }>(
        'experiments',
        this.serverSettings
      );
      found = body.experiments;
    } catch (error) {
      if (!quiet) {
        this.showError(`Cannot list experiments: ${(error as Error).message}`);
      }
      return;
    }
    const names = (list: IExperiment[]): string =>
      JSON.stringify(list.map(e => [e.experiment_id, e.name]));
    const unchanged = names(found) === names(this.experiments);
    this.experiments = found;
    if (quiet && unchanged) {
      await this.loadRuns(false, true);
      return;
    }
    if (
      this.experimentId !== ALL &&
      !this.experiments.some(e => e.experiment_id === this.experimentId)
    ) {
      // Start on the most recently touched experiment: usually the one being worked on.
      const recent = [...this.experiments].sort(
        (a, b) =>
          (b.last_update_time ?? b.creation_time ?? 0) -
          (a.last_update_time ?? a.creation_time ?? 0)
      );
      const named = recent.find(e => e.name !== 'Default') ?? recent[0];
      this.experimentId = named?.experiment_id ?? '';
    }
    this.experimentSelect.replaceChildren(
      h(
        'option',
        { value: ALL, selected: this.experimentId === ALL },
        'All experiments'
      ),
      ...this.experiments.map(e =>
        h(
          'option',
          {
            value: e.experiment_id,
            selected: e.experiment_id === this.experimentId
          },
          e.name
        )
      )
    );
    this.experimentSelect.value = this.experimentId;
    await this.loadRuns(false, quiet);
  }

  /** What the runs table shows: only a response to the query still current may render. */
  private queryKey(): string {
    return JSON.stringify([this.experimentId, this.filter, this.sort]);
  }

  /**
   * Fetch the first page (or, with `append`, the next one) of the current query.
   *
   * Each call aborts the request before it: a periodic refresh still in
   * flight when the user filters or sorts must never render over the newer
   * query's rows. A response renders only if its request is the latest and
   * the query it was made for is still the one shown.
   */
  private async loadRuns(append = false, quiet = false): Promise<void> {
    window.clearTimeout(this.timer);
    this.pending?.abort();
    this.pending = null;
    if (!this.experimentId) {
      this.runs = [];
      this.renderTable();
      this.status.textContent = 'No experiments yet.';
      return;
    }
    const controller = new AbortController();
    this.pending = controller;
    this.lastStart = Date.now();
    const key = this.queryKey();
    // A refresh keeps as many rows as are shown, in one request.
    const size = append
      ? this.settings.pageSize
      : Math.min(
          1000,
          Math.max(this.settings.pageSize, quiet ? this.runs.length : 0)
        );
    const query = runsQueryString({
      experimentId:
        this.experimentId === ALL
          ? this.experiments.map(e => e.experiment_id).join(',')
          : this.experimentId,
      filter: this.filter,
      sort: this.sort,
      maxResults: size,
      pageToken: append ? this.nextPageToken : null
    });
    if (!quiet) {
      this.status.textContent = 'Loading…';
    }
    const current = (): boolean =>
      this.pending === controller &&
      !controller.signal.aborted &&
      key === this.queryKey();
    let changed = true;
    try {
      const body = await requestAPI<{
        runs: IRun[];
        next_page_token: string | null;
      }>(`runs?${query}`, this.serverSettings, { signal: controller.signal });
      if (!current()) {
        return;
      }
      const runs = append ? [...this.runs, ...body.runs] : body.runs;
      const shown = JSON.stringify([runs, body.next_page_token]);
      // An unchanged table is not rebuilt: rows under the pointer stay put between refreshes.
      changed = !quiet || shown !== this.shown || !this.errorBox.hidden;
      this.shown = shown;
      this.runs = runs;
      this.nextPageToken = body.next_page_token;
      this.showError('');
    } catch (error) {
      if (!current()) {
        return;
      }
      this.shown = '';
      const prefix =
        error instanceof ApiError && error.status === 400
          ? ''
          : 'Cannot load runs: ';
      this.showError(prefix + (error as Error).message);
    } finally {
      if (this.pending === controller) {
        this.pending = null;
      }
    }
    if (changed) {
      this.renderTable();
    }
    this.schedule();
  }

  /** Refresh again soon while runs are RUNNING, slowly otherwise, only while visible. */
  private schedule(): void {
    window.clearTimeout(this.timer);
    const seconds = anyRunning(this.runs)
      ? this.settings.refreshInterval
      : this.settings.idleRefreshInterval;
    if (seconds > 0 && this.isVisible) {
      // Counted from when the last request left, so a new run shows within the
      // interval plus one request's time; never closer than MIN_GAP_MS, so a
      // slow server is not asked again before it breathes.
      const delay = Math.max(
        MIN_GAP_MS,
        seconds * 1000 - (Date.now() - this.lastStart)
      );
      this.timer = window.setTimeout(() => {
        if (!this.pending) {
          void this.loadExperiments(true);
        }
      }, delay);
    }
  }

  private showError(message: string): void {
    this.errorBox.textContent = message;
    this.errorBox.hidden = !message;
  }

  private renderTable(): void {
    const columns = chooseColumns(this.runs, this.settings.defaultColumns);
    const header = (
      id: string,
      label: string,
      orderKey: string | null
    ): HTMLElement => {
      const th = h(
        'th',
        {
          'data-key': id,
          scope: 'col',
          'aria-sort': ariaSort(this.sort, orderKey),
          tabindex: orderKey ? 0 : undefined,
          title: orderKey ? `Sort by ${orderKey}` : undefined,
          class: orderKey ? 'jp-nbtrack-sortable' : undefined
        },
        label
      );
      if (orderKey) {
        const sortBy = (): void => {
          this.sort = nextSort(this.sort, orderKey);
          void this.loadRuns();
        };
        th.addEventListener('click', sortBy);
        th.addEventListener('keydown', event => {
          if (event.key === 'Enter' || event.key === ' ') {
            event.preventDefault();
            sortBy();
          }
        });
      }
      return th;
    };
    const head = h(
      'tr',
      {},
      h('th', { class: 'jp-nbtrack-pick', 'data-key': 'select' }),
      ...FIXED_COLUMNS.map(c => header(c.id, c.label, c.orderKey)),
      ...columns.map(c => {
        const { kind, key } = splitColumn(c);
        return header(c, key, quoteKey(kind, key));
      })
    );
    const rows = this.runs.map(run => {
      const open = h(
        'button',
        { class: 'jp-nbtrack-link', title: `Open run ${run.info.run_id}` },
        run.info.run_name || run.info.run_id.slice(0, 8)
      );
      open.addEventListener('click', () => this.openRun(run.info.run_id));
      const status = run.info.status;
      const id = run.info.run_id;
      const pick = h('input', {
        type: 'checkbox',
        'aria-label': `Select ${run.info.run_name || id}`,
        checked: this.selected.has(id)
      });
      pick.addEventListener('change', () => {
        if (pick.checked) {
          this.selected.add(id);
        } else {
          this.selected.delete(id);
        }
        this.updateCompare();
      });
      return h(
        'tr',
        { 'data-run-id': id },
        h('td', { class: 'jp-nbtrack-pick' }, pick),
        h(
          'td',
          { 'data-key': 'status' },
          h(
            'span',
            {
              class: `jp-nbtrack-badge jp-nbtrack-badge-${status.toLowerCase()}`
            },
            status
          )
        ),
        h('td', { 'data-key': 'name' }, open),
        h(
          'td',
          { 'data-key': 'start', title: formatTime(run.info.start_time) },
          formatShortTime(run.info.start_time)
        ),
        h(
          'td',
          { 'data-key': 'duration', class: 'jp-nbtrack-num' },
          formatDuration(runDuration(run))
        ),
        ...columns.map(c =>
          h(
            'td',
            {
              'data-key': c,
              class: c.startsWith('metrics.') ? 'jp-nbtrack-num' : undefined
            },
            columnValue(run, c)
          )
        )
      );
    });
    this.table.replaceChildren(h('thead', {}, head), h('tbody', {}, ...rows));
    this.more.hidden = !this.nextPageToken;
    this.updateCompare();
    const running = this.runs.filter(r => r.info.status === 'RUNNING').length;
    this.status.textContent =
      `${this.runs.length} run${this.runs.length === 1 ? '' : 's'}` +
      (this.nextPageToken ? ' (more available)' : '') +
      (running
        ? ` · ${running} running, refreshing every ${this.settings.refreshInterval} s`
        : '');
  }

  private updateCompare(): void {
    const count = this.runs.filter(r =>
      this.selected.has(r.info.run_id)
    ).length;
    this.compare.textContent = `Compare (${count})`;
    this.compare.disabled = count < 2;
  }

  private settings: ISidebarSettings = DEFAULT_SETTINGS;
  private readonly selected = new Set<string>();
  private experiments: IExperiment[] = [];
  private experimentId = '';
  private filter = '';
  private sort: ISort | null = DEFAULT_SORT;
  private runs: IRun[] = [];
  private nextPageToken: string | null = null;
  private loaded = false;
  /** The runs request in flight, aborted by the next one. */
  private pending: AbortController | null = null;
  /** The runs and page token last rendered by loadRuns, to skip identical refreshes. */
  private shown = '';
  private lastStart = 0;
  private timer = 0;
  private readonly experimentSelect: HTMLSelectElement;
  private readonly filterInput: HTMLInputElement;
  private readonly errorBox: HTMLDivElement;
  private readonly status: HTMLDivElement;
  private readonly table: HTMLTableElement;
  private readonly more: HTMLButtonElement;
  private readonly compare: HTMLButtonElement;
  private readonly models: ModelsView;
  private readonly runsView: HTMLDivElement;
  private readonly modelsView: HTMLDivElement;
  private readonly tabs: HTMLButtonElement[];
}
