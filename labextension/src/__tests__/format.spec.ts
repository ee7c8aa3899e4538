import {
  IRun,
  ariaSort,
  artifactMimeType,
  chooseColumns,
  columnValue,
  formatDuration,
  formatNumber,
  formatShortTime,
  lineageNotebook,
  linePath,
  loadsNbtrack,
  nextSort,
  notebookFilterEndpoint,
  parseModelVersion,
  quoteKey,
  runsQueryString
} from '../format';

function run(
  params: Record<string, string>,
  metrics: Record<string, number | string>
): IRun {
  return {
    info: {
      run_id: 'a'.repeat(32),
      run_name: 'r',
      experiment_id: '1',
      status: 'FINISHED',
      start_time: 1000,
      end_time: 4000,
      lifecycle_stage: 'active',
      user_id: 'u',
      artifact_uri: ''
    },
    params,
    metrics,
    tags: {}
  };
}

describe('runsQueryString', () => {
  it('encodes the filter, order and page', () => {
    const q = runsQueryString({
      experimentId: '3',
      filter: " params.model = 'rf' ",
      sort: { key: 'metrics.rmse', ascending: true },
      maxResults: 100,
      pageToken: 'abc'
    });
    const parsed = new URLSearchParams(q);
    expect(parsed.get('experiment_id')).toBe('3');
    expect(parsed.get('filter')).toBe("params.model = 'rf'");
    expect(parsed.getAll('order_by')).toEqual(['metrics.rmse ASC']);
    expect(parsed.get('page_token')).toBe('abc');
  });

  it('leaves out an empty filter and no sort', () => {
    const q = runsQueryString({
      experimentId: '1',
      filter: '  ',
      sort: null,
      maxResults: 5
    });
    expect(q).toBe('experiment_id=1&max_results=5');
  });
});

describe('sorting', () => {
  it('starts ascending and flips on the same key', () => {
    const first = nextSort(null, 'metrics.rmse');
    expect(first).toEqual({ key: 'metrics.rmse', ascending: true });
    expect(nextSort(first, 'metrics.rmse').ascending).toBe(false);
    expect(nextSort(first, 'params.alpha')).toEqual({
      key: 'params.alpha',
      ascending: true
    });
    expect(ariaSort(first, 'metrics.rmse')).toBe('ascending');
    expect(ariaSort(first, 'params.alpha')).toBe('none');
  });

  it('backquotes keys the grammar cannot read bare', () => {
    expect(quoteKey('metrics', 'rmse')).toBe('metrics.rmse');
    expect(quoteKey('metrics', 'f1 score')).toBe('metrics.`f1 score`');
  });
});

describe('columns', () => {
  it('takes configured columns, else the first keys found', () => {
    const runs = [
      run({ b: '1', a: '2' }, { loss: 0.5 }),
      run({ c: '3' }, { acc: 1 })
    ];
    expect(chooseColumns(runs, ['metrics.loss', 'bogus'])).toEqual([
      'metrics.loss'
    ]);
    expect(chooseColumns(runs, [], 2)).toEqual([
      'metrics.acc',
      'metrics.loss',
      'params.a',
      'params.b'
    ]);
    expect(columnValue(runs[0], 'metrics.loss')).toBe('0.5');
    expect(columnValue(runs[0], 'params.c')).toBe('');
  });
});

describe('formatting', () => {
  it('formats durations and numbers', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(12_340)).toBe('12.3 s');
    expect(formatDuration(245_000)).toBe('4m 05s');
    expect(formatDuration(7_380_000)).toBe('2h 03m');
    expect(formatDuration(null)).toBe('');
    expect(formatNumber(0.123456)).toBe('0.1235');
    expect(formatNumber(3)).toBe('3');
    expect(formatNumber('NaN')).toBe('NaN');
    expect(formatNumber(1.5e-7)).toBe('1.500e-7');
    const noon = new Date(2026, 10, 22, 12, 0, 5).getTime();
    expect(formatShortTime(noon, noon + 1000)).toBe('12:00:05');
    expect(formatShortTime(noon, noon + 3 * 86_400_000)).toBe('11-22 12:00');
  });
});

describe('linePath', () => {
  it('maps points into the box, skipping non-finite values', () => {
    const g = linePath(
      [
        [0, 0, 1],
        [1, 0, 'NaN'],
        [2, 0, 0]
      ],
      100,
      50,
      0
    );
    expect(g.plotted).toBe(2);
    expect(g.path).toBe('M0.0,0.0 L100.0,50.0');
    expect([g.yMin, g.yMax, g.xMin, g.xMax]).toEqual([0, 1, 0, 2]);
  });
});

describe('loadsNbtrack', () => {
  it('finds %load_ext nbtrack on any line', () => {
    expect(loadsNbtrack(['import os', 'x = 1\n%load_ext nbtrack'])).toBe(true);
    expect(loadsNbtrack(['%load_ext nbtrackx', '# %load_ext nbtrack'])).toBe(
      false
    );
  });
});

describe('notebookFilterEndpoint', () => {
  it('asks the server for the filter, the path URL-encoded', () => {
    expect(notebookFilterEndpoint("a/it's 50%.ipynb")).toBe(
      "notebook-filter?path=a%2Fit's%2050%25.ipynb"
    );
  });
});

describe('artifacts and lineage', () => {
  it('opens images, JSON and text in JupyterLab viewers by name; others are downloads', () => {
    expect(artifactMimeType('plots/roc.PNG')).toBe('image/png');
    expect(artifactMimeType('plots/roc.svg')).toBe('image/svg+xml');
    expect(artifactMimeType('model/MLmodel')).toBe('text/plain');
    expect(artifactMimeType('eval/metrics.json')).toBe('application/json');
    expect(artifactMimeType('conda.yaml')).toBe('text/plain');
    expect(artifactMimeType('table.csv')).toBe('text/plain');
    expect(artifactMimeType('model.pkl')).toBeNull();
    expect(artifactMimeType('.json')).toBeNull();
    expect(artifactMimeType('Makefile')).toBeNull();
  });

  it('turns executions into an nbformat 4 notebook', () => {
    const nb = lineageNotebook('r', [
      { source: 'a = 1', execution_count: 1 },
      { source: 'print(a)', execution_count: 2 }
    ]) as {
      nbformat: number;
      cells: Array<{ source: string; cell_type: string }>;
    };
    expect(nb.nbformat).toBe(4);
    expect(nb.cells.map(c => c.source)).toEqual(['a = 1', 'print(a)']);
    expect(nb.cells.every(c => c.cell_type === 'code')).toBe(true);
  });
});

describe('serving', () => {
  it('reads a registered model version from what the user typed', () => {
    expect(parseModelVersion('models:/wine-model/3')).toEqual({
      name: 'wine-model',
      version: 3
    });
    expect(parseModelVersion(' line/1 ')).toEqual({ name: 'line', version: 1 });
    expect(parseModelVersion('models:/wine-model@champion')).toBeNull();
    expect(parseModelVersion('models:/wine-model/latest')).toBeNull();
  });
});
