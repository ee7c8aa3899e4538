# MLflow's custom PythonModel example (docs: "Creating custom Pyfunc models"): AddN,
# saved, loaded and logged with an artifact. Only the import lines are changed.
import os
import tempfile

import pandas as pd

import nbtrack as mlflow
import nbtrack.pyfunc


# Define the model class
class AddN(mlflow.pyfunc.PythonModel):
    def __init__(self, n):
        self.n = n

    def predict(self, context, model_input, params=None):
        return model_input.apply(lambda column: column + self.n)


class AddFromFile(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        with open(context.artifacts["n"]) as f:
            self.n = int(f.read())

    def predict(self, context, model_input, params=None):
        return model_input.apply(lambda column: column + self.n)


# Construct and save the model
model_path = os.path.join(tempfile.mkdtemp(), "add_n_model")
add5_model = AddN(n=5)
mlflow.pyfunc.save_model(path=model_path, python_model=add5_model)

# Load the model in `python_function` format
loaded_model = mlflow.pyfunc.load_model(model_path)

# Evaluate the model
model_input = pd.DataFrame([range(10)])
model_output = loaded_model.predict(model_input)
assert model_output.equals(pd.DataFrame([range(5, 15)]))

# Log a model that reads its n from an artifact, then load it from the run
n_file = os.path.join(tempfile.mkdtemp(), "n.txt")
with open(n_file, "w") as f:
    f.write("7")
with mlflow.start_run() as run:
    info = mlflow.pyfunc.log_model(
        name="add_from_file",
        python_model=AddFromFile(),
        artifacts={"n": n_file},
        input_example=pd.DataFrame({"x": [1, 2]}),
    )
loaded = mlflow.pyfunc.load_model(info.model_uri)
print(loaded.predict(pd.DataFrame({"x": [1, 2]})).to_dict("list"))
print(f"run_id={run.info.run_id}")
