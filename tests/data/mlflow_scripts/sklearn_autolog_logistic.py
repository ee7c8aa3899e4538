# In the style of MLflow's examples/sklearn_autolog (linear_regression.py and its
# utils.fetch_logged_data), with a logistic regression. Only the import line is changed.
import numpy as np
from sklearn.linear_model import LogisticRegression

import nbtrack as mlflow


def yield_artifacts(run_id, path=None):
    """Yield all artifacts in the specified run"""
    client = mlflow.MlflowClient()
    for item in client.list_artifacts(run_id, path):
        if item.is_dir:
            yield from yield_artifacts(run_id, item.path)
        else:
            yield item.path


def fetch_logged_data(run_id):
    """Fetch params, metrics, tags, and artifacts in the specified run"""
    client = mlflow.MlflowClient()
    data = client.get_run(run_id).data
    # Exclude system tags: https://www.mlflow.org/docs/latest/tracking.html#system-tags
    tags = {k: v for k, v in data.tags.items() if not k.startswith("mlflow.")}
    artifacts = list(yield_artifacts(run_id))
    return {
        "params": data.params,
        "metrics": data.metrics,
        "tags": tags,
        "artifacts": artifacts,
    }


def main():
    # enable autologging
    mlflow.sklearn.autolog()

    # prepare training data
    X = np.array([[-2, -1], [-1, -1], [-1, -2], [1, 1], [1, 2], [2, 1], [3, 2], [-3, -1]])
    y = np.array([0, 0, 0, 1, 1, 1, 1, 0])

    # train a model
    model = LogisticRegression(C=0.7, max_iter=200)
    with mlflow.start_run() as run:
        model.fit(X, y)
        print(f"Logged data and model in run {run.info.run_id}")

    # show logged data
    for key, data in fetch_logged_data(run.info.run_id).items():
        print(f"\n---------- logged {key} ----------")
        print(data)

    loaded = mlflow.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    print("predictions:", loaded.predict(X).tolist())


if __name__ == "__main__":
    main()
