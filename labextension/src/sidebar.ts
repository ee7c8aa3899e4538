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
  idleRefreshInterval: 10,
  defaultColumns: [],
  pageSize: 100
};

/** The experiment choice that searches every experiment. */
const ALL = '*';

/**
 * The runs sidebar. `openRun` shows a run's detail in the main area,
 * `openCompare` several runs side by side.
 */
export class RunsSidebar extends Widget {
  constructor(
    private readonly openRun: (runId: string) => void,
    private readonly openCompare: (runIds: string[]) => void,
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
    const refresh = h('button', { class: 'jp-nbtrack-Sidebar-button', 'aria-label': 'Refresh', title: 'Refresh' }, '↻');
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
    this.errorBox = h('div', { class: 'jp-nbtrack-Sidebar-error', role: 'alert', hidden: true });
    this.status = h('div', { class: 'jp-nbtrack-Sidebar-status', 'aria-live': 'polite' });
    this.table = h('table', { class: 'jp-nbtrack-Sidebar-table', 'aria-label': 'Experiment runs' });
    this.more = h('button', { class: 'jp-nbtrack-Sidebar-button', hidden: true }, 'Load more');
    this.more.addEventListener('click', () => void this.loadRuns(true));
    this.compare = h('button', { class: 'jp-nbtrack-Sidebar-button', disabled: true }, 'Compare');
    this.compare.addEventListener('click', () => {
      const ids = this.runs.map(r => r.info.run_id).filter(id => this.selected.has(id));
      if (ids.length >= 2) {
        this.openCompare(ids);
      }
    });

    this.models = new ModelsView(openRun, serverSettings);
    this.runsView = h(
      'div',
      { class: 'jp-nbtrack-Sidebar-view', role: 'tabpanel', 'aria-label': 'Runs' },
      h('label', { class: 'jp-nbtrack-Sidebar-row' }, 'Experiment ', this.experimentSelect),
      h('div', { class: 'jp-nbtrack-Sidebar-row' }, this.filterInput),
      this.errorBox,
      h('div', { class: 'jp-nbtrack-Sidebar-scroll' }, this.table),
      h('div', { class: 'jp-nbtrack-Sidebar-actions' }, this.compare, this.more),
      this.status
    );
    this.modelsView = h(
      'div',
      { class: 'jp-nbtrack-Sidebar-view', role: 'tabpanel', 'aria-label': 'Models', hidden: true },
      this.models.node
    );
    const tab = (label: string, selected: boolean): HTMLButtonElement => {
      const button = h('button', { role: 'tab', 'aria-selected': String(selected) }, label);
      button.addEventListener('click', () => this.showView(label === 'Models'));
      return button;
    };
    this.tabs = [tab('Runs', true), tab('Models', false)];
    this.node.append(
      h(
        'div',
        { class: 'jp-nbtrack-Sidebar-header' },
        h('h2', {}, 'nbtrack'),
        h('div', { role: 'tablist', class: 'jp-nbtrack-Sidebar-tabs' }, ...this.tabs),
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
    super.dispose();
  }

  private async loadExperiments(): Promise<void> {
    try {
      const body = await requestAPI<{ experiments: IExperiment[] }>(
        'experiments',
        this.serverSettings
      );
      this.experiments = body.experiments;
    } catch (error) {
      this.showError(`Cannot list experiments: ${(error as Error).message}`);
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
      h('option', { value: ALL, selected: this.experimentId === ALL }, 'All experiments'),
      ...this.experiments.map(e =>
        h(
          'option',
          { value: e.experiment_id, selected: e.experiment_id === this.experimentId },
          e.name
        )
      )
    );
    this.experimentSelect.value = this.experimentId;
    await this.loadRuns();
  }

  /** Fetch the first page (or, with `append`, the next one) of the current query. */
  private async loadRuns(append = false, quiet = false): Promise<void> {
    window.clearTimeout(this.timer);
    if (!this.experimentId) {
      this.runs = [];
      this.renderTable();
      this.status.textContent = 'No experiments yet.';
      return;
    }
    const ticket = ++this.ticket;
    // A refresh keeps as many rows as are shown, in one request.
    const size = append
      ? this.settings.pageSize
      : Math.min(1000, Math.max(this.settings.pageSize, quiet ? this.runs.length : 0));
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
    try {
      const body = await requestAPI<{ runs: IRun[]; next_page_token: string | null }>(
        `runs?${query}`,
        this.serverSettings
      );
      if (ticket !== this.ticket) {
        return;
      }
      this.runs = append ? [...this.runs, ...body.runs] : body.runs;
      this.nextPageToken = body.next_page_token;
      this.showError('');
    } catch (error) {
      if (ticket !== this.ticket) {
        return;
      }
      const prefix = error instanceof ApiError && error.status === 400 ? '' : 'Cannot load runs: ';
      this.showError(prefix + (error as Error).message);
    }
    this.renderTable();
    this.schedule();
  }

  /** Refresh again soon while runs are RUNNING, slowly otherwise, only while visible. */
  private schedule(): void {
    window.clearTimeout(this.timer);
    const seconds = anyRunning(this.runs)
      ? this.settings.refreshInterval
      : this.settings.idleRefreshInterval;
    if (seconds > 0 && this.isVisible) {
      this.timer = window.setTimeout(() => void this.loadRuns(false, true), seconds * 1000);
    }
  }

  private showError(message: string): void {
    this.errorBox.textContent = message;
    this.errorBox.hidden = !message;
  }

  private renderTable(): void {
    const columns = chooseColumns(this.runs, this.settings.defaultColumns);
    const header = (id: string, label: string, orderKey: string | null): HTMLElement => {
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
      const open = h('button', { class: 'jp-nbtrack-link', title: `Open run ${run.info.run_id}` }, run.info.run_name || run.info.run_id.slice(0, 8));
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
          h('span', { class: `jp-nbtrack-badge jp-nbtrack-badge-${status.toLowerCase()}` }, status)
        ),
        h('td', { 'data-key': 'name' }, open),
        h(
          'td',
          { 'data-key': 'start', title: formatTime(run.info.start_time) },
          formatShortTime(run.info.start_time)
        ),
        h('td', { 'data-key': 'duration', class: 'jp-nbtrack-num' }, formatDuration(runDuration(run))),
        ...columns.map(c =>
          h(
            'td',
            { 'data-key': c, class: c.startsWith('metrics.') ? 'jp-nbtrack-num' : undefined },
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
      (running ? ` · ${running} running, refreshing every ${this.settings.refreshInterval} s` : '');
  }

  private updateCompare(): void {
    const count = this.runs.filter(r => this.selected.has(r.info.run_id)).length;
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
  private ticket = 0;
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
