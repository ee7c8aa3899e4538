/** The sidebar's Models view: registered models, their versions and aliases. */
import { ServerConnection } from '@jupyterlab/services';

import { requestAPI } from './api';
import { h } from './dom';
import { formatTime } from './format';

/** A model version as `GET models/{name}` returns it. */
interface IModelVersion {
  name: string;
  version: number;
  current_stage: string;
  aliases: string[];
  run_id: string | null;
  source: string;
  description: string | null;
  creation_timestamp: number | null;
}

/** A registered model as `GET models` returns it. */
interface IModel {
  name: string;
  description: string | null;
  aliases: Record<string, number>;
  latest_versions: IModelVersion[];
  versions?: IModelVersion[];
}

/** Registered models; a model opens to its versions, a version's run opens its detail. */
export class ModelsView {
  readonly node: HTMLElement;

  constructor(
    private readonly openRun: (runId: string) => void,
    private readonly serverSettings: ServerConnection.ISettings
  ) {
    this.node = h('div', { class: 'jp-nbtrack-Models', 'aria-label': 'Registered models' });
  }

  /** Fetch the models again. */
  async load(): Promise<void> {
    let models: IModel[];
    try {
      models = (
        await requestAPI<{ models: IModel[] }>('models?max_results=1000', this.serverSettings)
      ).models;
    } catch (error) {
      this.node.replaceChildren(
        h('div', { role: 'alert', class: 'jp-nbtrack-Sidebar-error' }, (error as Error).message)
      );
      return;
    }
    if (!models.length) {
      this.node.replaceChildren(
        h('p', { class: 'jp-nbtrack-empty' }, 'No registered models yet (nbt.register_model).')
      );
      return;
    }
    this.node.replaceChildren(...models.map(model => this.modelItem(model)));
  }

  private modelItem(model: IModel): HTMLElement {
    const latest = Math.max(0, ...model.latest_versions.map(v => v.version));
    const aliases = Object.entries(model.aliases)
      .map(([alias, version]) => `@${alias}→v${version}`)
      .join(' ');
    const body = h('div', {});
    const details = h(
      'details',
      { class: 'jp-nbtrack-model' },
      h('summary', {}, h('strong', {}, model.name), ` v${latest} `, aliases),
      body
    );
    details.addEventListener('toggle', () => {
      if (details.open && !body.childElementCount) {
        void this.loadVersions(model.name, body);
      }
    });
    return details;
  }

  private async loadVersions(name: string, body: HTMLElement): Promise<void> {
    let model: IModel;
    try {
      model = await requestAPI<IModel>(`models/${encodeURIComponent(name)}`, this.serverSettings);
    } catch (error) {
      body.replaceChildren(h('p', { role: 'alert' }, (error as Error).message));
      return;
    }
    const rows = (model.versions ?? []).map(v => {
      const run = v.run_id
        ? h('button', { class: 'jp-nbtrack-link', title: `Open run ${v.run_id}` }, v.run_id.slice(0, 8))
        : null;
      run?.addEventListener('click', () => this.openRun(v.run_id as string));
      return h(
        'tr',
        {},
        h('td', {}, `v${v.version}`),
        h('td', {}, run ?? ''),
        h('td', {}, v.aliases.map(a => `@${a}`).join(' ')),
        h('td', {}, v.current_stage === 'None' ? '' : v.current_stage),
        h('td', {}, formatTime(v.creation_timestamp))
      );
    });
    body.replaceChildren(
      model.description ? h('p', {}, model.description) : '',
      h(
        'div',
        { class: 'jp-nbtrack-wide' },
        h(
        'table',
        { class: 'jp-nbtrack-Sidebar-table', 'aria-label': `Versions of ${name}` },
        h(
          'thead',
          {},
          h('tr', {}, ...['Version', 'Run', 'Aliases', 'Stage', 'Created'].map(c => h('th', {}, c)))
        ),
        h('tbody', {}, ...rows)
        )
      )
    );
  }
}
