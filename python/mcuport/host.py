"""Run generated C on this machine: compile a header with the host C compiler and feed it arrays.

This is how the quickstart and the end-to-end tests check generated code against scikit-learn,
and how you can see what the firmware will answer before flashing it::

    g = mcuport.generate(clf, numeric="fixed", calibration=X_train)
    with HostModel(g) as model:
        codes, seen = model.quantize(X_test)    # int16 inputs and the float32 they stand for
        classes, proba = model.run(codes)       # what the generated code answers

The header is compiled with the strict flags the generated code promises to pass (C99, all
warnings as errors); a warning is a bug in mcuport, reported as a CompileError.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Optional, Sequence, Tuple

import numpy as np

from ._port import Generated

STRICT_FLAGS = (
    "-Wall",
    "-Wextra",
    "-Wpedantic",
    "-Wconversion",
    "-Wshadow",
    "-Werror",
)

_DRIVER = r"""
/* Host driver for a generated mcuport header: binary rows on stdin, binary results on stdout. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "model.h"

#if @P@_FIXED_POINT
typedef int16_t input_t;
#else
typedef float input_t;
#endif

static int predict_rows(void) {
    input_t x[@P@_N_FEATURES];
    while (fread(x, sizeof x, 1, stdin) == 1) {
#if @has_predict@
        const @predict_t@ y = @p@_predict(x);
        if (fwrite(&y, sizeof y, 1, stdout) != 1) {
            return 1;
        }
#endif
#if @n_scores@ > 0
        {
            @score_t@ scores[@n_scores@ > 0 ? @n_scores@ : 1];
#if @scores_scalar@
            scores[0] = @scores_function@(x);
#else
            @scores_function@(x, scores);
#endif
            if (fwrite(scores, sizeof scores, 1, stdout) != 1) {
                return 1;
            }
        }
#endif
    }
    return 0;
}

static int quantize_rows(void) {
#if @P@_FIXED_POINT
    float x[@P@_N_FEATURES];
    int16_t xq[@P@_N_FEATURES];
    float seen[@P@_N_FEATURES];
    while (fread(x, sizeof x, 1, stdin) == 1) {
        @p@_quantize(x, xq);
        @p@_dequantize(xq, seen);
        if (fwrite(xq, sizeof xq, 1, stdout) != 1 || fwrite(seen, sizeof seen, 1, stdout) != 1) {
            return 1;
        }
    }
    return 0;
#else
    return 2;
#endif
}

/* Labels as hex bytes, one line each, from index -1 to N_CLASSES: "-" stands for NULL. */
static int labels(void) {
#ifdef @P@_N_CLASSES
    int32_t i;
    for (i = -1; i <= @P@_N_CLASSES; ++i) {
        const char *label = @p@_label(i);
        if (label == NULL) {
            printf("-\n");
        } else {
            const unsigned char *c;
            for (c = (const unsigned char *)label; *c != 0u; ++c) {
                printf("%02x", (unsigned)*c);
            }
            printf("\n");
        }
    }
#endif
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "predict") == 0) return predict_rows();
    if (argc == 2 && strcmp(argv[1], "quantize") == 0) return quantize_rows();
    if (argc == 2 && strcmp(argv[1], "labels") == 0) return labels();
    return 2;
}
"""


_C_TYPES = {"float": np.float32, "int32_t": np.int32, "int64_t": np.int64}


class CompileError(RuntimeError):
    """The host compiler rejected a generated header (with mcuport's strict flags)."""


def find_compiler() -> str:
    """The host C compiler: $CC, else cc, gcc or clang."""
    for candidate in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if candidate and shutil.which(candidate.split()[0]):
            return candidate
    raise CompileError("no host C compiler found: install gcc or clang, or set CC")


class HostModel:
    """A generated header compiled for this machine, callable on whole arrays.

    ``timeout``: the seconds the compiler, and each call of the compiled driver, may take (a
    :class:`CompileError` or a ``RuntimeError`` beyond it), so that code that never returns
    fails instead of hanging its caller."""

    def __init__(
        self,
        generated: Generated,
        *,
        cc: Optional[str] = None,
        cflags: Sequence[str] = ("-std=c99", "-O1", *STRICT_FLAGS),
        libs: Sequence[str] = ("-lm",),
        workdir: Optional[os.PathLike] = None,
        timeout: float = 600.0,
    ) -> None:
        self.generated = generated
        self.timeout = timeout
        self._tmp = None if workdir is not None else tempfile.TemporaryDirectory(prefix="mcuport-")
        self.workdir = Path(workdir if workdir is not None else self._tmp.name)
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "model.h").write_text(generated.header)
        name = generated.name
        driver = _DRIVER
        for key, value in (
            ("@p@", name),
            ("@P@", name.upper()),
            ("@has_predict@", "1" if generated.predict_type else "0"),
            ("@predict_t@", generated.predict_type or "int32_t"),
            ("@scores_scalar@", "1" if generated.scores_scalar else "0"),
            ("@scores_function@", generated.scores_function or "(void)"),
            ("@n_scores@", str(generated.n_scores)),
            ("@score_t@", generated.score_type or "float"),
        ):
            driver = driver.replace(key, value)
        source = self.workdir / "driver.c"
        source.write_text(driver)
        self.binary = self.workdir / "driver"
        compiler = cc if cc is not None else find_compiler()
        command = [*compiler.split(), *cflags, str(source), "-o", str(self.binary), *libs]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise CompileError(f"{' '.join(command)} took more than {timeout:g} s") from None
        if done.returncode != 0:
            raise CompileError(f"{' '.join(command)} failed:\n{done.stderr}")

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> "HostModel":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def fixed(self) -> bool:
        return self.generated.numeric == "fixed"

    def _call(self, op: str, data: bytes) -> bytes:
        try:
            done = subprocess.run([str(self.binary), op], input=data, capture_output=True,
                                  timeout=self.timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"generated code driver ({op}) did not finish within "
                               f"{self.timeout:g} s") from None
        if done.returncode != 0:
            raise RuntimeError(f"generated code driver failed ({op}): exit {done.returncode}")
        return done.stdout

    def run(self, inputs: np.ndarray) -> Tuple[np.ndarray, Optional[np.ndarray]]:
        """Predict on raw inputs (float32 rows in float mode, int16 codes in fixed mode).

        Returns ``(predictions, scores)``. Predictions are class indices for classifiers, +1/-1
        for outlier detectors, values for regressors (float32, or int32 codes on the
        OUTPUT_FRAC_BITS scale), or None for models without predict (PCA's transform, a
        distance). Scores are the model's score vector per row (see
        ``Generated.scores_function``: PCA's outputs, a Mahalanobis model's squared distance in
        column 0), or None when it has none.
        """
        dtype = np.int16 if self.fixed else np.float32
        rows = np.ascontiguousarray(inputs, dtype=dtype)
        n_features = self.generated.n_features
        if rows.ndim != 2 or rows.shape[1] != n_features:
            raise ValueError(f"inputs must have shape (n, {n_features}), got {rows.shape}")
        out = self._call("predict", rows.tobytes())
        fields = []
        if self.generated.predict_type:
            fields.append(("y", _C_TYPES[self.generated.predict_type]))
        if self.generated.n_scores:
            fields.append(("scores", _C_TYPES[self.generated.score_type], (self.generated.n_scores,)))
        result = np.frombuffer(out, dtype=np.dtype(fields), count=rows.shape[0])
        scores = result["scores"].copy() if self.generated.n_scores else None
        y = result["y"].copy() if self.generated.predict_type else None
        return y, scores

    def quantize(self, X: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Fixed mode: the generated quantize() on float rows; returns (int16 codes, the float32
        values that the codes stand for, from the generated dequantize())."""
        if not self.fixed:
            raise ValueError("quantize() needs a fixed-mode model")
        rows = np.ascontiguousarray(X, dtype=np.float32)
        k = self.generated.n_features
        # The driver reads k floats per row: rows of another width would be read misaligned.
        if rows.ndim != 2 or rows.shape[1] != k:
            raise ValueError(f"X must have shape (n, {k}), got {rows.shape}")
        out = self._call("quantize", rows.tobytes())
        record = np.dtype([("codes", np.int16, (k,)), ("seen", np.float32, (k,))])
        result = np.frombuffer(out, dtype=record, count=rows.shape[0])
        return result["codes"].copy(), result["seen"].copy()

    def labels(self) -> list:
        """m_label(i) for i = -1 .. N_CLASSES, as bytes (None where it returns NULL)."""
        lines = self._call("labels", b"").decode().splitlines()
        return [None if line == "-" else bytes.fromhex(line) for line in lines]
