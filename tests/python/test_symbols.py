"""Several models in one translation unit: every symbol of a header is its model's name, `_` and
a suffix, and model names may hold `_`, so a model named `fan_sv` and one named `fan` share a
symbol if one writes the suffix `distance` and the other `sv_distance`. Two names `p` and
`p_w` can share one only where a suffix ends in `_` and another suffix, so the suffixes of
every header for a target (every family, numeric mode, layout and style) must not: a tail-free
set. The names of the headers' shared runtime (`mcuport_fx_*`, `MCUPORT_*`) are refused as
model names."""

from __future__ import annotations

import functools
import pathlib
import re
import subprocess
import warnings

import numpy as np
import pytest
from sklearn.covariance import EllipticEnvelope
from sklearn.decomposition import PCA
from sklearn.ensemble import (ExtraTreesRegressor, RandomForestClassifier,
                              RandomForestRegressor)
from sklearn.exceptions import ConvergenceWarning
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.svm import SVC, LinearSVC, NuSVC, OneClassSVM
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import mcuport
from mcuport.host import STRICT_FLAGS

from conftest import OTHER_COMPILERS, SEED, WIDENED_MODELS, split, thin_mahalanobis

GOLDEN = pathlib.Path(__file__).resolve().parents[1] / "golden"
CODEGEN = pathlib.Path(__file__).resolve().parents[2] / "codegen" / "src"
TREES = (DecisionTreeClassifier, DecisionTreeRegressor, RandomForestClassifier,
         RandomForestRegressor, ExtraTreesRegressor)
UNSUPERVISED = (OneClassSVM, EllipticEnvelope, PCA)

# One model of each family and of each form its code takes (binary and multi-class, every
# kernel, straight-line and looped, pipelines with a stage), kept small.
FAMILIES = {
    "DecisionTreeClassifier": (lambda: DecisionTreeClassifier(max_depth=4, random_state=SEED),
                               "iris"),
    "DecisionTreeRegressor": (lambda: DecisionTreeRegressor(max_depth=4, random_state=SEED),
                              "diabetes"),
    # unbounded: its compact layout has splits with two leaf children beyond their payload
    "DecisionTreeRegressor(unbounded)": (lambda: DecisionTreeRegressor(random_state=SEED),
                                         "diabetes"),
    "RandomForestClassifier": (
        lambda: RandomForestClassifier(n_estimators=3, max_depth=3, random_state=SEED), "wine"),
    "RandomForestRegressor": (
        lambda: RandomForestRegressor(n_estimators=3, max_depth=3, random_state=SEED),
        "diabetes"),
    "ExtraTreesRegressor": (
        lambda: ExtraTreesRegressor(n_estimators=3, max_depth=3, random_state=SEED), "diabetes"),
    "SVC(rbf)": (lambda: SVC(), "iris"),
    "SVC(rbf, binary)": (lambda: SVC(), "breast_cancer"),
    "SVC(linear)": (lambda: SVC(kernel="linear"), "iris"),
    "SVC(linear, binary)": (lambda: SVC(kernel="linear"), "breast_cancer"),
    "SVC(poly)": (lambda: SVC(kernel="poly"), "iris"),
    "SVC(sigmoid)": (lambda: SVC(kernel="sigmoid", gamma="auto"), "iris"),
    "NuSVC": (lambda: NuSVC(), "iris"),
    "LinearSVC": (lambda: make_pipeline(StandardScaler(), LinearSVC(random_state=SEED)), "iris"),
    "LinearSVC(binary)": (
        lambda: make_pipeline(StandardScaler(), LinearSVC(random_state=SEED)), "breast_cancer"),
    "OneClassSVM(rbf)": (lambda: OneClassSVM(nu=0.2), "iris"),
    "OneClassSVM(linear)": (lambda: OneClassSVM(kernel="linear", nu=0.2), "iris"),
    "OneClassSVM(poly)": (lambda: OneClassSVM(kernel="poly", nu=0.2), "iris"),
    "OneClassSVM(sigmoid)": (lambda: OneClassSVM(kernel="sigmoid", gamma="auto", nu=0.2),
                             "iris"),
    "GaussianNB": (lambda: GaussianNB(), "iris"),
    "GaussianNB(binary)": (lambda: GaussianNB(), "breast_cancer"),
    "GaussianNB(digits)": (lambda: GaussianNB(), "digits"),
    "PCA": (lambda: PCA(n_components=3, random_state=SEED), "wine"),
    "PCA(whiten)": (lambda: PCA(n_components=3, whiten=True, random_state=SEED), "wine"),
    "EllipticEnvelope": (lambda: EllipticEnvelope(random_state=SEED), "iris"),
    "EllipticEnvelope(breast_cancer)": (lambda: EllipticEnvelope(random_state=SEED),
                                        "breast_cancer"),
    "Pipeline(StandardScaler, SVC)": (lambda: make_pipeline(StandardScaler(), SVC()), "wine"),
    "Pipeline(StandardScaler, PCA, GaussianNB)": (
        lambda: make_pipeline(StandardScaler(), PCA(n_components=4, random_state=SEED),
                              GaussianNB()), "wine"),
    "Pipeline(MinMaxScaler, PCA, SVC)": (
        lambda: make_pipeline(MinMaxScaler(), PCA(n_components=4, random_state=SEED), SVC()),
        "wine"),
    "Pipeline(MinMaxScaler, DecisionTreeClassifier)": (
        lambda: make_pipeline(MinMaxScaler(), DecisionTreeClassifier(max_depth=4,
                                                                      random_state=SEED)),
        "iris"),
}


@functools.lru_cache(maxsize=None)
def fitted(kind):
    """(estimator, X_train) of a FAMILIES, WIDENED_MODELS or "Mahalanobis(thin)" case."""
    if kind == "Mahalanobis(thin)":
        return thin_mahalanobis(), split("breast_cancer")[0]
    if kind in WIDENED_MODELS:
        estimator, X_train, _ = WIDENED_MODELS[kind][0]()
        return estimator, X_train
    factory, dataset = FAMILIES[kind]
    X_train, _, y_train, _ = split(dataset)
    estimator = factory()
    last = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if isinstance(last, UNSUPERVISED):
            estimator.fit(X_train)
        else:
            estimator.fit(X_train, y_train)
    return estimator, X_train


CORPUS = (*FAMILIES, *WIDENED_MODELS, "Mahalanobis(thin)")
TARGETS = [t["name"] for t in mcuport.targets()]


def code_only(header: str) -> str:
    """The header without its comments and string and character literals."""
    literal = r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''
    return re.sub(rf"/\*.*?\*/|//[^\n]*|{literal}", " ", header, flags=re.S)


def suffixes(header: str, name: str) -> set:
    """What follows `name_` and `NAME_` in the header's identifiers, each run of digits written
    as 0 (tree_3 and tree_12 stand for the same family of symbols)."""
    found = set()
    for ident in set(re.findall(r"\b[A-Za-z_]\w*", code_only(header))):
        for prefix in (name + "_", name.upper() + "_"):
            if ident.startswith(prefix) and len(ident) > len(prefix):
                found.add(re.sub(r"\d+", "0", ident[len(prefix):]))
    return found


def source_suffixes() -> dict:
    """Every suffix the emitters write whole after the name, {{p}}_word or p + "_word" (and the
    macros'), with the files that write it: what no corpus model may reach. A literal continued
    at run time (p + "_" + table + "_weight", "_tree_" + t) is left to the corpus."""
    found = {}
    patterns = (r"\{\{p\}\}_([a-z0-9_]*[a-z0-9])\b",
                r"(?:\bp|prefix) \+ \"_([a-z0-9_]*[a-z0-9])\"(?!\s*\+)",
                r"\{\{P\}\}_([A-Z0-9_]*[A-Z0-9])\b",
                r"(?:\bP|macro) \+ \"_([A-Z0-9_]*[A-Z0-9])\"(?!\s*\+)")
    for path in sorted(CODEGEN.glob("*.cpp")):
        text = path.read_text()
        for pattern in patterns:
            for match in re.finditer(pattern, text):
                found.setdefault(re.sub(r"\d+", "0", match.group(1)), set()).add(path.name)
    return found


def tails(found: dict) -> list:
    """Every (suffix, shorter) where the suffix ends in `_` and the shorter one: the models named
    p and p_<the rest> would both define p_<suffix>."""
    return sorted((long, short, sorted(found[long])[0], sorted(found[short])[0])
                  for long in found for short in found if long.endswith("_" + short))


def headers_for(target):
    """(what, header, name): every corpus model for the target in both numeric modes, tree
    models in both layouts, and the micromlgen style."""
    for kind in CORPUS:
        estimator, X_train = fitted(kind)
        last = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
        layouts = ("fast", "compact") if isinstance(last, TREES) else (None,)
        for numeric in ("float", "fixed"):
            for layout in layouts:
                options = {"layout": layout} if layout else {}
                what = f"{kind}, {numeric}{', ' + layout if layout else ''}"
                yield what, mcuport.port(estimator, name="zq", numeric=numeric, target=target,
                                         calibration=X_train, **options), "zq"
            if not isinstance(estimator, mcuport.Mahalanobis):
                yield (f"{kind}, {numeric}, micromlgen style",
                       mcuport.port(estimator, style="micromlgen", classname="zq",
                                    numeric=numeric, target=target, calibration=X_train), "zq")


@pytest.mark.parametrize("target", TARGETS)
def test_no_suffix_ends_in_another(target):
    found = {}
    for what, header, name in headers_for(target):
        for suffix in suffixes(header, name):
            found.setdefault(suffix, set()).add(what)
    # The golden headers (their names from the include guard): fixtures the corpus may not hold,
    # such as feature names and the compact trees' formats.
    for path in sorted(GOLDEN.glob("*.h")):
        text = path.read_text()
        guard = re.search(r"#ifndef (\w+)_MCUPORT_H", text).group(1)
        for suffix in suffixes(text, guard.lower()):
            found.setdefault(suffix, set()).add(path.name)
    # And what the emitters' sources write, which a corpus model may never reach.
    for suffix, files in source_suffixes().items():
        found.setdefault(suffix, set()).update(files)
    # The corpus reaches every family's symbols (a filter that found nothing would pass).
    for suffix in ("predict", "predict_proba", "sv_coef", "rbf_kernel", "sv_kernel",
                   "class_bias", "component_weight", "component_center", "row_weight",
                   "squared_distance", "stage_weight", "transform", "N_FEATURES", "MCUPORT_H",
                   "leaf_pair", "leaf_pair_at"):
        assert suffix in found, suffix
    clashes = tails(found)
    assert not clashes, "\n".join(
        f"{target}: models named p and p_{long[:-len(short) - 1]} both define p_{long} "
        f"({where_long}; {where_short})" for long, short, where_long, where_short in clashes)


def test_the_sources_are_read():
    found = source_suffixes()
    assert len(found) > 90 and {"leaf_pair", "sv_pair", "row_shift", "N_FEATURES"} <= set(found)
    assert not tails(found)


def test_the_tail_check_finds_a_clash():
    found = {"sv_distance": {"OneClassSVM"}, "distance": {"EllipticEnvelope"},
             "predict": {"both"}, "sv": {"OneClassSVM"}}
    assert [c[:2] for c in tails(found)] == [("sv_distance", "distance")]
    assert suffixes("static int zq_tree_12(void); /* zq_comment */ const char* s = \"zq_x\";\n"
                    "#define ZQ_N_TREES 3\nint zqa_b;", "zq") == {"tree_0", "N_TREES"}


# Models whose names are another's followed by `_` and a word that family puts in front of its
# last word: before the suffixes were tail-free, each of these pairs defined one symbol twice
# (fan_sv_distance, fan_rbf_kernel, pca_component_weight, pca_dequantize_output,
# nb_class_bias). Included in one translation unit, they compile and give their answers.
ONE_UNIT = (
    ("fan", "OneClassSVM(rbf)", "fixed", "fan_sv_distance"),
    ("fan_sv", "EllipticEnvelope", "fixed", "fan_sv_squared_distance"),
    ("fan_rbf", "SVC(rbf)", "float", "fan_rbf_sv_kernel"),
    ("pca", "PCA", "fixed", "pca_component_weight"),
    ("pca_component", "GaussianNB", "float", "pca_component_class_weight"),
    ("pca_dequantize", "PCA(whiten)", "fixed", "pca_dequantize_component_weight"),
    ("nb", "GaussianNB(binary)", "fixed", "nb_class_bias"),
    ("nb_class", "EllipticEnvelope(breast_cancer)", "fixed", "nb_class_row_bias"),
)


def test_models_named_after_each_other_share_one_translation_unit(tmp_path):
    lines = ["#include <stdio.h>"]
    body = []
    expected = []
    for name, kind, numeric, symbol in ONE_UNIT:
        estimator, X_train = fitted(kind)
        header = mcuport.port(estimator, name=name, numeric=numeric, calibration=X_train)
        assert re.search(rf"\b{symbol}\b", code_only(header)), (name, symbol)
        (tmp_path / f"{name}.h").write_text(header)
        lines.append(f'#include "{name}.h"')
        row = split(FAMILIES[kind][1])[1][:1].astype(np.float32)  # the first test row
        values = ", ".join(f"{v!r}f" for v in row[0].tolist())
        P = name.upper()
        body.append(f"    {{\n        const float x[{P}_N_FEATURES] = {{{values}}};\n")
        if numeric == "fixed":
            simulated = mcuport.load(estimator, calibration=X_train)
            body.append(f"        int16_t q[{P}_N_FEATURES];\n        {name}_quantize(x, q);\n")
            codes = simulated.quantize(row)
        if isinstance(estimator, PCA):  # fixed mode: the first output's integer
            body.append(f"        int32_t y[{P}_N_OUTPUTS];\n        {name}_transform(q, y);\n"
                        f'        printf("%ld\\n", (long)y[0]);\n    }}\n')
            expected.append(int(simulated.scores_codes(codes)[0][0]))
        else:  # the class index (iris's labels are 0, 1, 2), or +1/-1
            argument = "q" if numeric == "fixed" else "x"
            body.append(f'        printf("%ld\\n", (long){name}_predict({argument}));\n    }}\n')
            answer = (simulated.predict_codes(codes) if numeric == "fixed"
                      else estimator.predict(row))
            expected.append(int(answer[0]))
    source = "\n".join(lines) + "\nint main(void) {\n" + "".join(body) + "    return 0;\n}\n"
    (tmp_path / "main.c").write_text(source)
    for cc, *std in (("cc", "-std=c99"), *OTHER_COMPILERS):
        done = subprocess.run([cc, *std, *STRICT_FLAGS, "main.c", "-o", "main", "-lm"],
                              cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0, f"{cc}:\n{done.stderr[:3000]}"
        out = subprocess.run([str(tmp_path / "main")], capture_output=True, text=True, check=True)
        assert [int(v) for v in out.stdout.split()] == expected, cc


@pytest.mark.parametrize("name", ["mcuport", "mcuport_fx", "MCUPORT_SIMD32", "McuPort"])
def test_the_runtimes_prefix_is_refused_as_a_name(name):
    estimator, _ = fitted("DecisionTreeClassifier")
    starts = "" if len(name) == 7 else "or starts with "
    with pytest.raises(ValueError, match=rf'the model name "{name}" is {starts}"{name[:7]}": '
                                         r"mcuport and names that start with mcuport_ \(in any "
                                         r"case\) belong to the generated code's shared runtime"):
        mcuport.port(estimator, name=name)


def test_two_models_of_one_name_stop_the_build_where_one_would_vanish(tmp_path):
    """The include guard's value is a hash of the header: the same header included twice is
    skipped the second time; another model's header with the same name, which the guard alone
    would skip in silence (its name's functions then the first model's), is an #error."""
    tree, _ = fitted("DecisionTreeClassifier")
    forest, _ = fitted("RandomForestClassifier")
    (tmp_path / "tree.h").write_text(mcuport.port(tree, name="m"))
    (tmp_path / "tree_again.h").write_text(mcuport.port(tree, name="m"))
    (tmp_path / "tree_m0.h").write_text(mcuport.port(tree, name="m", numeric="float",
                                                     target="cortex-m0"))
    (tmp_path / "forest.h").write_text(mcuport.port(forest, name="m"))
    (tmp_path / "tree_fixed.h").write_text(mcuport.port(tree, name="m", numeric="fixed"))

    def build(*headers):
        includes = "".join(f'#include "{h}"\n' for h in headers)
        (tmp_path / "main.c").write_text(
            includes + "int main(void) {\n    const float x[M_N_FEATURES] = {0};\n"
            "    return (int)m_predict(x);\n}\n")
        return subprocess.run(["cc", "-std=c99", *STRICT_FLAGS, "-c", "main.c"], cwd=tmp_path,
                              capture_output=True, text=True)

    # One model: the same bytes, or the same code written for another target.
    for headers in (("tree.h",), ("tree.h", "tree.h"), ("tree.h", "tree_again.h"),
                    ("tree.h", "tree_m0.h")):
        done = build(*headers)
        assert done.returncode == 0, (headers, done.stderr)
    # A header of an older mcuport, whose guard is defined empty (that guard's value compares as
    # 0, where "!=" without a left operand would not parse).
    old_style = re.sub(r"(#define M_MCUPORT_H) 0x[0-9a-f]{8}\n", r"\1\n",
                       (tmp_path / "tree.h").read_text())
    old_style = re.sub(r"#elif \(M_MCUPORT_H \+ 0\) != 0x[0-9a-f]{8}\n#error [^\n]*\n", "",
                       old_style)
    assert old_style.count("M_MCUPORT_H") == 3  # #ifndef, #define, the #endif's comment
    (tmp_path / "old.h").write_text(old_style)
    # Another model, or the same one in the other numeric mode, or after the older header.
    for headers in (("tree.h", "forest.h"), ("forest.h", "tree.h"), ("tree.h", "tree_fixed.h"),
                    ("old.h", "tree.h")):
        done = build(*headers)
        assert done.returncode != 0, headers
        assert ("another header of a model named m is included in this translation unit: give "
                "each model its own name") in done.stderr, (headers, done.stderr)
    # In two .c files of one program they link together: everything in a header is static.
    for unit, header in (("a", "tree.h"), ("b", "forest.h")):
        (tmp_path / f"{unit}.c").write_text(
            f'#include "{header}"\nint {unit}_class(const float x[]);\n'
            f"int {unit}_class(const float x[]) {{ return (int)m_predict(x); }}\n")
    x_tree = split("iris")[1][:1].astype(np.float32)
    x_forest = split("wine")[1][:1].astype(np.float32)
    rows = "".join(f"    const float {n}[] = {{{', '.join(f'{v!r}f' for v in x[0].tolist())}}};\n"
                   for n, x in (("x_tree", x_tree), ("x_forest", x_forest)))
    (tmp_path / "main.c").write_text(
        "#include <stdio.h>\nint a_class(const float x[]);\nint b_class(const float x[]);\n"
        "int main(void) {\n" + rows +
        '    printf("%d %d\\n", a_class(x_tree), b_class(x_forest));\n    return 0;\n}\n')
    subprocess.run(["cc", "-std=c99", *STRICT_FLAGS, "a.c", "b.c", "main.c", "-o", "two"],
                   cwd=tmp_path, check=True)
    out = subprocess.run([str(tmp_path / "two")], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [str(int(tree.predict(x_tree)[0])),
                                  str(int(forest.predict(x_forest)[0]))]
