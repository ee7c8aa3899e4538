/**
 * nbtrack's JupyterLab extension: a left-sidebar panel over the store that
 * nbtrack's Jupyter server extension serves at `/nbtrack/api/`, run details
 * in the main area, and the "Insert %%track cell" command.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  InputDialog,
  MainAreaWidget,
  Notification,
  WidgetTracker
} from '@jupyterlab/apputils';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { buildIcon, LabIcon, tableRowsIcon } from '@jupyterlab/ui-components';

import { requestAPI } from './api';
import { ArtifactViewer } from './artifactviewer';
import { RunsCompare } from './compare';
import {
  artifactMimeType,
  lineageNotebook,
  loadsNbtrack,
  notebookFilterEndpoint,
  parseModelVersion
} from './format';
import { RunDetail } from './rundetail';
import { ModelServing } from './serving';
import { DEFAULT_SETTINGS, ISidebarSettings, RunsSidebar } from './sidebar';

const PLUGIN_ID = 'nbtrack:plugin';

/** Command ids (`nbtrack:<verb>`). */
export namespace CommandIDs {
  export const insertTrack = 'nbtrack:insert-track-cell';
  export const openRun = 'nbtrack:open-run';
  export const showSidebar = 'nbtrack:show-sidebar';
  export const showNotebookRuns = 'nbtrack:show-notebook-runs';
  export const compareRuns = 'nbtrack:compare-runs';
  export const exportProject = 'nbtrack:export-mlproject';
  export const serveModel = 'nbtrack:serve-model';
  export const openArtifact = 'nbtrack:open-artifact';
}

/** The answer of `POST nbtrack/api/export`. */
interface IExported {
  out: string;
  parameters: { name: string; type: string }[];
  warnings: string[];
}

export const nbtrackIcon = new LabIcon({
  name: 'nbtrack:icon',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">' +
    '<path class="jp-icon3" fill="#616161" d="M3 3h2v16h16v2H3zm4 12.6 4.2-5.1 3.3 2.9 ' +
    '4.7-6.6 1.6 1.2-6 8.4-3.3-2.9-3 3.6z"/></svg>'
});

const TRACK_CELL = '%%track\n';

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'Experiments, runs and run details of nbtrack in the left sidebar.',
  autoStart: true,
  optional: [
    ICommandPalette,
    ILayoutRestorer,
    INotebookTracker,
    ISettingRegistry,
    IRenderMimeRegistry
  ],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    notebooks: INotebookTracker | null,
    settingRegistry: ISettingRegistry | null,
    rendermime: IRenderMimeRegistry | null
  ) => {
    const serverSettings = app.serviceManager.serverSettings;
    const tracker = new WidgetTracker<MainAreaWidget<RunDetail>>({
      namespace: 'nbtrack-run'
    });
    const artifacts = new WidgetTracker<MainAreaWidget<ArtifactViewer>>({
      namespace: 'nbtrack-artifact'
    });

    app.commands.addCommand(CommandIDs.openArtifact, {
      label: 'nbtrack: Open artifact',
      execute: args => {
        const runId = String(args.runId ?? '');
        const path = String(args.path ?? '');
        const mimeType = artifactMimeType(path);
        if (!rendermime || !mimeType || !/^[0-9a-fA-F]{32}$/.test(runId)) {
          return;
        }
        const open = artifacts.find(
          w => w.content.runId === runId && w.content.path === path
        );
        if (open) {
          app.shell.activateById(open.id);
          return;
        }
        const content = new ArtifactViewer(
          runId,
          path,
          mimeType,
          rendermime,
          serverSettings
        );
        const widget = new MainAreaWidget({ content });
        widget.id = content.id;
        widget.title.label = content.title.label;
        widget.title.caption = content.title.caption;
        widget.title.icon = nbtrackIcon;
        void artifacts.add(widget);
        app.shell.add(widget, 'main');
        app.shell.activateById(widget.id);
      }
    });

    app.commands.addCommand(CommandIDs.openRun, {
      label: 'nbtrack: Open run',
      execute: args => {
        const runId = String(args.runId ?? '');
        if (!/^[0-9a-fA-F]{32}$/.test(runId)) {
          return;
        }
        const open = tracker.find(w => w.content.runId === runId);
        if (open) {
          app.shell.activateById(open.id);
          return;
        }
        const content = new RunDetail(
          runId,
          serverSettings,
          (run, lineage, as) => {
            // An untitled notebook in the served folder, one cell per execution,
            // or an untitled Python file holding the script.
            const contents = app.serviceManager.contents;
            const file =
              as === 'notebook'
                ? {
                    type: 'notebook' as const,
                    format: 'json' as const,
                    content: lineageNotebook(
                      run.info.run_name,
                      lineage.executions
                    )
                  }
                : {
                    type: 'file' as const,
                    format: 'text' as const,
                    content: lineage.script
                  };
            void contents
              .newUntitled(
                as === 'notebook'
                  ? { type: 'notebook', path: '' }
                  : { type: 'file', ext: '.py', path: '' }
              )
              .then(model => contents.save(model.path, file))
              .then(model =>
                app.commands.execute('docmanager:open', { path: model.path })
              )
              .catch(reason =>
                console.warn(`nbtrack: cannot open the lineage ${as}`, reason)
              );
          },
          rendermime
            ? path =>
                void app.commands.execute(CommandIDs.openArtifact, {
                  runId,
                  path
                })
            : null
        );
        const widget = new MainAreaWidget({ content });
        widget.id = content.id;
        widget.title.label = content.title.label;
        widget.title.icon = nbtrackIcon;
        content.title.changed.connect(
          () => (widget.title.label = content.title.label)
        );
        void tracker.add(widget);
        app.shell.add(widget, 'main');
        app.shell.activateById(widget.id);
      }
    });
    if (restorer) {
      void restorer.restore(tracker, {
        command: CommandIDs.openRun,
        args: w => ({ runId: w.content.runId }),
        name: w => w.content.runId
      });
      void restorer.restore(artifacts, {
        command: CommandIDs.openArtifact,
        args: w => ({ runId: w.content.runId, path: w.content.path }),
        name: w => `${w.content.runId}:${w.content.path}`
      });
    }

    app.commands.addCommand(CommandIDs.compareRuns, {
      label: 'nbtrack: Compare runs',
      execute: args => {
        const runIds = ((args.runIds as string[] | undefined) ?? []).filter(
          id => /^[0-9a-fA-F]{32}$/.test(id)
        );
        if (runIds.length < 2) {
          return;
        }
        const content = new RunsCompare(runIds, serverSettings);
        const widget = new MainAreaWidget({ content });
        widget.title.label = content.title.label;
        widget.title.icon = nbtrackIcon;
        app.shell.add(widget, 'main');
        app.shell.activateById(widget.id);
      }
    });

    const serving = new ModelServing(serverSettings);
    app.commands.addCommand(CommandIDs.serveModel, {
      label: 'Serve model',
      caption:
        "Serve a registered model version with MLflow's scoring protocol on this machine (127.0.0.1)",
      execute: async args => {
        let target =
          typeof args.name === 'string' && args.version !== undefined
            ? { name: args.name, version: Number(args.version) }
            : null;
        if (!target) {
          const answer = await InputDialog.getText({
            title: 'Serve model',
            label: 'Registered model version (models:/name/version)',
            placeholder: 'models:/wine-model/1'
          });
          if (!answer.button.accept || !answer.value) {
            return null;
          }
          target = parseModelVersion(answer.value);
          if (!target) {
            Notification.error(
              `Not a model version: ${answer.value} (models:/name/version)`
            );
            return null;
          }
        }
        return serving.serveAndNotify(target.name, target.version);
      }
    });

    const sidebar = new RunsSidebar(
      runId => void app.commands.execute(CommandIDs.openRun, { runId }),
      runIds => void app.commands.execute(CommandIDs.compareRuns, { runIds }),
      serving,
      (name, version) =>
        app.commands.execute(CommandIDs.serveModel, { name, version }),
      serverSettings
    );
    sidebar.title.icon = nbtrackIcon;
    app.shell.add(sidebar, 'left', { rank: 600 });
    restorer?.add(sidebar, 'nbtrack-sidebar');

    app.commands.addCommand(CommandIDs.showSidebar, {
      label: 'nbtrack: Show experiments and runs',
      execute: () => app.shell.activateById(sidebar.id)
    });

    app.commands.addCommand(CommandIDs.showNotebookRuns, {
      label: 'Show runs of this notebook',
      caption:
        'The runs %%track cells of this notebook made, in every experiment',
      icon: tableRowsIcon,
      isEnabled: () => !!notebooks?.currentWidget,
      execute: async () => {
        const panel = notebooks?.currentWidget;
        if (!panel) {
          return;
        }
        const { filter } = await requestAPI<{ filter: string }>(
          notebookFilterEndpoint(panel.context.path)
        );
        sidebar.showFilter(filter);
        app.shell.activateById(sidebar.id);
      }
    });

    app.commands.addCommand(CommandIDs.insertTrack, {
      label: 'Insert %%track cell',
      caption:
        'Add a %%track cell below the active cell (and %load_ext nbtrack when missing)',
      icon: nbtrackIcon,
      isEnabled: () => !!notebooks?.currentWidget,
      execute: () => {
        const panel = notebooks?.currentWidget;
        if (!panel) {
          return;
        }
        const notebook = panel.content;
        const model = notebook.model;
        if (!model) {
          return;
        }
        const sources: string[] = [];
        for (let i = 0; i < model.cells.length; i++) {
          sources.push(model.cells.get(i).sharedModel.getSource());
        }
        NotebookActions.insertBelow(notebook);
        NotebookActions.changeCellType(notebook, 'code');
        notebook.activeCell?.model.sharedModel.setSource(TRACK_CELL);
        const trackIndex = notebook.activeCellIndex;
        if (!loadsNbtrack(sources)) {
          // The magics must be loaded before the first %%track cell runs: top of the notebook.
          model.sharedModel.insertCell(0, {
            cell_type: 'code',
            source: '%load_ext nbtrack'
          });
          notebook.activeCellIndex = trackIndex + 1;
        }
        notebook.mode = 'edit';
      }
    });

    app.commands.addCommand(CommandIDs.exportProject, {
      label: 'Export notebook as MLproject',
      caption:
        'Save the notebook and write it as an MLproject beside it (MLproject, main.py, python_env.yaml)',
      icon: buildIcon,
      isEnabled: () => !!notebooks?.currentWidget,
      execute: async () => {
        const panel = notebooks?.currentWidget;
        if (!panel) {
          return;
        }
        await panel.context.save();
        try {
          const done = await requestAPI<IExported>('export', undefined, {
            method: 'POST',
            body: JSON.stringify({ path: panel.context.path })
          });
          const names = done.parameters.map(p => p.name).join(', ') || 'none';
          const notes = done.warnings.length
            ? ` (${done.warnings.length} warnings)`
            : '';
          Notification.success(
            `Exported to ${done.out}: run it with nbtrack run ${done.out} (parameters: ${names})${notes}`,
            { autoClose: false }
          );
        } catch (error) {
          Notification.error(`Export failed: ${(error as Error).message}`, {
            autoClose: false
          });
        }
      }
    });

    if (palette) {
      for (const command of [
        CommandIDs.exportProject,
        CommandIDs.insertTrack,
        CommandIDs.serveModel,
        CommandIDs.showNotebookRuns,
        CommandIDs.showSidebar
      ]) {
        palette.addItem({ command, category: 'nbtrack' });
      }
    }

    if (settingRegistry) {
      const apply = (settings: ISettingRegistry.ISettings): void => {
        const read = <K extends keyof ISidebarSettings>(
          key: K
        ): ISidebarSettings[K] =>
          (settings.get(key).composite as ISidebarSettings[K]) ??
          DEFAULT_SETTINGS[key];
        sidebar.configure({
          refreshInterval: read('refreshInterval'),
          idleRefreshInterval: read('idleRefreshInterval'),
          defaultColumns: read('defaultColumns'),
          pageSize: read('pageSize')
        });
      };
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          apply(settings);
          settings.changed.connect(apply);
        })
        .catch(reason => console.warn('nbtrack: settings not loaded', reason));
    }
  }
};

export default plugin;
