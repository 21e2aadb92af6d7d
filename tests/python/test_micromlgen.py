"""The micromlgen style (issue 8): a sketch-like C++ program written exactly as a micromlgen user
writes it (``Eloquent::ML::Port::<Class> clf; clf.predict(x); clf.predictLabel(x);``) compiles
against ``mcuport.micromlgen.port``'s header with g++ and clang++ under the strict flags, and for
Cortex-M4F, Cortex-M0 and the ATmega328P with the cross compilers, and answers as scikit-learn on
whole test splits: float mode exactly, fixed mode exactly as mcuport's C API (whose fidelity to
scikit-learn the end-to-end suites check), for every estimator micromlgen supports."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.naive_bayes import GaussianNB
from sklearn.svm import SVC, OneClassSVM
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import mcuport
import mcuport.micromlgen
from mcuport.host import STRICT_FLAGS, HostModel

from conftest import SEED, find_cli, header_macros, split

# name: (factory, data set, what the sketch calls, micromlgen's default class name)
ESTIMATORS = {
    "DecisionTreeClassifier": (lambda: DecisionTreeClassifier(random_state=SEED), "wine",
                               "classifier", "DecisionTree"),
    "RandomForestClassifier": (
        lambda: RandomForestClassifier(n_estimators=10, max_depth=6, random_state=SEED),
        "breast_cancer", "classifier", "RandomForest"),
    "SVC(rbf)": (lambda: SVC(), "iris", "classifier", "SVM"),
    "SVC(linear, binary)": (lambda: SVC(kernel="linear"), "breast_cancer", "classifier", "SVM"),
    "OneClassSVM": (lambda: OneClassSVM(nu=0.1), "wine", "outlier", "OneClassSVM"),
    "GaussianNB": (lambda: GaussianNB(), "wine", "classifier", "GaussianNB"),
    "PCA": (lambda: PCA(n_components=3, random_state=SEED), "wine", "transform", "PCA"),
    "PCA(whiten)": (lambda: PCA(n_components=2, whiten=True, random_state=SEED), "iris",
                    "transform", "PCA"),
    "DecisionTreeRegressor": (lambda: DecisionTreeRegressor(max_depth=6, random_state=SEED),
                              "diabetes", "regressor", "DecisionTreeRegressor"),
    "RandomForestRegressor": (
        lambda: RandomForestRegressor(n_estimators=5, max_depth=5, random_state=SEED),
        "diabetes", "regressor", "RandomForestRegressor"),
}

# The sketch: what a micromlgen user writes (a global instance, float rows, predict and
# predictLabel), reading rows as hexadecimal floats so that the inputs are exact.
SKETCH = r"""
#include <stdio.h>
#include "model.h"

Eloquent::ML::Port::%(classname)s clf;

int main() {
    float x[%(width)d];
    for (;;) {
        for (int i = 0; i < %(n_features)d; i++) {
            if (scanf("%%a", &x[i]) != 1) return 0;
        }
%(body)s    }
}
"""

BODIES = {
    "classifier": '        printf("%d %s|\\n", clf.predict(x), clf.predictLabel(x));\n',
    "outlier": '        printf("%d\\n", clf.predict(x));\n',
    "regressor": '        printf("%a\\n", (double)clf.predict(x));\n',
    "transform": ('        clf.transform(x);\n'
                  '        for (int k = 0; k < %(n_outputs)d; k++) printf("%%a ", (double)x[k]);\n'
                  '        printf("\\n");\n'),
}

CROSS = [
    ("arm-none-eabi-g++", "cortex-m4f", ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard",
                                         "-mfpu=fpv4-sp-d16")),
    ("arm-none-eabi-g++", "cortex-m0", ("-mcpu=cortex-m0", "-mthumb")),
    ("avr-g++", "avr-atmega328p", ("-mmcu=atmega328p",)),
]


def fit(kind):
    factory, dataset, what, default_class = ESTIMATORS[kind]
    X_train, X_test, y_train, _ = split(dataset)
    estimator = factory()
    if what in ("outlier", "transform"):
        estimator.fit(X_train)
    else:
        estimator.fit(X_train, y_train)
    return estimator, X_train, X_test, what, default_class


def sketch(what, n_features, classname, n_outputs=0):
    body = BODIES[what] % {"n_outputs": n_outputs} if what == "transform" else BODIES[what]
    return SKETCH % {"classname": classname, "width": n_features, "n_features": n_features,
                     "body": body}


def run_sketch(header, program, X, tmp_path, cxx="g++"):
    (tmp_path / "model.h").write_text(header)
    (tmp_path / "sketch.cpp").write_text(program)
    binary = tmp_path / f"sketch-{cxx}"
    subprocess.run([cxx, "-std=c++11", "-O1", *STRICT_FLAGS, str(tmp_path / "sketch.cpp"), "-o",
                    str(binary), "-lm"], check=True, capture_output=True, text=True)
    rows = "\n".join(" ".join(float(v).hex() for v in row)
                     for row in np.asarray(X, np.float32)) + "\n"
    done = subprocess.run([str(binary)], input=rows, capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


@pytest.mark.parametrize("numeric", ["float", "fixed"])
@pytest.mark.parametrize("kind", ESTIMATORS)
def test_a_micromlgen_sketch_compiles_and_answers_as_scikit_learn(kind, numeric, tmp_path):
    estimator, X_train, X_test, what, default_class = fit(kind)
    classmap = None
    if what == "classifier":
        classmap = {i: f"class {label!r}" for i, label in enumerate(estimator.classes_)}
    options = {"numeric": numeric, "calibration": X_train} if numeric == "fixed" else {}
    header = mcuport.micromlgen.port(estimator, classmap=classmap, **options)
    assert f"class {default_class} {{" in header
    n_outputs = getattr(estimator, "n_components_", 0)
    program = sketch(what, X_test.shape[1], default_class, n_outputs)
    lines = run_sketch(header, program, X_test, tmp_path)
    assert len(lines) == len(X_test)
    assert run_sketch(header, program, X_test, tmp_path, cxx="clang++") == lines

    if numeric == "float":
        # micromlgen's interface, scikit-learn's answers, on float32 inputs.
        X = X_test.astype(np.float32).astype(np.float64)
        if what == "classifier":
            expected = estimator.predict(X)
            index = np.searchsorted(estimator.classes_, expected)
            assert [line.split(" ", 1)[0] for line in lines] == [str(i) for i in index]
            assert [line.split(" ", 1)[1] for line in lines] == [
                f"{classmap[i]}|" for i in index]
        elif what == "outlier":
            assert [int(line) for line in lines] == estimator.predict(X).tolist()
        elif what == "regressor":
            got = np.array([float.fromhex(line) for line in lines])
            # Leaves and their mean in float32 (docs/user-guide.md, float mode).
            np.testing.assert_allclose(got, estimator.predict(X), rtol=2e-6)
        else:
            got = np.array([[float.fromhex(v) for v in line.split()] for line in lines])
            np.testing.assert_allclose(got, estimator.transform(X), rtol=1e-4, atol=1e-4)
        return

    # Fixed mode: the class quantizes the float row and answers as the C API does on the codes.
    generated = mcuport.generate(estimator, numeric="fixed", calibration=X_train,
                                 style="micromlgen", classmap=classmap)
    assert generated.header == header and generated.name == default_class
    with HostModel(generated) as model:
        codes, _ = model.quantize(X_test)
        y, scores = model.run(codes)
    if what in ("classifier", "outlier"):
        assert [int(line.split(" ", 1)[0]) for line in lines] == y.tolist()
    else:
        frac = header_macros(header, default_class)["OUTPUT_FRAC_BITS"]
        expected = (y if what == "regressor" else scores).astype(np.float32) * np.float32(2.0**-frac)
        got = np.array([[float.fromhex(v) for v in line.split()] for line in lines], np.float32)
        assert np.array_equal(got.reshape(expected.shape), expected)


@pytest.mark.parametrize("kind", ESTIMATORS)
@pytest.mark.parametrize("compiler,target,flags", CROSS, ids=[t for _, t, _ in CROSS])
def test_the_sketch_cross_compiles(kind, compiler, target, flags, tmp_path):
    assert shutil.which(compiler), f"{compiler} is missing: scripts/setup installs it"
    estimator, X_train, X_test, what, default_class = fit(kind)
    header = mcuport.micromlgen.port(estimator, numeric="fixed", calibration=X_train,
                                     target=target)
    (tmp_path / "model.h").write_text(header)
    program = sketch(what, X_test.shape[1], default_class, getattr(estimator, "n_components_", 0))
    (tmp_path / "sketch.cpp").write_text(program)
    std = "-std=gnu++11" if compiler == "avr-g++" else "-std=c++11"
    subprocess.run([compiler, std, "-Os", *flags, *STRICT_FLAGS, "-c",
                    str(tmp_path / "sketch.cpp"), "-o", str(tmp_path / "sketch.o")],
                   check=True, capture_output=True, text=True)


def build_and_run(tmp_path, source, stdin=""):
    """Compiles one C++ program (g++, the strict flags) in tmp_path and returns its output."""
    (tmp_path / "main.cpp").write_text(source)
    subprocess.run(["g++", "-std=c++11", *STRICT_FLAGS, str(tmp_path / "main.cpp"), "-o",
                    str(tmp_path / "main")], check=True, capture_output=True, text=True)
    return subprocess.run([str(tmp_path / "main")], input=stdin, check=True, capture_output=True,
                          text=True).stdout


def two_classes_on_rows(tmp_path, first: tuple, second: tuple, X: np.ndarray) -> np.ndarray:
    """first and second are (class name, header): both included in one C++ program, which prints
    each class's predict for every row of X, one row of two integers per row."""
    for classname, header in (first, second):
        (tmp_path / f"{classname}.h").write_text(header)
    rows = "\n".join(" ".join(float(v).hex() for v in row) for row in X.astype(np.float32))
    n = X.shape[1]
    out = build_and_run(tmp_path, (
        f'#include <stdio.h>\n#include "{first[0]}.h"\n#include "{second[0]}.h"\n'
        f"Eloquent::ML::Port::{first[0]} a;\nEloquent::ML::Port::{second[0]} b;\n"
        f"int main() {{\n    float x[{n}];\n    for (;;) {{\n"
        f'        for (int i = 0; i < {n}; i++) if (scanf("%a", &x[i]) != 1) return 0;\n'
        '        printf("%d %d\\n", a.predict(x), b.predict(x));\n    }\n}\n'), rows + "\n")
    return np.array([[int(v) for v in line.split()] for line in out.splitlines()])


def test_two_models_link_into_one_sketch(tmp_path):
    """Two classes in one program, as in micromlgen, one float and one fixed: the class names
    keep the C symbols apart, and each answers as it does alone."""
    forest, X_train, X_test, _, _ = fit("RandomForestClassifier")
    nb = GaussianNB().fit(X_train, forest.predict(X_train))
    bayes = mcuport.generate(nb, style="micromlgen", classname="Bayes", numeric="fixed",
                             calibration=X_train)
    got = two_classes_on_rows(tmp_path, ("Forest", mcuport.micromlgen.port(forest,
                                                                           classname="Forest")),
                              ("Bayes", bayes.header), X_test)
    X = X_test.astype(np.float32).astype(np.float64)
    assert got[:, 0].tolist() == np.searchsorted(forest.classes_, forest.predict(X)).tolist()
    with HostModel(bayes) as model:
        y, _ = model.run(model.quantize(X_test)[0])
    assert got[:, 1].tolist() == y.tolist()


def test_a_class_named_after_another_models_function(tmp_path):
    """The class Fan_predict (in Eloquent::ML::Port) hid the C function Fan_predict from the class
    Fan's members, which called it unqualified: the calls now name the global scope."""
    forest, X_train, X_test, _, _ = fit("RandomForestClassifier")
    tree = DecisionTreeClassifier(max_depth=4, random_state=SEED).fit(X_train,
                                                                      forest.predict(X_train))
    got = two_classes_on_rows(
        tmp_path, ("Fan", mcuport.micromlgen.port(forest, classname="Fan")),
        ("Fan_predict", mcuport.micromlgen.port(tree, classname="Fan_predict")), X_test)
    X = X_test.astype(np.float32).astype(np.float64)
    assert got[:, 0].tolist() == np.searchsorted(forest.classes_, forest.predict(X)).tolist()
    assert got[:, 1].tolist() == np.searchsorted(tree.classes_, tree.predict(X)).tolist()


def test_an_index_out_of_range_has_the_empty_label(tmp_path):
    estimator, X_train, _, _, _ = fit("SVC(rbf)")
    (tmp_path / "model.h").write_text(mcuport.micromlgen.port(estimator, classname="Iris"))
    out = build_and_run(tmp_path, (
        '#include <stdio.h>\n#include "model.h"\nEloquent::ML::Port::Iris clf;\n'
        'int main() { printf("[%s][%s][%s]", clf.idxToLabel(0), clf.idxToLabel(2), '
        "clf.idxToLabel(3)); return 0; }\n"))
    assert out == "[0][2][]"


def test_the_options_are_checked():
    estimator, X_train, _, _, _ = fit("SVC(rbf)")
    with pytest.raises(ValueError, match="class name .*is a C or C\\+\\+ keyword"):
        mcuport.micromlgen.port(estimator, classname="class")
    with pytest.raises(ValueError, match="platform must be 'arduino' or 'attiny'"):
        mcuport.micromlgen.port(estimator, platform="esp32")
    with pytest.raises(TypeError, match="precision must be an int"):
        mcuport.micromlgen.port(estimator, precision="high")
    with pytest.raises(TypeError, match="takes no 'name'"):
        mcuport.micromlgen.port(estimator, name="svm")
    with pytest.raises(ValueError, match="pass classname=, not name="):
        mcuport.port(estimator, style="micromlgen", name="svm")
    with pytest.raises(ValueError, match="classname and platform are micromlgen's arguments"):
        mcuport.port(estimator, classname="Svm")
    with pytest.raises(ValueError, match="style must be 'c' or 'micromlgen'"):
        mcuport.port(estimator, style="eloquent")
    from sklearn.covariance import EmpiricalCovariance
    with pytest.raises(ValueError, match="no interface for a distance model"):
        mcuport.micromlgen.port(EmpiricalCovariance().fit(X_train))
    # precision is accepted, as micromlgen's callers pass it, and changes nothing.
    assert mcuport.micromlgen.port(estimator, precision=4) == mcuport.micromlgen.port(estimator)


def test_the_command_line_writes_the_same_header(tmp_path):
    cli = find_cli()
    assert cli, "the mcuport command is not on PATH: pip install . installs it"
    estimator, X_train, _, _, _ = fit("GaussianNB")
    (tmp_path / "m.json").write_text(mcuport.to_json(estimator, calibration=X_train))
    done = subprocess.run([cli, str(tmp_path / "m.json"), "--style", "micromlgen", "--classname",
                           "Wine", "--numeric", "fixed"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == mcuport.micromlgen.port(estimator, classname="Wine", numeric="fixed",
                                                  calibration=X_train)
    refused = subprocess.run([cli, str(tmp_path / "m.json"), "--style", "micromlgen", "--name",
                              "wine"], capture_output=True, text=True)
    assert refused.returncode == 2 and "not a model name" in refused.stderr
