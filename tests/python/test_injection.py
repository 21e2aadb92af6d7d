"""Strings from a model (class labels, feature names) are data in every family's header: hostile
ones (quotes, backslashes, comment markers, newlines, preprocessor lines, trigraphs, NUL bytes,
non-ASCII text) come out as escaped string literals, never as code, and the header compiles
warning-free under the strict flags with gcc, clang and as C++."""

from __future__ import annotations

import json
import re

import pytest
from sklearn.covariance import EllipticEnvelope
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, OneClassSVM
from sklearn.tree import DecisionTreeClassifier

import mcuport
from mcuport.host import STRICT_FLAGS, HostModel

from conftest import OTHER_COMPILERS, SEED, split

HOSTILE = [
    'quote " and \\ backslash',
    "*/ int evil_comment; /*",
    "// line comment\n#define evil_define 1",
    "??/ trigraph ??= ??' ??-",
    "nul\x00byte",
    "caf\u00e9 \u2603 \U0001f600",
    "tab\tcarriage\rreturn\x7f\x1b",
    "#include <evil.h>",
]

# What must never appear in the code outside string literals.
FRAGMENTS = ("evil", "??/", "??=", "??'", "??-", "caf", "\x00")

FAMILIES = {
    "DecisionTreeClassifier": (lambda: DecisionTreeClassifier(max_depth=4, random_state=SEED),
                               "iris"),
    "RandomForestClassifier": (
        lambda: RandomForestClassifier(n_estimators=3, max_depth=3, random_state=SEED), "wine"),
    "RandomForestRegressor": (
        lambda: RandomForestRegressor(n_estimators=3, max_depth=3, random_state=SEED),
        "diabetes"),
    "SVC(rbf)": (lambda: SVC(), "iris"),
    "SVC(linear, binary)": (lambda: SVC(kernel="linear"), "breast_cancer"),
    "OneClassSVM": (lambda: OneClassSVM(nu=0.2), "iris"),
    "GaussianNB": (lambda: GaussianNB(), "wine"),
    "PCA": (lambda: PCA(n_components=3, random_state=SEED), "wine"),
    "EllipticEnvelope": (lambda: EllipticEnvelope(random_state=SEED), "iris"),
    "Pipeline(StandardScaler, PCA, GaussianNB)": (
        lambda: make_pipeline(StandardScaler(), PCA(n_components=4, random_state=SEED),
                              GaussianNB()), "wine"),
}

LITERAL = re.compile(r'"(?:[^"\\\n]|\\.)*"')


def decode_literal(text: str) -> bytes:
    """The bytes of one C string literal as the generator writes them (printable ASCII and
    three-digit octal escapes; the fixed runtime's AVR assembly text also has \\n, \\t and
    \\\\)."""
    body = text[1:-1]
    out = bytearray()
    i = 0
    simple = {"n": 0x0A, "t": 0x09, "\\": 0x5C}
    while i < len(body):
        if body[i] == "\\" and body[i + 1] in simple:
            out.append(simple[body[i + 1]])
            i += 2
        elif body[i] == "\\":
            assert re.fullmatch(r"[0-7]{3}", body[i + 1:i + 4]), body[i:i + 4]
            out.append(int(body[i + 1:i + 4], 8))
            i += 4
        else:
            out.append(ord(body[i]))
            i += 1
    return bytes(out)


def fit_family(kind):
    """FAMILIES[kind] fitted on its data set's training split: (estimator, X_train)."""
    factory, dataset = FAMILIES[kind]
    X_train, _, y_train, _ = split(dataset)
    estimator = factory()
    if isinstance(estimator, (OneClassSVM, EllipticEnvelope, PCA)):
        estimator.fit(X_train)
    else:
        estimator.fit(X_train, y_train)
    return estimator, X_train


def hostile_document(kind):
    estimator, X_train = fit_family(kind)
    document = json.loads(mcuport.to_json(estimator, calibration=X_train))
    document["feature_names"] = [f"{HOSTILE[f % len(HOSTILE)]} {f}"
                                 for f in range(document["n_features"])]
    if "classes" in document:
        document["classes"] = [f"{HOSTILE[c % len(HOSTILE)]} {c}"
                               for c in range(len(document["classes"]))]
    return document


@pytest.mark.parametrize("numeric", ["float", "fixed"])
@pytest.mark.parametrize("kind", FAMILIES)
def test_hostile_strings_stay_data_in_every_family(kind, numeric, tmp_path):
    document = hostile_document(kind)
    generated = mcuport.generate(json.dumps(document), name="m", numeric=numeric)
    code = generated.header
    assert all(ch == "\n" or 0x20 <= ord(ch) < 0x7F for ch in code), "raw byte in the header"
    outside = LITERAL.sub('""', code)
    for fragment in FRAGMENTS:
        assert fragment not in outside, fragment
    # Every string the model carried is in the header as a literal, byte for byte.
    literals = {decode_literal(m.group(0)) for m in LITERAL.finditer(code)}
    strings = document["feature_names"] + document.get("classes", [])
    for text in strings:
        assert text.encode() in literals, text
    for i, (cc, *std) in enumerate((("gcc", "-std=c99"), *OTHER_COMPILERS)):
        with HostModel(generated, cc=cc, cflags=(*std, *STRICT_FLAGS),
                       workdir=tmp_path / f"cc{i}") as model:
            if "classes" in document and i == 0:
                # The C API returns each label up to its first NUL, as C strings go.
                expected = [c.encode().split(b"\x00")[0] for c in document["classes"]]
                assert model.labels()[1:1 + len(expected)] == expected
