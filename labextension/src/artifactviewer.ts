/**
 * A run's artifact in a main-area tab, drawn by JupyterLab's own MIME
 * renderers (the ones notebook outputs use: images, JSON tree, Markdown,
 * plain text).
 *
 * Renderers rather than the document manager: the store is usually outside
 * the folder Jupyter serves (`.nbtrack/`, a database, a remote server), so
 * its files have no contents-API path to open; the bytes come from the
 * server extension's artifact route instead, and a renderer never writes
 * back, so the view is read-only.
 */
import { IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import { ServerConnection } from '@jupyterlab/services';
import { Panel, Widget } from '@lumino/widgets';

import { artifactResponse } from './api';
import { errorAlert } from './dom';

/** The largest text artifact shown (the rest is cut, with a note); downloads are whole. */
const TEXT_LIMIT = 2_000_000;

/** ArrayBuffer → base64, in chunks (spreading megabytes into one call overflows the stack). */
function base64(bytes: ArrayBuffer): string {
  const view = new Uint8Array(bytes);
  let binary = '';
  for (let i = 0; i < view.length; i += 0x8000) {
    binary += String.fromCharCode(...view.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** One artifact of one run, rendered as `mimeType`. */
export class ArtifactViewer extends Panel {
  constructor(
    readonly runId: string,
    readonly path: string,
    private readonly mimeType: string,
    private readonly rendermime: IRenderMimeRegistry,
    private readonly serverSettings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {
    super();
    this.addClass('jp-nbtrack-ArtifactViewer');
    const name = path.split('/').pop() ?? path;
    this.id = `nbtrack-artifact-${runId}-${encodeURIComponent(path)}`;
    this.title.label = name;
    this.title.caption = `${path} (artifact of run ${runId}, read-only)`;
    this.title.closable = true;
    this.node.dataset.artifact = path;
    void this.load();
  }

  /** Fetch the bytes and render them. */
  async load(): Promise<void> {
    let data: string;
    try {
      const response = await artifactResponse(
        this.runId,
        this.path,
        this.serverSettings
      );
      if (
        this.mimeType.startsWith('image/') &&
        this.mimeType !== 'image/svg+xml'
      ) {
        data = base64(await response.arrayBuffer());
      } else {
        data = await response.text();
        if (data.length > TEXT_LIMIT) {
          data = `${data.slice(0, TEXT_LIMIT)}\n… (truncated: download the file for the rest)`;
        }
      }
    } catch (error) {
      this.addWidget(new Widget({ node: errorAlert(error) }));
      return;
    }
    let value: unknown = data;
    if (this.mimeType === 'application/json') {
      try {
        value = JSON.parse(data);
      } catch {
        // Not valid JSON after all: shown as text rather than not at all.
        this.render('text/plain', data);
        return;
      }
    }
    this.render(this.mimeType, value);
  }

  private render(mimeType: string, value: unknown): void {
    // SVG is the one unsafe type here: JupyterLab draws it inside an <img>,
    // where its scripts cannot run, so the artifact's SVG is trusted.
    const model = new MimeModel({
      data: { [mimeType]: value as string },
      trusted: mimeType === 'image/svg+xml'
    });
    const renderer = this.rendermime.createRenderer(mimeType);
    renderer.addClass('jp-nbtrack-ArtifactViewer-content');
    // Added before rendering, as an output area does: some renderers measure their node.
    this.addWidget(renderer);
    void renderer.renderModel(model);
  }
}
