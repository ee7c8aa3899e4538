"""The classification recipe's cells: breast-cancer data, a scaled logistic regression."""

from __future__ import annotations

__all__ = ["cells"]


def cells(name: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """Return ``(cell type, source, tags)`` for each cell of the recipe named ``name``."""
    return [
        (
            "markdown",
            f"""
# {name}: a classification recipe

Run the cells from top to bottom. Each step is a `%%track` cell: a run in the
experiment `{name}` with the step's params, metrics, output and lineage.
Change the values in the `parameters` cell (or pass them with
`nbtrack run`/`nbtrack export -P name=value`); replace the **ingest** step with
your own data, keeping a DataFrame `frame` with a `target` column.
""",
            (),
        ),
        (
            "code",
            f"""
%load_ext nbtrack
import nbtrack as nbt

nbt.set_experiment("{name}")
""",
            (),
        ),
        (
            "code",
            f"""
test_size = 0.25
random_state = 42
C = 1.0
max_iter = 1000
min_accuracy = 0.9
registered_model_name = "{name}"
""",
            ("parameters",),
        ),
        ("markdown", "## Ingest", ()),
        (
            "code",
            """
%%track ingest
from sklearn.datasets import load_breast_cancer

frame = load_breast_cancer(as_frame=True).frame
nbt.log_input(nbt.data.from_pandas(frame, targets="target", name="breast_cancer"), context="ingest")
rows = len(frame)
""",
            (),
        ),
        ("markdown", "## Split", ()),
        (
            "code",
            """
%%track split
from sklearn.model_selection import train_test_split

train, test = train_test_split(
    frame, test_size=test_size, random_state=random_state, stratify=frame["target"]
)
nbt.log_input(nbt.data.from_pandas(train, targets="target", name="train"), context="training")
nbt.log_input(nbt.data.from_pandas(test, targets="target", name="test"), context="evaluation")
train_rows, test_rows = len(train), len(test)
""",
            (),
        ),
        ("markdown", "## Train", ()),
        (
            "code",
            """
%%track train
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

X_train, y_train = train.drop(columns="target"), train["target"]
model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=max_iter))
model.fit(X_train, y_train)
nbt.log_params({"C": C, "max_iter": max_iter})
model_info = nbt.sklearn.log_model(model, name="model", input_example=X_train.head(5))
""",
            (),
        ),
        ("markdown", "## Evaluate\n\nThe step fails if accuracy is under `min_accuracy`.", ()),
        (
            "code",
            """
%%track evaluate
result = nbt.evaluate(
    model_info.model_uri,
    test,
    targets="target",
    model_type="classifier",
    thresholds={"accuracy_score": nbt.Threshold(min_absolute=min_accuracy)},
)
display(result)
""",
            (),
        ),
        ("markdown", "## Register", ()),
        (
            "code",
            """
%%track register
version = nbt.register_model(model_info.model_uri, registered_model_name)
print(f"Registered {version.name} version {version.version} from {model_info.model_uri}")
""",
            (),
        ),
    ]
