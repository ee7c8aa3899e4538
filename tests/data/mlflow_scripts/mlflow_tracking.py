# MLflow's examples/quickstart/mlflow_tracking.py; only the import line is changed.
import os
from random import randint, random

from nbtrack import log_artifacts, log_metric, log_param, log_params

if __name__ == "__main__":
    print("Running mlflow_tracking.py")

    log_param("config_value", randint(0, 100))

    log_params({"param1": randint(0, 100), "param2": randint(0, 100)})

    log_metric("accuracy", random() / 2.0)
    log_metric("accuracy", random() + 0.1)
    log_metric("accuracy", random() + 0.2)

    if not os.path.exists("outputs"):
        os.makedirs("outputs")
    with open("outputs/test.txt", "w") as f:
        f.write("hello world!")

    log_artifacts("outputs")
