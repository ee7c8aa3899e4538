/**
 * The sidebar's Models view: registered models, their versions and aliases,
 * and which versions are being served (with Serve and Stop buttons).
 */
import { ServerConnection } from '@jupyterlab/services';

import { requestAPI } from './api';
import { errorAlert, h } from './dom';
import { formatTime } from './format';
import { IServedModel, ModelServing } from './serving';

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

  /**
   * `serve` runs the "Serve model" command for a version (it notifies the
   * user); `serving` lists and stops servers and says when they change.
   */
  constructor(
    private readonly openRun: (runId: string) => void,
    private readonly serverSettings: ServerConnection.ISettings,
    private readonly serving: ModelServing,
    private readonly serve: (name: string, version: number) => Promise<unknown>
  ) {
    this.node = h('div', {
      class: 'jp-nbtrack-Models',
      'aria-label': 'Registered models'
    });
    // Started or stopped elsewhere (the palette, a notification's Stop): redraw open models.
    this.serving.changed.connect(() => void this.reloadOpen());
  }

  /** Fetch the models again. */
  async load(): Promise<void> {
    let models: IModel[];
    try {
      models = (
        await requestAPI<{ models: IModel[] }>(
          'models?max_results=1000',
          this.serverSettings
        )
      ).models;
    } catch (error) {
      this.node.replaceChildren(errorAlert(error));
      return;
    }
    if (!models.length) {
      this.node.replaceChildren(
        h(
          'p',
          { class: 'jp-nbtrack-empty' },
          'No registered models yet (nbt.register_model).'
        )
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
      { class: 'jp-nbtrack-model', 'data-model': model.name },
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

  /** Redraw the versions of every open model (the served column changed). */
  private async reloadOpen(): Promise<void> {
    for (const details of this.node.querySelectorAll<HTMLDetailsElement>(
      'details[open]'
    )) {
      const body = details.lastElementChild as HTMLElement | null;
      const name = details.dataset.model;
      if (body && name) {
        await this.loadVersions(name, body);
      }
    }
  }

  private async loadVersions(name: string, body: HTMLElement): Promise<void> {
    let model: IModel;
    let served: IServedModel[];
    try {
      [model, served] = await Promise.all([
        requestAPI<IModel>(
          `models/${encodeURIComponent(name)}`,
          this.serverSettings
        ),
        this.serving.list()
      ]);
    } catch (error) {
      body.replaceChildren(h('p', { role: 'alert' }, (error as Error).message));
      return;
    }
    const rows = (model.versions ?? []).map(v => {
      const run = v.run_id
        ? h(
            'button',
            { class: 'jp-nbtrack-link', title: `Open run ${v.run_id}` },
            v.run_id.slice(0, 8)
          )
        : null;
      run?.addEventListener('click', () => this.openRun(v.run_id as string));
      return h(
        'tr',
        { 'data-version': String(v.version) },
        h('td', {}, `v${v.version}`),
        // Second, where a narrow sidebar still shows it: the URL is what a user serves for.
        h(
          'td',
          { 'data-key': 'serving' },
          this.servingCell(name, v.version, served)
        ),
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
          {
            class: 'jp-nbtrack-Sidebar-table',
            'aria-label': `Versions of ${name}`
          },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...[
                'Version',
                'Serving',
                'Run',
                'Aliases',
                'Stage',
                'Created'
              ].map(c => h('th', {}, c))
            )
          ),
          h('tbody', {}, ...rows)
        )
      )
    );
  }

  /** A served version: its URL and a Stop button; otherwise a Serve button. */
  private servingCell(
    name: string,
    version: number,
    served: IServedModel[]
  ): HTMLElement {
    const label = `${name} v${version}`;
    const running = served.find(s => s.name === name && s.version === version);
    if (running) {
      const stop = h(
        'button',
        {
          class: 'jp-nbtrack-Sidebar-button',
          'aria-label': `Stop serving ${label}`
        },
        'Stop'
      );
      stop.addEventListener('click', () => {
        stop.disabled = true;
        void this.serving.stopAndNotify(running);
      });
      return h(
        'span',
        { class: 'jp-nbtrack-served' },
        h(
          'code',
          {
            title: `POST ${running.invocations_url}`,
            'aria-label': `URL of ${label}`
          },
          running.url
        ),
        ' ',
        stop
      );
    }
    const serve = h(
      'button',
      { class: 'jp-nbtrack-Sidebar-button', 'aria-label': `Serve ${label}` },
      'Serve'
    );
    serve.addEventListener('click', () => {
      serve.disabled = true;
      serve.textContent = 'Starting…';
      // The command notifies; `changed` redraws this row with the URL (or the button).
      void this.serve(name, version).finally(() => void this.reloadOpen());
    });
    return serve;
  }
}
