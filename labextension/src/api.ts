/**
 * Calls to nbtrack's Jupyter server extension (`/nbtrack/api/…`) through
 * `ServerConnection.makeRequest`, so Jupyter's auth token and XSRF cookie
 * travel with every request.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { artifactPath } from './format';

/** An error answer of the API: its `message` is meant for the user (filter positions…). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly errorCode: string
  ) {
    super(message);
  }
}

/** Call `nbtrack/api/<endpoint>` (GET unless `init` says) and parse its JSON; errors become {@link ApiError}. */
export async function requestAPI<T>(
  endpoint: string,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings(),
  init: RequestInit = {}
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, 'nbtrack', 'api', endpoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }
  const text = await response.text();
  let body: any = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    throw new ApiError(
      body?.message ?? `${response.status} ${response.statusText}`,
      response.status,
      body?.error_code ?? 'HTTP_ERROR'
    );
  }
  return body as T;
}

/** An artifact's bytes as a fetch `Response`; an error answer becomes {@link ApiError}. */
export async function artifactResponse(
  runId: string,
  path: string,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<Response> {
  const response = await ServerConnection.makeRequest(
    artifactUrl(runId, path, settings),
    {},
    settings
  );
  if (!response.ok) {
    const text = await response.text();
    let message = text;
    try {
      message = JSON.parse(text).message ?? text;
    } catch {
      // Not JSON: the text itself is the message.
    }
    throw new ApiError(message, response.status, 'HTTP_ERROR');
  }
  return response;
}

/** The absolute URL of an artifact's bytes, for links (the session cookie authenticates). */
export function artifactUrl(
  runId: string,
  path: string,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): string {
  return URLExt.join(settings.baseUrl, artifactPath(runId, path));
}

/** `GET experiments`. */
export interface IExperiment {
  experiment_id: string;
  name: string;
  lifecycle_stage: string;
  creation_time: number | null;
  last_update_time: number | null;
  tags: Record<string, string>;
}

/** `GET runs/{id}/metrics/{key}`. */
export interface IMetricHistory {
  key: string;
  total: number;
  downsampled: boolean;
  points: Array<[number, number, number | string]>;
}

/** `GET runs/{id}/artifacts`. */
export interface IArtifactList {
  path: string;
  files: Array<{ path: string; is_dir: boolean; file_size: number | null }>;
}

/** `GET runs/{id}/lineage`. */
export interface ILineage {
  script: string;
  executions: Array<{
    cell_id: string | null;
    execution_count: number | null;
    source: string;
    ok: boolean | null;
    start_time: number;
    duration_ms: number | null;
  }>;
}
