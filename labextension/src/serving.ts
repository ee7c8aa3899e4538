/**
 * "Serve model": registered model versions served by scoring servers that
 * the Jupyter server extension starts (`/nbtrack/api/serving`), and the
 * notifications that tell the user where they listen.
 */
import { Notification } from '@jupyterlab/apputils';
import { ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';

import { requestAPI } from './api';

/** A scoring server as `GET serving` lists it. */
export interface IServedModel {
  server_id: string;
  name: string;
  version: number;
  model_uri: string;
  /** `http://127.0.0.1:<port>`; POST to `invocations_url`. */
  url: string;
  invocations_url: string;
  pid: number;
  start_time: number;
}

/** How often the servers are listed while any runs, to notice one that exited. */
const WATCH_MS = 3000;

/** The scoring servers of one Jupyter server; `changed` fires after a start or a stop. */
export class ModelServing {
  constructor(private readonly serverSettings: ServerConnection.ISettings) {}

  /** Fires after a server started or stopped, here or by itself (it exited). */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The servers running now. */
  async list(): Promise<IServedModel[]> {
    const servers = (
      await requestAPI<{ servers: IServedModel[] }>(
        'serving',
        this.serverSettings
      )
    ).servers;
    this.watch(servers);
    return servers;
  }

  /**
   * While any server runs, list them every few seconds: one that exits by
   * itself (a crash, a kill) then leaves the Models tab without a reload.
   */
  private watch(servers: IServedModel[]): void {
    const ids = servers
      .map(s => s.server_id)
      .sort()
      .join();
    const changed = this.seen !== null && ids !== this.seen;
    this.seen = ids;
    window.clearTimeout(this.timer);
    if (ids) {
      this.timer = window.setTimeout(
        () => void this.list().catch(() => undefined),
        WATCH_MS
      );
    }
    if (changed) {
      this._changed.emit();
    }
  }

  private seen: string | null = null;
  private timer = 0;

  /** Serve a version (the running server if it is served already); resolves once it answers. */
  async serve(name: string, version: number): Promise<IServedModel> {
    const served = await requestAPI<IServedModel>(
      'serving',
      this.serverSettings,
      {
        method: 'POST',
        body: JSON.stringify({ name, version })
      }
    );
    this._changed.emit();
    return served;
  }

  /** Stop a server. */
  async stop(serverId: string): Promise<void> {
    await requestAPI(
      `serving/${encodeURIComponent(serverId)}`,
      this.serverSettings,
      {
        method: 'DELETE'
      }
    );
    this._changed.emit();
  }

  /**
   * Serve with notifications: one while the model loads, then its URL with a
   * "Stop" action (kept until dismissed: the URL is what the user came for),
   * or the server's reason it could not.
   */
  async serveAndNotify(
    name: string,
    version: number
  ): Promise<IServedModel | null> {
    const uri = `models:/${name}/${version}`;
    const id = Notification.emit(
      `Starting a scoring server for ${uri}…`,
      'in-progress',
      {
        autoClose: false
      }
    );
    try {
      const served = await this.serve(name, version);
      Notification.update({
        id,
        message: `Serving ${uri} at ${served.url} (POST ${served.invocations_url})`,
        type: 'success',
        autoClose: false,
        actions: [
          {
            label: 'Stop',
            caption: `Stop the scoring server of ${uri}`,
            callback: () => void this.stopAndNotify(served)
          }
        ]
      });
      return served;
    } catch (error) {
      Notification.update({
        id,
        message: `Cannot serve ${uri}: ${(error as Error).message}`,
        type: 'error',
        autoClose: false
      });
      return null;
    }
  }

  /** Stop with a notification of the outcome. */
  async stopAndNotify(served: IServedModel): Promise<void> {
    try {
      await this.stop(served.server_id);
      Notification.info(`Stopped serving ${served.model_uri}`, {
        autoClose: 5000
      });
    } catch (error) {
      Notification.error(
        `Cannot stop ${served.model_uri}: ${(error as Error).message}`
      );
    }
  }

  private readonly _changed = new Signal<this, void>(this);
}
