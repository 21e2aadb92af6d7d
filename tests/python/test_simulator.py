"""The simulator (mcuport.load) against the compiled generated code: bit-identical predictions
and scores for every fixed-mode family, on the test split's codes and on thousands of random and
extreme int16 inputs; bit-identical quantization of float inputs, out-of-range, infinite and NaN
ones included."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.ensemble import ExtraTreesRegressor, RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.naive_bayes import GaussianNB
from sklearn.svm import SVC, LinearSVC, NuSVC, OneClassSVM
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import mcuport
from mcuport.host import HostModel

from conftest import SEED, extreme_codes, split

MODELS = {
    "DecisionTreeClassifier(max_depth=5)": (
        lambda: DecisionTreeClassifier(max_depth=5, random_state=SEED), "digits"),
    "RandomForestClassifier": (lambda: RandomForestClassifier(n_estimators=20, random_state=SEED),
                               "wine"),
    "RandomForestClassifier(max_depth=4)": (
        lambda: RandomForestClassifier(n_estimators=20, max_depth=4, random_state=SEED), "digits"),
    # Compact layout: 20-bit split records (a 16-bit word and a nibble), 12-bit leaf references.
    "RandomForestClassifier(max_depth=8)": (
        lambda: RandomForestClassifier(n_estimators=10, max_depth=8, random_state=SEED), "digits"),
    "DecisionTreeRegressor": (lambda: DecisionTreeRegressor(random_state=SEED), "diabetes"),
    "ExtraTreesRegressor": (lambda: ExtraTreesRegressor(n_estimators=10, random_state=SEED),
                            "diabetes"),
    "LinearSVC(binary)": (lambda: LinearSVC(random_state=SEED), "breast_cancer"),
    "LinearSVC(multi)": (lambda: LinearSVC(random_state=SEED), "digits"),
    "SVC(linear, binary)": (lambda: SVC(kernel="linear"), "breast_cancer"),
    "SVC(linear, multi)": (lambda: SVC(kernel="linear"), "wine"),
    "OneClassSVM(linear)": (lambda: OneClassSVM(kernel="linear", nu=0.2), "iris"),
    "SVC(rbf)": (lambda: SVC(), "digits"),
    "SVC(rbf, binary)": (lambda: SVC(gamma=0.01), "breast_cancer"),
    "OneClassSVM(rbf)": (lambda: OneClassSVM(nu=0.2), "wine"),
    "SVC(poly)": (lambda: SVC(kernel="poly"), "wine"),
    # iris: on unscaled breast_cancer its decision values are proven only within 4.6 of
    # scikit-learn's, and fixed mode refuses it (test_svm_nb_e2e)
    "NuSVC(poly)": (lambda: NuSVC(nu=0.1, kernel="poly"), "iris"),
    "SVC(sigmoid)": (lambda: SVC(kernel="sigmoid", gamma="auto"), "iris"),
    "OneClassSVM(poly)": (lambda: OneClassSVM(kernel="poly", nu=0.2), "iris"),
    "GaussianNB(wine)": (lambda: GaussianNB(), "wine"),
    "GaussianNB(digits)": (lambda: GaussianNB(), "digits"),
}


def fitted(kind):
    factory, dataset = MODELS[kind]
    X_train, X_test, y_train, _ = split(dataset)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator = factory()
        estimator.fit(X_train) if isinstance(estimator, OneClassSVM) else estimator.fit(X_train, y_train)
    return estimator, X_train, X_test


@pytest.mark.parametrize("kind", MODELS)
def test_simulator_is_bit_identical_to_the_generated_code(kind, tmp_path):
    estimator, X_train, X_test = fitted(kind)
    document = mcuport.to_json(estimator, calibration=X_train)
    generated = mcuport.generate(document, name="m", numeric="fixed")
    simulated = mcuport.load(document)
    with HostModel(generated, workdir=tmp_path) as model:
        test_codes, _ = model.quantize(X_test)
        codes = np.concatenate([test_codes, extreme_codes(generated.n_features, 5000)])
        predictions, scores = model.run(codes)
    np.testing.assert_array_equal(simulated.predict_codes(codes), predictions)
    if scores is not None:
        np.testing.assert_array_equal(simulated.scores_codes(codes), scores)
    else:
        assert simulated.scores_codes(codes).shape == (len(codes), 0)


@pytest.mark.parametrize("kind", ["DecisionTreeClassifier(max_depth=5)",
                                  "RandomForestClassifier(max_depth=4)",
                                  "RandomForestClassifier(max_depth=8)"])
@pytest.mark.parametrize("layout", ["fast", "compact"])
@pytest.mark.parametrize("proba_bits", [16, 8])
def test_simulator_is_bit_identical_in_both_layouts_and_probability_widths(
        kind, layout, proba_bits, tmp_path):
    estimator, X_train, X_test = fitted(kind)
    document = mcuport.to_json(estimator, calibration=X_train)
    generated = mcuport.generate(document, name="m", numeric="fixed", layout=layout,
                                 proba_bits=proba_bits)
    simulated = mcuport.load(document, proba_bits=proba_bits)
    with HostModel(generated, workdir=tmp_path) as model:
        test_codes, _ = model.quantize(X_test)
        codes = np.concatenate([test_codes, extreme_codes(generated.n_features, 5000)])
        predictions, scores = model.run(codes)
    np.testing.assert_array_equal(simulated.predict_codes(codes), predictions)
    np.testing.assert_array_equal(simulated.scores_codes(codes), scores)
    # The option changes the numbers: 8-bit codes are not the 16-bit ones.
    other = mcuport.load(document, proba_bits=24 - proba_bits)
    assert not np.array_equal(other.scores_codes(codes), scores)


def test_simulator_quantizes_like_the_generated_code(tmp_path):
    _, X_train, X_test = fitted("LinearSVC(multi)")
    estimator, _, _ = fitted("LinearSVC(multi)")
    document = mcuport.to_json(estimator, calibration=X_train)
    rng = np.random.default_rng(SEED)
    X = np.concatenate([
        X_test,
        X_test * 10 - 50,                                    # far outside the ranges
        rng.normal(0, 1e6, size=(200, X_test.shape[1])),
        np.full((1, X_test.shape[1]), np.inf), np.full((1, X_test.shape[1]), -np.inf),
        np.full((1, X_test.shape[1]), np.nan), np.full((1, X_test.shape[1]), 3.4e38),
    ]).astype(np.float32)
    with HostModel(mcuport.generate(document, name="m", numeric="fixed"), workdir=tmp_path) as model:
        codes, _ = model.quantize(X)
    np.testing.assert_array_equal(mcuport.load(document).quantize(X), codes)


def test_simulated_model_answers_like_scikit_learn():
    estimator, X_train, X_test = fitted("RandomForestClassifier")
    simulated = mcuport.load(estimator, calibration=X_train)
    seen = mcuport.generate(estimator, numeric="fixed", calibration=X_train).dequantize(
        simulated.quantize(X_test))
    np.testing.assert_array_equal(simulated.predict(X_test), estimator.predict(seen))
    np.testing.assert_allclose(simulated.decision_function(X_test), estimator.predict_proba(seen))


def test_simulator_refuses_models_it_cannot_run():
    """Float mode has no integer program to simulate: a document without input ranges for an
    arithmetic model is refused with the reason and the fix."""
    X_train, _, y_train, _ = split("iris")
    svc = SVC(kernel="poly").fit(X_train, y_train)
    with pytest.raises(ValueError, match=r"fixed mode needs input ranges for SVC, which come from "
                                         r"data, .* pass calibration=X_train .* to port\(\), load\(\)"):
        mcuport.load(svc)
    assert mcuport.load(svc, calibration=X_train).predict(X_train).shape == (len(X_train),)


@pytest.mark.parametrize("spread", [1.0, 64.0], ids=["one-point", "point-per-class"])
def test_simulator_is_bit_identical_for_naive_bayes_blocks_in_a_loop(spread, tmp_path):
    """Gaussian naive Bayes in per-class blocks with more than 40 terms (a loop over the table,
    not straight-line code): at one binary point, and with every class at its own point
    (variances `spread` times apart between classes), the generated code and the simulator
    agree bit for bit on random and extreme codes."""
    from sklearn.naive_bayes import GaussianNB

    random = np.random.default_rng(SEED)
    n_classes, n_features = 4, 16
    X = np.concatenate([random.normal(c, spread ** (c / (n_classes - 1)), (60, n_features))
                        for c in range(n_classes)])
    y = np.repeat(np.arange(n_classes), 60)
    estimator = GaussianNB().fit(X, y)
    document = mcuport.to_json(estimator, calibration=X)
    generated = mcuport.generate(document, name="m", numeric="fixed")
    # the blocks form, in a loop over its tables
    assert "m_class_offset" in generated.header and "_square(" not in generated.header
    assert ("m_class_shift" in generated.header) == (spread > 1)
    simulated = mcuport.load(document)
    with HostModel(generated, workdir=tmp_path) as model:
        test_codes, _ = model.quantize(X)
        codes = np.concatenate([test_codes, extreme_codes(generated.n_features, 3000)])
        predictions, scores = model.run(codes)
    np.testing.assert_array_equal(simulated.predict_codes(codes), predictions)
    np.testing.assert_array_equal(simulated.scores_codes(codes), scores)
    assert np.mean(estimator.predict(X) == estimator.classes_[predictions[:len(X)]]) >= 0.99


def _naive_bayes_against_the_simulator(estimator, X, tmp_path, n_random=3000, target="host"):
    """The header for `target` built on the host (its portable C) against the simulator of that
    target's integers."""
    document = mcuport.to_json(estimator, calibration=X)
    generated = mcuport.generate(document, name="m", numeric="fixed", target=target)
    simulated = mcuport.load(document, target=target)
    with HostModel(generated, workdir=tmp_path) as model:
        test_codes, _ = model.quantize(X)
        codes = np.concatenate([test_codes, extreme_codes(generated.n_features, n_random)])
        predictions, scores = model.run(codes)
    np.testing.assert_array_equal(simulated.predict_codes(codes), predictions)
    np.testing.assert_array_equal(simulated.scores_codes(codes), scores)
    return generated, codes, predictions, scores


@pytest.mark.parametrize("n_classes,spread", [(2, 1.0), (3, 1.0), (3, 64.0)],
                         ids=["two-classes", "three-classes", "point-per-class"])
def test_naive_bayes_straight_line_predict_is_the_first_largest_score(n_classes, spread,
                                                                     tmp_path):
    """The straight-line form's predict compares the scores as it forms them (two classes at
    one binary point: one int64 sum of (t_0 - t_1)(t_0 + t_1) per feature; more: the negated
    scores from -B_c; a point per class: the rounded scores): it must give the simulator's
    answers on random and extreme codes, and the first largest score where the last two classes
    are the same (every row a tie between them)."""
    random = np.random.default_rng(SEED)
    n_features = 4
    X = np.concatenate([random.normal(c, spread ** (c / 2), (60, n_features))
                        for c in range(n_classes - 1)])
    y = np.repeat(np.arange(n_classes - 1), 60)
    last = X[y == n_classes - 2]
    X = np.concatenate([X, last])  # the last class: a copy of the one before it
    y = np.concatenate([y, np.full(len(last), n_classes - 1)])
    estimator = GaussianNB().fit(X, y)
    generated, codes, predictions, scores = _naive_bayes_against_the_simulator(estimator, X,
                                                                               tmp_path)
    assert "m_square(" in generated.header and "m_class_offset" not in generated.header
    assert ("(int64_t)((int32_t)x[0] *" in generated.header) == (n_classes == 2)
    assert ("mcuport_fx_round_shift_u64(sum," in generated.header) == (spread > 1)
    np.testing.assert_array_equal(scores[:, -1], scores[:, -2])
    np.testing.assert_array_equal(predictions, np.argmax(scores, axis=1))
    assert np.sum(predictions == n_classes - 2) > 100  # ties decided, not only missed


def test_naive_bayes_per_term_loop_takes_four_terms_a_turn_and_the_rest(tmp_path):
    """The per-term form (a feature constant within a class: weights far apart) with 7
    features: four terms a turn, then three one by one; the generated code and the simulator
    agree bit for bit on random and extreme codes."""
    random = np.random.default_rng(SEED)
    X = random.normal(0, 1, (240, 7))
    y = np.repeat(np.arange(3), 80)
    X += y[:, None]
    X[y == 1, 2] = 0.5  # constant within class 1
    estimator = GaussianNB().fit(X, y)
    generated, _, predictions, _ = _naive_bayes_against_the_simulator(estimator, X, tmp_path)
    assert "m_class_shift" in generated.header and "f + 4u <=" in generated.header
    assert np.mean(estimator.predict(X) == estimator.classes_[predictions[:len(X)]]) >= 0.95


@pytest.mark.parametrize("target", ["cortex-m4f", "rv32imc"])
@pytest.mark.parametrize("n_features,widened", [(11, True), (130, False)],
                         ids=["widened-inputs", "beyond-the-widened-inputs"])
def test_naive_bayes_high_word_terms_take_eight_a_turn_and_the_rest(n_features, widened, target,
                                                                   tmp_path):
    """High-word terms (the header of Cortex-M4 or RV32IMC: Target::high_word_multiply) where the per-term form
    would shift each term: eight terms a turn, then the rest one by one, on inputs widened onto
    the stack (at most 128) or widened in each term. The header, built on the host, and the
    simulator told the target agree bit for bit on random and extreme codes (the ends of the
    int16 codes give the largest |x - center| and both signs of it), and the host's header keeps
    the per-term shifts (other integers)."""
    random = np.random.default_rng(SEED)
    X = random.normal(0, 1, (240, n_features))
    y = np.repeat(np.arange(3), 80)
    X += y[:, None]
    X[y == 1, 2] = 0.5  # constant within class 1: weights far apart, no blocks
    estimator = GaussianNB().fit(X, y)
    generated, _, predictions, _ = _naive_bayes_against_the_simulator(
        estimator, X, tmp_path / "target", n_random=2000, target=target)
    header = generated.header
    assert "m_class_root" in header and "m_class_shift" not in header and "f + 8u <=" in header
    assert ("int32_t xs[" in header) == widened
    assert np.mean(estimator.predict(X) == estimator.classes_[predictions[:len(X)]]) >= 0.95
    host = mcuport.generate(estimator, name="m", numeric="fixed", calibration=X)
    assert "m_class_shift" in host.header and "m_class_root" not in host.header


@pytest.mark.parametrize("kind", ["SVC(linear, multi)"])
def test_one_vs_one_votes_break_ties_to_the_lowest_class(kind, tmp_path):
    """The generated predict counts each pair's vote (decision > 0: the first class of the
    pair) and takes the most votes, a tie going to the lowest class index, as libsvm: checked
    against votes counted here from the generated decision values, on rows that include
    three-way ties."""
    estimator, X_train, X_test = fitted(kind)
    generated = mcuport.generate(estimator, name="m", numeric="fixed", calibration=X_train)
    n_classes = len(estimator.classes_)
    pairs = [(i, j) for i in range(n_classes) for j in range(i + 1, n_classes)]
    with HostModel(generated, workdir=tmp_path) as model:
        test_codes, _ = model.quantize(X_test)
        codes = np.concatenate([test_codes, extreme_codes(generated.n_features, 5000)])
        predictions, decisions = model.run(codes)
    votes = np.zeros((len(codes), n_classes), dtype=np.int64)
    for k, (i, j) in enumerate(pairs):
        first = decisions[:, k] > 0
        votes[first, i] += 1
        votes[~first, j] += 1
    np.testing.assert_array_equal(predictions, np.argmax(votes, axis=1))
    ties = (votes == votes.max(axis=1, keepdims=True)).sum(axis=1) > 1
    assert ties.sum() > 0, "no tied votes among the rows: the test would not see tie-breaking"


@pytest.mark.parametrize("labels", ["bool", "int8", "uint64", "str"])
def test_predict_answers_in_the_estimators_label_type(labels):
    """load(estimator).predict() answers with the estimator's own classes_, dtype included, so
    that it compares equal to scikit-learn's predict(): bool labels came back as the strings
    'True'/'False' (a document keeps them as text), on the whole breast_cancer test split. A
    document, which has no dtype, still gives the labels it holds."""
    X_train, X_test, y_train, _ = split("breast_cancer")
    y = {"bool": y_train == 1, "int8": (y_train - 3).astype(np.int8),
         "uint64": y_train.astype(np.uint64) + np.uint64(2**63), "str": np.where(y_train, "b", "m")}[labels]
    tree = DecisionTreeClassifier(max_depth=4, random_state=SEED).fit(X_train, y)
    simulated = mcuport.load(tree, calibration=X_train)
    predicted = simulated.predict(X_test)
    # Fixed-mode trees decide exactly as scikit-learn on the values the codes stand for.
    generated = mcuport.generate(tree, numeric="fixed", calibration=X_train)
    expected = tree.predict(generated.dequantize(simulated.quantize(X_test)))
    assert predicted.dtype == tree.classes_.dtype
    np.testing.assert_array_equal(predicted, expected)
    from_document = mcuport.load(mcuport.to_json(tree, calibration=X_train)).predict(X_test)
    if labels == "bool":
        assert from_document.tolist() == [str(v) for v in predicted.tolist()]
    else:
        assert from_document.tolist() == predicted.tolist()
