"""The Python API: what port/generate/to_json accept, what they refuse and how they say it."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import mcuport
from mcuport.host import HostModel

from conftest import SEED, split


@pytest.fixture(scope="module")
def iris_forest():
    X_train, _, y_train, _ = split("iris")
    return RandomForestClassifier(n_estimators=10, max_depth=4, random_state=SEED).fit(
        X_train, y_train
    )


def test_port_returns_a_header_with_the_model_name(iris_forest):
    header = mcuport.port(iris_forest, name="iris_rf")
    assert "#ifndef IRIS_RF_MCUPORT_H" in header
    assert "static inline int32_t iris_rf_predict(const float x[])" in header
    assert "#define IRIS_RF_N_CLASSES 3" in header


def test_default_numeric_follows_the_target(iris_forest):
    assert mcuport.generate(iris_forest).numeric == "float"  # host has an FPU
    assert mcuport.generate(iris_forest, target="cortex-m0").numeric == "fixed"
    assert mcuport.generate(iris_forest, target="cortex-m0", numeric="float").numeric == "float"


def test_layout_is_chosen_from_the_flash_budget_and_can_be_asked_for(iris_forest):
    # A small forest is fast code on the host and on a 32 KB ATmega328P.
    assert mcuport.generate(iris_forest).layout == "fast"
    assert mcuport.generate(iris_forest, target="atmega328p").layout == "fast"
    fast = mcuport.generate(iris_forest, layout="fast")
    compact = mcuport.generate(iris_forest, layout="compact")
    assert (fast.layout, compact.layout) == ("fast", "compact")
    assert "/* tree 9 */" in fast.header and "model_find_leaf" not in fast.header
    assert "model_find_leaf" in compact.header and "/* tree 0 */" not in compact.header
    assert compact.table_bytes > fast.table_bytes  # the fast layout's splits are code
    # The same answers, whichever the layout.
    X = split("iris")[1].astype(np.float32)
    with HostModel(fast) as a, HostModel(compact) as b:
        np.testing.assert_array_equal(a.run(X)[0], b.run(X)[0])
        np.testing.assert_array_equal(a.run(X)[1], b.run(X)[1])


def test_a_forest_too_large_for_fast_code_on_the_target_gets_the_compact_layout():
    X_train, _, y_train, _ = split("digits")
    forest = RandomForestClassifier(n_estimators=30, random_state=SEED).fit(X_train, y_train)
    # About 4,500 splits: fast code (typically 13 bytes a split on Cortex-M4F, 15 on Cortex-M0)
    # fits a quarter of a Cortex-M4F's 1 MB of flash, not a quarter of a Cortex-M0's 256 KB.
    assert mcuport.generate(forest, target="cortex-m4f", numeric="fixed",
                            calibration=X_train).layout == "fast"
    assert mcuport.generate(forest, target="cortex-m0", numeric="fixed",
                            calibration=X_train).layout == "compact"


@pytest.mark.parametrize(
    "layout, error, message",
    [
        ("tiny", ValueError, "layout must be 'fast' or 'compact'"),
        ("Fast", ValueError, "layout must be 'fast' or 'compact'"),
    ],
)
def test_layout_errors(iris_forest, layout, error, message):
    with pytest.raises(error, match=re.escape(message)):
        mcuport.generate(iris_forest, layout=layout)


@pytest.mark.parametrize("proba_bits", [0, 4, 12, 32, "8", True])
def test_proba_bits_errors(iris_forest, proba_bits):
    with pytest.raises(ValueError, match=re.escape("proba_bits must be 8 or 16")):
        mcuport.generate(iris_forest, numeric="fixed", proba_bits=proba_bits)


def test_proba_bits_applies_to_fixed_mode_trees_only(iris_forest):
    X_train, _, y_train, _ = split("iris")
    from sklearn.naive_bayes import GaussianNB

    with pytest.raises(mcuport.ModelError, match="proba_bits applies to fixed mode"):
        mcuport.generate(iris_forest, numeric="float", proba_bits=8)
    with pytest.raises(mcuport.ModelError, match="applies to tree models .* not to GaussianNB"):
        mcuport.generate(GaussianNB().fit(X_train, y_train), numeric="fixed", proba_bits=8)
    default = mcuport.generate(iris_forest, numeric="fixed")
    narrow = mcuport.generate(iris_forest, numeric="fixed", proba_bits=8)
    assert (default.proba_bits, narrow.proba_bits) == (16, 8)
    assert mcuport.generate(iris_forest, numeric="fixed", proba_bits=16).header == default.header
    assert "#define MODEL_PROBA_ONE 2550 " in narrow.header  # 10 trees of 255
    assert mcuport.generate(iris_forest).proba_bits is None  # float mode


def test_a_model_that_fits_only_with_8_bit_probabilities_is_refused_with_that_hint():
    """port() refuses tables larger than the target's flash; when 8-bit leaf probabilities
    would make them fit, the message says so, with their size. A decision tree keeps every
    leaf's probabilities for its 10 classes: 2,000 leaves take about 46 KB at 16 bits and 29 KB
    at 8; 6,000 leaves do not fit a 32 KB ATmega328P either way."""
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=40000, n_features=16, n_informative=12, n_classes=10,
                               random_state=SEED)
    options = dict(numeric="fixed", calibration=X, layout="compact", target="atmega328p")
    tree = DecisionTreeClassifier(max_leaf_nodes=2000, min_samples_leaf=3,
                                  random_state=SEED).fit(X, y)
    with pytest.raises(mcuport.ModelError) as refused:
        mcuport.generate(tree, **options)
    narrow = mcuport.generate(tree, proba_bits=8, **options)
    message = str(refused.value)
    assert "avr-atmega328p" in message
    assert "with proba_bits=8, 8-bit leaf probabilities" in message
    assert f"they take {narrow.table_bytes} bytes" in message
    assert narrow.table_bytes <= 32768 and narrow.proba_bits == 8
    big = DecisionTreeClassifier(max_leaf_nodes=6000, min_samples_leaf=3,
                                 random_state=SEED).fit(X, y)
    with pytest.raises(mcuport.ModelError) as refused:
        mcuport.generate(big, **options)
    assert "proba_bits" not in str(refused.value)


def test_layout_is_refused_for_models_that_are_not_trees():
    X_train, _, y_train, _ = split("iris")
    from sklearn.naive_bayes import GaussianNB

    model = GaussianNB().fit(X_train, y_train)
    assert mcuport.generate(model).layout is None
    with pytest.raises(mcuport.ModelError, match="applies to tree models .* not to GaussianNB"):
        mcuport.generate(model, layout="compact")


def test_output_is_deterministic_across_processes(iris_forest, tmp_path):
    document = mcuport.to_json(iris_forest)
    (tmp_path / "model.json").write_text(document)
    script = (
        "import sys, mcuport; "
        "sys.stdout.write(mcuport.port(open(sys.argv[1]).read(), numeric=sys.argv[2]))"
    )
    for numeric in ("float", "fixed"):
        runs = {
            subprocess.run(
                [sys.executable, "-c", script, str(tmp_path / "model.json"), numeric],
                capture_output=True, text=True, check=True,
            ).stdout
            for _ in range(2)
        }
        assert len(runs) == 1
        assert runs == {mcuport.port(document, numeric=numeric)}


def test_to_json_carries_the_model(iris_forest):
    document = json.loads(mcuport.to_json(iris_forest, calibration=split("iris")[0]))
    assert document["format"] == "mcuport-model" and document["format_version"] == 1
    assert document["kind"] == "tree_ensemble"
    assert document["estimator"] == "RandomForestClassifier"
    assert document["classes"] == [0, 1, 2]
    assert len(document["params"]["trees"]) == 10
    assert len(document["input_ranges"]) == 4
    tree = iris_forest.estimators_[0].tree_
    assert document["params"]["trees"][0]["threshold"] == tree.threshold.tolist()


def test_unfitted_estimator_is_a_value_error():
    with pytest.raises(ValueError, match="not fitted yet: call fit"):
        mcuport.port(RandomForestClassifier())


@pytest.mark.parametrize("estimator", [LogisticRegression(), KMeans(n_clusters=2), object()])
def test_unsupported_estimator_is_a_type_error_listing_the_supported(estimator):
    with pytest.raises(TypeError, match="supported estimators: DecisionTreeClassifier"):
        mcuport.port(estimator)


def test_multi_output_is_refused():
    X = np.random.default_rng(0).normal(size=(50, 3))
    Y = np.stack([X[:, 0] > 0, X[:, 1] > 0], axis=1).astype(int)
    with pytest.raises(ValueError, match="multi-output"):
        mcuport.port(DecisionTreeClassifier().fit(X, Y))
    with pytest.raises(ValueError, match="multi-output"):
        mcuport.port(RandomForestRegressor(n_estimators=2).fit(X, X[:, :2]))


@pytest.mark.parametrize(
    "options, message",
    [
        ({"name": "2fast"}, "does not start with a letter"),
        ({"name": "my model"}, "not a letter, digit or underscore"),
        ({"name": "static"}, "is a C or C\\+\\+ keyword"),
        ({"name": "a__b"}, "reserved in C and C\\+\\+"),
        ({"numeric": "double"}, "numeric must be 'float' or 'fixed'"),
        ({"target": "z80"}, "unknown target \"z80\" \\(known targets: host, cortex-m0"),
        ({"calibration": np.zeros((3, 5))}, "calibration must have shape"),
        ({"calibration": [[0, 0, np.nan, 0]]}, "NaN or infinite value \\(row 0, column 2\\)"),
        ({"input_ranges": [(0, 1)] * 3}, "one \\(low, high\\) pair per feature"),
        ({"input_ranges": [(1, 0)] * 4}, "low <= high"),
        ({"input_ranges": [(0, 1)] * 4, "calibration": np.zeros((1, 4))}, "not both"),
        ({"classmap": {0: "a", 1: "b"}}, "missing indices \\[2\\]"),
        ({"classmap": {0: "a", 1: "b", 2: "c", 3: "d"}}, "unknown keys \\[3\\]"),
    ],
)
def test_bad_options_are_value_errors(iris_forest, options, message):
    with pytest.raises(ValueError, match=message):
        mcuport.port(iris_forest, **options)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"name": 5}, "name must be a str \\(or None\\), got int"),
        ({"name": ["m"]}, "name must be a str \\(or None\\), got list"),
        ({"target": 5}, "target must be a str \\(or None\\), got int"),
    ],
)
def test_options_of_the_wrong_type_are_type_errors_naming_the_option(iris_forest, options,
                                                                      message):
    """They reached the extension's argument check, whose TypeError ("incompatible function
    arguments") named no option."""
    with pytest.raises(TypeError, match=message):
        mcuport.port(iris_forest, **options)


def test_a_float_proba_bits_is_refused_by_name(iris_forest):
    """8.0 equals 8, so it passed the check and reached the extension's generic TypeError."""
    with pytest.raises(ValueError, match=re.escape("proba_bits must be 8 or 16 (or None), got "
                                                   "8.0 (float)")):
        mcuport.port(iris_forest, numeric="fixed", proba_bits=8.0)


@pytest.mark.parametrize(
    "options, error, message",
    [
        ({"target": 5}, TypeError, re.escape("target must be a str (or None), got int")),
        ({"proba_bits": 8.0}, ValueError,
         re.escape("proba_bits must be 8 or 16 (or None), got 8.0 (float)")),
        ({"proba_bits": 12}, ValueError,
         re.escape("proba_bits must be 8 or 16 (or None), got 12 (int)")),
    ],
)
def test_load_names_an_option_of_the_wrong_type(iris_forest, options, error, message):
    with pytest.raises(error, match=message):
        mcuport.load(iris_forest, **options)


def test_load_takes_none_for_its_defaults_as_port_does(iris_forest):
    X = split("iris")[1]
    expected = mcuport.load(iris_forest).predict_codes(mcuport.load(iris_forest).quantize(X))
    simulated = mcuport.load(iris_forest, target=None, proba_bits=None)
    assert simulated.target == "host"
    np.testing.assert_array_equal(simulated.predict_codes(simulated.quantize(X)), expected)
    with pytest.raises(ValueError, match="X must be an array of numbers of shape "
                                         r"\(n_samples, 4\): it holds complex numbers"):
        simulated.predict(X + 1j)


def test_a_numpy_integer_proba_bits_is_taken(iris_forest):
    header = mcuport.port(iris_forest, numeric="fixed", proba_bits=np.int64(8))
    assert header == mcuport.port(iris_forest, numeric="fixed", proba_bits=8)


def test_model_errors_name_the_json_path(iris_forest):
    document = json.loads(mcuport.to_json(iris_forest))
    document["params"]["trees"][3]["children_left"][0] = 10**6
    with pytest.raises(mcuport.ModelError, match=r"^\(/params/trees/3/children_left/0\) "):
        mcuport.port(json.dumps(document))
    assert issubclass(mcuport.ModelError, ValueError)


def test_classmap_sets_the_labels(iris_forest, tmp_path):
    classmap = {0: "setosa", 1: "versicolor", 2: "virginica"}
    generated = mcuport.generate(iris_forest, classmap=classmap)
    with HostModel(generated, workdir=tmp_path) as model:
        labels = model.labels()
    assert labels == [None, b"setosa", b"versicolor", b"virginica", None]


HOSTILE_LABELS = [
    'quote " and \\ backslash',
    "*/ int evil; /*",
    "// line comment\n#define predict 0",
    "??/ trigraph ??= ??'",
    "caf\u00e9 \u2603 \U0001f600",
    "tab\tand\rreturn",
]


@pytest.mark.parametrize("numeric", ["float", "fixed"])
def test_hostile_labels_stay_data(iris_forest, numeric, tmp_path):
    classmap = dict(enumerate(HOSTILE_LABELS[:3]))
    generated = mcuport.generate(iris_forest, classmap=classmap, numeric=numeric)
    with HostModel(generated, workdir=tmp_path) as model:
        labels = model.labels()
    assert labels[1:4] == [label.encode() for label in HOSTILE_LABELS[:3]]
    for label in HOSTILE_LABELS:
        generated = mcuport.generate(iris_forest, classmap={0: label, 1: "b", 2: "c"})
        code = generated.header
        # No raw control characters or non-ASCII bytes anywhere, and outside the string
        # literals (where the label is data) none of the label's fragments.
        assert all(ch == "\n" or 0x20 <= ord(ch) < 0x7F for ch in code)
        outside_literals = re.sub(r'"(?:[^"\\\n]|\\.)*"', '""', code)
        for fragment in ("#define predict", "int evil", "??/", "caf"):
            assert fragment not in outside_literals
        with HostModel(generated, workdir=tmp_path / "h") as model:
            assert model.labels()[1] == label.encode()


def test_labels_of_numeric_and_string_classes(tmp_path):
    X_train, _, y_train, _ = split("iris")
    names = np.array(["setosa", "versicolor", "virginica"])[y_train]
    tree = DecisionTreeClassifier(max_depth=2, random_state=SEED).fit(X_train, names)
    with HostModel(mcuport.generate(tree), workdir=tmp_path) as model:
        assert model.labels()[1:4] == [b"setosa", b"versicolor", b"virginica"]
    tree = DecisionTreeClassifier(max_depth=2, random_state=SEED).fit(X_train, y_train * 10 - 5)
    with HostModel(mcuport.generate(tree), workdir=tmp_path / "n") as model:
        assert model.labels()[1:4] == [b"-5", b"5", b"15"]


def test_host_model_stops_code_that_never_returns(iris_forest, tmp_path):
    """A predict that never returns (a broken header) is a RuntimeError after the timeout, not a
    hung caller."""
    generated = mcuport.generate(iris_forest, name="m")
    entry = "static inline int32_t m_predict(const float x[]) {\n"
    assert entry in generated.header
    header = generated.header.replace(
        entry, entry + "    volatile int spin = 1;\n    while (spin) {\n    }\n")
    broken = dataclasses.replace(generated, header=header)
    with HostModel(broken, workdir=tmp_path, timeout=2) as model:
        with pytest.raises(RuntimeError, match=r"did not finish within 2 s"):
            model.run(np.zeros((1, 4), np.float32))


def test_a_model_document_ports_like_the_estimator(iris_forest):
    document = mcuport.to_json(iris_forest)
    assert mcuport.port(document) == mcuport.port(iris_forest)
    with pytest.raises(ValueError, match="already carries"):
        mcuport.port(document, calibration=np.zeros((1, 4)))


def test_regressor_without_calibration_uses_split_thresholds():
    X_train, _, y_train, _ = split("diabetes")
    tree = DecisionTreeRegressor(max_depth=3, random_state=SEED).fit(X_train, y_train)
    generated = mcuport.generate(tree, numeric="fixed")
    assert "span of the split thresholds" in generated.header
    thresholds = tree.tree_.threshold[tree.tree_.children_left != -1]
    features = tree.tree_.feature[tree.tree_.children_left != -1]
    low, high = generated.input_quantization[features, 0], generated.input_quantization[features, 1]
    assert np.all((low < thresholds) & (thresholds < high))


def test_targets_are_listed():
    names = [t["name"] for t in mcuport.targets()]
    assert names[0] == "host" and "cortex-m0" in names
