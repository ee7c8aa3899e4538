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

/** The scoring servers of one Jupyter server; `changed` fires after a start or a stop. */
export class ModelServing {
  constructor(private readonly serverSettings: ServerConnection.ISettings) {}

  /** Fires after a server started or stopped here. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The servers running now. */
  async list(): Promise<IServedModel[]> {
    return (
      await requestAPI<{ servers: IServedModel[] }>(
        'serving',
        this.serverSettings
      )
    ).servers;
  }

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
