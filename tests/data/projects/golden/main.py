#!/usr/bin/env python
"""train.ipynb as a script, exported by nbtrack.

Run it as a project with `nbtrack run <folder> -P name=value` or
`mlflow run <folder> --env-manager local -P name=value`, or directly with
`python main.py --name value`. Parameters come from the notebook's cell
tagged "parameters"; each %%track cell runs as a nested run.
"""

import nbtrack_runtime

_project = nbtrack_runtime.ProjectRun({
    'alpha': ('float', 0.5),
    'l1_ratio': ('float', 0.1),
    'max_iter': ('int', 5000),
    'label': ('string', 'baseline'),
})


# # ElasticNet on the wine data, exported as an MLproject
# 
# Used by `tests/projects/`.

# In[ ]:


pass  # %load_ext nbtrack (notebook only)
pass  # %matplotlib inline (notebook only)


# In[ ]:


alpha = _project.params['alpha']
l1_ratio = _project.params['l1_ratio']
max_iter = _project.params['max_iter']
label = _project.params['label']


# In[ ]:


import numpy as np
from sklearn.datasets import load_wine
from sklearn.linear_model import ElasticNet
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split

X, y = load_wine(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
pass  # !echo 'shell escapes do not run in main.py' (shell escape, not run)


# In[ ]:


# %%track train -e wine
with _project.track_cell(
    'train',
    globals(),
    params=['alpha', 'l1_ratio', 'label', 'max_iter', 'note'],
    metrics=['model', 'rmse'],
    tags={'nbtrack.notebook.experiment': 'wine'},
):
    model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, max_iter=max_iter).fit(X_train, y_train)
    rmse = float(np.sqrt(mean_squared_error(y_test, model.predict(X_test))))
    note = """a string
spanning lines"""
    print(label, rmse)


# In[ ]:


# %%track score
with _project.track_cell('score', globals(), metrics=['r2']):
    r2 = model.score(X_test, y_test)


_project.end()
