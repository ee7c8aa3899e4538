"""The regression recipe's cells: diabetes data, a scaled ridge regression."""

from __future__ import annotations

__all__ = ["cells"]


def cells(name: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """Return ``(cell type, source, tags)`` for each cell of the recipe named ``name``."""
    return [
        (
            "markdown",
            f"""
# {name}: a regression recipe

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
alpha = 1.0
min_r2 = 0.3
registered_model_name = "{name}"
""",
            ("parameters",),
        ),
        ("markdown", "## Ingest", ()),
        (
            "code",
            """
%%track ingest
from sklearn.datasets import load_diabetes

frame = load_diabetes(as_frame=True).frame
nbt.log_input(nbt.data.from_pandas(frame, targets="target", name="diabetes"), context="ingest")
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

train, test = train_test_split(frame, test_size=test_size, random_state=random_state)
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
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

X_train, y_train = train.drop(columns="target"), train["target"]
model = make_pipeline(StandardScaler(), Ridge(alpha=alpha))
model.fit(X_train, y_train)
nbt.log_params({"alpha": alpha})
model_info = nbt.sklearn.log_model(model, name="model", input_example=X_train.head(5))
""",
            (),
        ),
        ("markdown", "## Evaluate\n\nThe step fails if R² is under `min_r2`.", ()),
        (
            "code",
            """
%%track evaluate
result = nbt.evaluate(
    model_info.model_uri,
    test,
    targets="target",
    model_type="regressor",
    thresholds={"r2_score": nbt.Threshold(min_absolute=min_r2)},
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
