"""Errors of the Python entrances, item by item (issue 7): unfitted and unsupported estimators,
inputs of the wrong shape, NaN in calibration data, classmaps that do not match the classes.

TypeError when the kind of object is wrong (not an estimator mcuport ports, a classmap that is
not a dict, a key that is not a class index, a label that is neither text nor a number);
ValueError when the object is of the right kind but its value is wrong (not fitted, a shape, a
NaN, a missing index, two classes with one label). Every message says what to do, which the
patterns below check, not only that something failed.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.covariance import (
    OAS,
    EllipticEnvelope,
    EmpiricalCovariance,
    LedoitWolf,
    MinCovDet,
    ShrunkCovariance,
)
from sklearn.decomposition import PCA
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler, PolynomialFeatures, StandardScaler
from sklearn.svm import SVC, LinearSVC, NuSVC, OneClassSVM
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import mcuport
from mcuport.exporters import EXPORTERS

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 4))
Y = (X[:, 0] + X[:, 1] > 0).astype(int)
Y3 = np.arange(40) % 3


@pytest.fixture(scope="module")
def tree():
    return DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, Y3)


ENTRANCES = {
    "port": lambda estimator, **options: mcuport.port(estimator, **options),
    "to_json": lambda estimator, **options: mcuport.to_json(estimator, **options),
    "load": lambda estimator, **options: mcuport.load(estimator, **options),
}

# --- Unfitted estimators -------------------------------------------------------------------

UNFITTED = [
    DecisionTreeClassifier(), DecisionTreeRegressor(), RandomForestClassifier(),
    RandomForestRegressor(), ExtraTreesClassifier(), ExtraTreesRegressor(), SVC(), NuSVC(),
    OneClassSVM(), LinearSVC(), GaussianNB(), PCA(), EllipticEnvelope(), EmpiricalCovariance(),
    MinCovDet(), ShrunkCovariance(), LedoitWolf(), OAS(),
    make_pipeline(StandardScaler(), GaussianNB()),
]


def test_every_supported_estimator_has_an_unfitted_case():
    # mcuport.Mahalanobis is complete when constructed: it cannot be unfitted.
    assert set(EXPORTERS) - {mcuport.Mahalanobis} == {type(e) for e in UNFITTED}


@pytest.mark.parametrize("entrance", sorted(ENTRANCES))
@pytest.mark.parametrize("estimator", UNFITTED, ids=lambda e: type(e).__name__)
def test_unfitted_estimator(estimator, entrance):
    with pytest.raises(ValueError, match=r"is not fitted yet: call fit\(X, y\) (on the pipeline )?"
                                         r"before porting it"):
        ENTRANCES[entrance](estimator)


@pytest.mark.parametrize("entrance", sorted(ENTRANCES))
def test_pipeline_with_a_fitted_stage_and_an_unfitted_estimator(entrance):
    pipeline = Pipeline([("scale", StandardScaler().fit(X)), ("nb", GaussianNB())])
    with pytest.raises(ValueError, match=r"the last step 'nb' \(GaussianNB\) of this Pipeline: "
                                         r"this GaussianNB is not fitted yet: call fit"):
        ENTRANCES[entrance](pipeline)


def test_pipeline_with_an_unfitted_stage_in_front_of_a_fitted_estimator():
    pipeline = Pipeline([("scale", StandardScaler()), ("nb", GaussianNB().fit(X, Y))])
    with pytest.raises(ValueError, match=r"step 'scale' \(StandardScaler\) of this Pipeline is not "
                                         r"fitted yet: call fit\(X, y\) on the pipeline"):
        mcuport.port(pipeline)


# --- Unsupported estimators ----------------------------------------------------------------

class MyTree(DecisionTreeClassifier):
    """A subclass may change what predict means: it is not assumed to be supported."""


UNSUPPORTED = {
    "LogisticRegression": (LogisticRegression(), "cannot port a LogisticRegression; supported "
                           r"estimators: DecisionTreeClassifier.*\(give a fitted one of these"),
    "fitted LogisticRegression": (LogisticRegression().fit(X, Y), "cannot port a "
                                  "LogisticRegression; supported estimators"),
    "KMeans": (KMeans(n_clusters=2, n_init=1).fit(X), "cannot port a KMeans; supported"),
    "subclass": (MyTree().fit(X, Y), "cannot port a MyTree; supported estimators"),
    "object": (object(), "cannot port a object; supported estimators"),
    "None": (None, "cannot port a NoneType; supported estimators"),
    "number": (42, "cannot port a int; supported estimators"),
    "class": (DecisionTreeClassifier, r"given the class DecisionTreeClassifier itself, not an "
              r"estimator: create and fit one first \(DecisionTreeClassifier\(...\).fit\(X, y\)\)"),
    "pipeline stage": (make_pipeline(PolynomialFeatures(), GaussianNB()).fit(X, Y),
                       r"step 'polynomialfeatures' \(PolynomialFeatures\) of this Pipeline cannot "
                       "be ported: every step but the last must be a StandardScaler"),
    "pipeline estimator": (make_pipeline(StandardScaler(), LogisticRegression()).fit(X, Y),
                           r"the last step 'logisticregression' \(LogisticRegression\) of this "
                           "Pipeline: mcuport cannot port a LogisticRegression"),
    "pipeline ending in a scaler": (make_pipeline(StandardScaler(), MinMaxScaler()).fit(X),
                                    "mcuport ports a pipeline ending in an estimator or PCA"),
}


@pytest.mark.parametrize("entrance", sorted(ENTRANCES))
@pytest.mark.parametrize("case", sorted(UNSUPPORTED))
def test_unsupported_estimator(case, entrance):
    estimator, message = UNSUPPORTED[case]
    with pytest.raises(TypeError, match=message):
        ENTRANCES[entrance](estimator)


# --- Documents given as text ---------------------------------------------------------------

@pytest.mark.parametrize("entrance", ["port", "load"])
def test_a_file_name_in_place_of_a_document_says_to_pass_the_contents(entrance):
    with pytest.raises(mcuport.ModelError, match=r"malformed model JSON: .*to use a file, pass its "
                                                 r"contents: open\(path\).read\(\)"):
        ENTRANCES[entrance]("models/fan.json")


@pytest.mark.parametrize("entrance", ["port", "load"])
@pytest.mark.parametrize("document", [b'{"format": "mcuport-model", "kind": "tr\xffe"}',
                                      '{"format": "mcuport-model", "kind": "tr\udcffe"}'],
                         ids=["bytes", "surrogate"])
def test_text_that_is_not_utf8_is_a_model_error_naming_the_string(entrance, document):
    """Not a UnicodeDecodeError from Python nor a TypeError from the binding: the core reads the
    bytes and names the string's pointer."""
    with pytest.raises(mcuport.ModelError, match=r"^\(/kind\) malformed model JSON: .*ill-formed "
                                                 r"UTF-8 byte"):
        ENTRANCES[entrance](document)


def test_load_of_a_document_refuses_estimator_options(tree):
    with pytest.raises(ValueError, match="apply to estimators; a model document already carries"):
        mcuport.load(mcuport.to_json(tree), calibration=X)


# --- Calibration data and input ranges -----------------------------------------------------

BAD_CALIBRATION = {
    "wrong width": (X[:, :3], r"calibration must have shape \(n_samples >= 1, 4\), one row per "
                    r"sample, one column per feature; got \(40, 3\); the model has 4 inputs: "
                    "pass data with the columns it was fitted on"),
    "one sample, 1-D": (X[0], r"got \(4,\); for one sample pass \[x\] or x.reshape\(1, -1\)"),
    "empty": (X[:0], r"got \(0, 4\); give at least one row"),
    "3-D": (X.reshape(2, 20, 4), r"calibration must have shape \(n_samples >= 1, 4\).*got "
            r"\(2, 20, 4\)"),
    "strings": ([["a", "b", "c", "d"]], r"calibration must be an array of numbers of shape "
                r"\(n_samples, 4\): could not convert string to float"),
    "ragged": ([[1, 2, 3, 4], [1, 2]], r"calibration must be an array of numbers of shape "
               r"\(n_samples, 4\)"),
    "NaN": (np.where(np.arange(160).reshape(40, 4) == 9, np.nan, X),
            r"calibration data holds a NaN or infinite value \(row 2, column 1\); remove or "
            "impute such rows first"),
    "infinity": ([[0, 0, 0, np.inf]], r"NaN or infinite value \(row 0, column 3\); remove"),
    "minus infinity": ([[0, 0, 0, 0], [0, -np.inf, 0, 0]], r"\(row 1, column 1\)"),
    "None": ([[0, None, 0, 0]], r"NaN or infinite value \(row 0, column 1\)"),
    # numpy drops the imaginary parts with only a ComplexWarning, even parts of 0
    "complex": (X + 1j, r"calibration must be an array of numbers of shape \(n_samples, 4\): it "
                "holds complex numbers; give real ones"),
    "complex, imaginary parts 0": (X.astype(np.complex128), "it holds complex numbers"),
    "beyond float32": ([[0, 0, 1e300, 0]], r"calibration value 1e\+300 \(row 0, column 2\) is "
                       "beyond the float32 range that inputs are compared in; remove such rows "
                       "or rescale the feature"),
}


@pytest.mark.parametrize("entrance", sorted(ENTRANCES))
@pytest.mark.parametrize("case", sorted(BAD_CALIBRATION))
def test_bad_calibration(tree, case, entrance):
    calibration, message = BAD_CALIBRATION[case]
    with pytest.raises(ValueError, match=message):
        ENTRANCES[entrance](tree, calibration=calibration)


GOOD_RANGE = (0.0, 1.0)
BAD_INPUT_RANGES = {
    "too few": ([GOOD_RANGE] * 3, r"one \(low, high\) pair per feature, shape \(4, 2\), got "
                r"\(3, 2\)"),
    "flat": ([0.0, 1.0] * 4, r"shape \(4, 2\), got \(8,\)"),
    "low above high": ([GOOD_RANGE, GOOD_RANGE, (2.0, 1.0), GOOD_RANGE],
                       r"input_ranges\[2\] = \(2.0, 1.0\) has low > high: give \(low, high\) "
                       "with low <= high"),
    "NaN": ([GOOD_RANGE, (0.0, np.nan), GOOD_RANGE, GOOD_RANGE],
            r"input_ranges\[1\] = \(0.0, nan\) is not finite: give finite bounds"),
    "infinite": ([(-np.inf, 0.0)] + [GOOD_RANGE] * 3, r"input_ranges\[0\] = \(-inf, 0.0\) is not "
                 "finite"),
    "None": ([GOOD_RANGE, GOOD_RANGE, GOOD_RANGE, (None, 1.0)], r"input_ranges\[3\] = \(nan, 1.0\)"
            " is not finite"),
    "text": ([GOOD_RANGE, ("low", "high"), GOOD_RANGE, GOOD_RANGE], r"input_ranges must be "
             r"numbers, one \(low, high\) pair per feature, shape \(4, 2\)"),
    "complex": (np.array([GOOD_RANGE] * 4) * (1 + 1j), r"input_ranges must be numbers, one "
                r"\(low, high\) pair per feature, shape \(4, 2\): it holds complex numbers"),
    "beyond float32": ([GOOD_RANGE, (0.0, 1e39), GOOD_RANGE, GOOD_RANGE],
                       r"input_ranges\[1\] = \(0.0, 1e\+39\) reaches beyond the float32 range"),
}


@pytest.mark.parametrize("entrance", sorted(ENTRANCES))
@pytest.mark.parametrize("case", sorted(BAD_INPUT_RANGES))
def test_bad_input_ranges(tree, case, entrance):
    ranges, message = BAD_INPUT_RANGES[case]
    with pytest.raises(ValueError, match=message):
        ENTRANCES[entrance](tree, input_ranges=ranges)


def test_calibration_and_input_ranges_together(tree):
    with pytest.raises(ValueError, match="give calibration or input_ranges, not both"):
        mcuport.port(tree, calibration=X, input_ranges=[GOOD_RANGE] * 4)


# --- Inputs of the simulated model ---------------------------------------------------------

@pytest.fixture(scope="module")
def simulated(tree):
    return mcuport.load(tree, calibration=X)


@pytest.mark.parametrize("method", ["predict", "decision_function", "quantize"])
@pytest.mark.parametrize(
    "inputs, message",
    [
        (X[:, :3], r"X must have shape \(n_samples, 4\), one column per feature of the model; "
                   r"got \(40, 3\)"),
        (X[0], r"got \(4,\); for one sample pass \[x\] or x.reshape\(1, -1\)"),
        (X[None], r"got \(1, 40, 4\)"),
        ([["a", "b", "c", "d"]], r"X must be an array of numbers of shape \(n_samples, 4\): "
                                 "could not convert string to float"),
    ],
    ids=["wrong width", "1-D", "3-D", "strings"],
)
def test_simulated_model_inputs_of_the_wrong_shape(simulated, method, inputs, message):
    with pytest.raises(ValueError, match=message):
        getattr(simulated, method)(inputs)


@pytest.mark.parametrize("method", ["predict_codes", "scores_codes"])
def test_simulated_model_codes_of_the_wrong_shape(simulated, method):
    with pytest.raises(ValueError, match=r"codes must have shape \(n_samples, 4\).*got \(2, 5\)"):
        getattr(simulated, method)(np.zeros((2, 5), np.int16))
    with pytest.raises(ValueError, match=r"int16 range"):
        getattr(simulated, method)(np.full((1, 4), 40000))


def test_simulated_model_accepts_one_row(simulated, tree):
    assert simulated.predict(X[:1]).shape == (1,)


# --- classmap ------------------------------------------------------------------------------

BAD_CLASSMAPS = {
    "missing index": ({0: "a", 1: "b"}, ValueError,
                      r"classmap must map every class index 0..2 to a label; missing indices "
                      r"\[2\] \(the estimator's classes_ are \[0, 1, 2\]\)"),
    "extra index": ({0: "a", 1: "b", 2: "c", 3: "d"}, ValueError, r"unknown keys \[3\]"),
    "negative index": ({-1: "a", 1: "b", 2: "c"}, ValueError,
                       r"missing indices \[0\]; unknown keys \[-1\]"),
    "string keys": ({"0": "a", "1": "b", "2": "c"}, TypeError,
                    r"classmap keys must be class indices, the integers 0..2 \(positions in the "
                    r"estimator's classes_ \[0, 1, 2\]\), got the key '0' \(str\)"),
    "float keys": ({0.0: "a", 1.0: "b", 2.0: "c"}, TypeError, r"got the key 0.0 \(float\)"),
    "bool key": ({False: "a", True: "b", 2: "c"}, TypeError, r"got the key False \(bool\)"),
    "label None": ({0: "a", 1: None, 2: "c"}, TypeError,
                   r"classmap label of class 1 must be a string or a number, got None"),
    "label list": ({0: "a", 1: "b", 2: ["c"]}, TypeError,
                   r"label of class 2 must be a string or a number, got \['c'\] \(list\)"),
    "label object": ({0: object(), 1: "b", 2: "c"}, TypeError,
                     r"label of class 0 must be a string or a number, got <object"),
    "label bool": ({0: True, 1: "b", 2: "c"}, TypeError,
                   r"label of class 0 must be a string or a number, got True \(bool\)"),
    "label NaN": ({0: 0.5, 1: float("nan"), 2: 2.5}, ValueError,
                  r"classmap label of class 1 is nan; a numeric label must be finite"),
    "duplicate labels": ({0: "a", 1: "b", 2: "a"}, ValueError,
                         r"classmap gives classes 0 and 2 the same label 'a'; every class needs a "
                         "label of its own"),
    "1 and 1.0": ({0: 1, 1: 1.0, 2: 2}, ValueError, r"gives classes 0 and 1 the same label 1.0"),
    "numpy 2 and 2": ({0: np.int64(2), 1: 2.0, 2: 3}, ValueError, r"classes 0 and 1 the same"),
    "too long": ({0: "x" * 257, 1: "b", 2: "c"}, ValueError,
                 r"classmap label of class 0 is 257 bytes of UTF-8, more than the limit of 256; "
                 "give a shorter label"),
    "a list": (["a", "b", "c"], TypeError, r"classmap must be a dict \{index: label\}, got list; "
               r"e.g. \{0: 'idle', 1: 'busy'\}"),
}


@pytest.mark.parametrize("entrance", sorted(ENTRANCES))
@pytest.mark.parametrize("case", sorted(BAD_CLASSMAPS))
def test_bad_classmap(tree, case, entrance):
    classmap, error, message = BAD_CLASSMAPS[case]
    with pytest.raises(error, match=message):
        ENTRANCES[entrance](tree, classmap=classmap)


@pytest.mark.parametrize("classmap, index, shown", [
    ({0: "x", 1: 1, 2: "1"}, 2, '"1"'), ({0: "x", 1: "2.5", 2: 2.5}, 2, "2.5")])
def test_labels_that_c_would_write_alike_are_refused(tree, classmap, index, shown):
    """The number 1 and the string "1" are two labels to scikit-learn, but the header writes
    every label as a C string: two classes would both read "1". Refused at the label, with its
    JSON path, at every entrance that reads a document."""
    for entrance in (lambda: mcuport.generate(tree, classmap=classmap),
                     lambda: mcuport.load(tree, classmap=classmap)):
        with pytest.raises(mcuport.ModelError,
                           match=rf"^\(/classes/{index}\) class label {re.escape(shown)} is "
                                 r"written in C as another class's label is"):
            entrance()


def test_a_label_with_a_nul_character_is_refused():
    """A C string ends at its first NUL: the label "a\\0b" read "a" in the header."""
    labels = np.array(["a\0b", "c", "d"])[Y3]
    estimator = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, labels)
    with pytest.raises(mcuport.ModelError, match=r"^\(/classes/0\) a class label cannot contain "
                                                 r"a NUL character \(a C string ends at it\)"):
        mcuport.generate(estimator, name="m")


def test_classmap_of_a_regressor():
    regressor = DecisionTreeRegressor(max_depth=2).fit(X, X[:, 0])
    with pytest.raises(ValueError, match="classmap applies to classifiers only; leave it out"):
        mcuport.port(regressor, classmap={0: "a"})


def test_good_classmaps_still_work(tree):
    """numpy integer keys and numpy labels, text and numbers."""
    text = mcuport.to_json(tree, classmap={np.int64(0): "one", np.int32(1): 1, 2: np.float32(2.5)})
    assert '"classes":["one",1,2.5]' in text
    assert mcuport.load(tree, classmap={0: "low", 1: "mid", 2: "high"}).classes_.tolist() == [
        "low", "mid", "high"]


def test_host_model_inputs_of_the_wrong_shape(tree, tmp_path):
    """The compiled header's driver reads n_features values per row: a row of another width was
    read misaligned by quantize() (a wider one silently, as codes of the wrong rows)."""
    from mcuport.host import HostModel

    generated = mcuport.generate(tree, numeric="fixed", calibration=X)
    with HostModel(generated, workdir=tmp_path) as model:
        for bad in (X[:, :3], X[:5, :].reshape(4, 5), X[0]):
            with pytest.raises(ValueError, match=r"X must have shape \(n, 4\), got"):
                model.quantize(bad)
            with pytest.raises(ValueError, match=r"inputs must have shape \(n, 4\), got"):
                model.run(np.zeros(bad.shape, np.int16))
        codes, _ = model.quantize(X[:3])
        assert codes.shape == (3, 4)


def test_a_sigmoid_kernel_with_gamma_zero_is_refused_in_fixed_mode_for_what_it_is():
    """With gamma 0 every kernel value is tanh(coef0). Fixed mode said gamma times the support
    vectors was too large for the tanh runtime; it now says gamma is 0, as for the RBF kernel,
    and float mode ports it."""
    estimator = SVC(kernel="sigmoid", gamma=0.0, coef0=0.5).fit(X, Y)
    with pytest.raises(mcuport.ModelError, match=r"^\(/params/gamma\) fixed mode needs a sigmoid "
                                                 r"kernel's gamma > 0, got 0 \(with gamma 0 every "
                                                 r"kernel value is tanh\(coef0\)\); use float mode"):
        mcuport.generate(estimator, numeric="fixed", calibration=X)
    assert mcuport.generate(estimator, numeric="float").header


def test_fixed_mode_refusals_of_svm_parameters_name_their_field():
    """Fixed mode's refusals that come from a model's numbers name the field they come from:
    a sigmoid kernel whose gamma times the support vectors is beyond the tanh runtime's
    argument format names /params/gamma (the error had no path), and float mode ports it."""
    estimator = SVC(kernel="sigmoid", gamma=1e12).fit(X, Y)
    with pytest.raises(mcuport.ModelError,
                       match=r"^\(/params/gamma\) fixed mode for this sigmoid SVM: gamma times the "
                             r"support vectors is too large for the tanh runtime's argument format"):
        mcuport.generate(estimator, numeric="fixed", calibration=X)
    assert mcuport.generate(estimator, numeric="float").header


# (estimator, the number set to 1e39 as a path of keys and indices, the field the refusal names
# and the note that says how the constant comes from it)
SCALED = lambda estimator: make_pipeline(StandardScaler(), estimator)  # noqa: E731
FLOAT32_CONSTANTS = {
    "LinearSVC coef": (lambda: LinearSVC(dual=False).fit(X, Y3), ("params", "coef", 1, 2),
                       "/params/coef/1/2", ""),
    "LinearSVC intercept": (lambda: LinearSVC(dual=False).fit(X, Y3), ("params", "intercept", 2),
                            "/params/intercept/2", ""),
    "SVC support vector": (lambda: SVC().fit(X, Y3), ("params", "support_vectors", 3, 1),
                           "/params/support_vectors/3/1", ""),
    "SVC dual coefficient": (lambda: SVC().fit(X, Y3), ("params", "dual_coef", 1, 5),
                             "/params/dual_coef/1/5", ""),
    "SVC coef0": (lambda: SVC(kernel="sigmoid").fit(X, Y), ("params", "coef0"), "/params/coef0", ""),
    # A linear SVC's pair weights are dual_coef times the support vectors.
    "SVC(linear) support vector": (lambda: SVC(kernel="linear").fit(X, Y),
                                   ("params", "support_vectors", 0, 0), "/params/dual_coef",
                                   " (a pair's weight: this field times the support vectors)"),
    "GaussianNB theta": (lambda: GaussianNB().fit(X, Y3), ("params", "theta", 2, 3),
                         "/params/theta/2/3", ""),
    "PCA mean": (lambda: PCA(n_components=2).fit(X), ("params", "mean", 2), "/params/mean/2", ""),
    "EllipticEnvelope location": (lambda: EllipticEnvelope(random_state=0).fit(X),
                                  ("params", "location", 1), "/params/location/1", ""),
    # Behind a scaler: PCA's center is the raw input the scaler maps to its mean; a kernel SVM's
    # scalers run first, as one stage.
    "scaled PCA": (lambda: SCALED(PCA(n_components=2)).fit(X), ("preprocessing", 0, "mean", 1),
                   "/params/mean/1", " (this field with the pipeline's stages composed in)"),
    "scaled SVC": (lambda: SCALED(SVC()).fit(X, Y3), ("preprocessing", 0, "mean", 2),
                   "/preprocessing", " (the pipeline's stages composed)"),
    # A PCA stage mixes the inputs: a composed row is not the field's row, whatever the widths.
    "PCA(4) then PCA": (lambda: make_pipeline(PCA(n_components=4), PCA(n_components=2)).fit(X),
                        ("params", "components", 1, 2), "/params/components/1",
                        " (this field with the pipeline's stages composed in)"),
    "PCA(4) then EllipticEnvelope": (lambda: make_pipeline(PCA(n_components=4),
                                                           EllipticEnvelope(random_state=0)).fit(X),
                                     ("params", "location", 2), "/params/location",
                                     " (this field with the pipeline's stages composed in)"),
}
# Where the constant is the document's number itself, the message shows it as written.
OWN_NUMBER = {"LinearSVC coef", "LinearSVC intercept", "SVC support vector", "SVC dual coefficient",
              "SVC coef0", "GaussianNB theta", "PCA mean", "EllipticEnvelope location", "scaled SVC"}


@pytest.mark.parametrize("case", FLOAT32_CONSTANTS)
def test_float_mode_refusals_of_constants_name_their_field(case):
    """A number float32 cannot hold (here 1e39, a finite double) is refused by float mode
    naming the field its constant comes from, where the error named only the value: the
    emitters know which field of the document each table of float32 constants comes from, and
    say how where the constant is not the field's own number."""
    make, keys, path, note = FLOAT32_CONSTANTS[case]
    document = json.loads(mcuport.to_json(make()))
    holder = document
    for key in keys[:-1]:
        holder = holder[key]
    holder[keys[-1]] = 1e39
    value = r"1e\+39" if case in OWN_NUMBER else r"-?\d\S*"
    with pytest.raises(mcuport.ModelError,
                       match=rf"^\({re.escape(path)}\) the generated code would need the float32 "
                             rf"constant {value}{re.escape(note)}, beyond the float32 range"):
        mcuport.generate(json.dumps(document), numeric="float")
